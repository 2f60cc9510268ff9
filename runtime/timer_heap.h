// runtime/timer_heap.h: a binary min-heap of deadlines, for the reactor's
// timers. Each node knows its index, so removing any node is O(log n).
#ifndef CASTY_RUNTIME_TIMER_HEAP_H
#define CASTY_RUNTIME_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CST_TIMER_NOT_QUEUED UINT32_MAX

/**
 * cst_timer_node is embedded in whatever a deadline belongs to. The
 * owner sets deadline before insert and reads index to know whether the
 * node is queued (CST_TIMER_NOT_QUEUED when not); the heap writes index
 * and seq.
 */
typedef struct cst_timer_node {
	int64_t  deadline; // CLOCK_MONOTONIC nanoseconds
	uint32_t index;    // position in the heap, or CST_TIMER_NOT_QUEUED
	uint32_t seq;      // insertion order, breaks ties between deadlines
} cst_timer_node;

/**
 * cst_timer_heap orders nodes by (deadline, insertion order), so equal
 * deadlines pop in the order they were inserted. It does not own the
 * nodes. Thread: single (the reactor).
 */
typedef struct cst_timer_heap {
	cst_timer_node **nodes;
	uint32_t         len, cap;
	uint32_t         next_seq;
} cst_timer_heap;

/** cst_timer_heap_init makes an empty heap. */
void cst_timer_heap_init(cst_timer_heap *h);

/** cst_timer_heap_fini frees the array; queued nodes are forgotten. */
void cst_timer_heap_fini(cst_timer_heap *h);

/**
 * cst_timer_heap_insert queues node, which must not be queued, at
 * node->deadline. Aborts on out-of-memory (the reactor has nobody to
 * report it to).
 */
void cst_timer_heap_insert(cst_timer_heap *h, cst_timer_node *node);

/** cst_timer_heap_remove unqueues node; a no-op if it is not queued. */
void cst_timer_heap_remove(cst_timer_heap *h, cst_timer_node *node);

/** cst_timer_heap_peek returns the earliest node, or NULL when empty. */
static inline cst_timer_node *
cst_timer_heap_peek(const cst_timer_heap *h)
{
	return h->len > 0 ? h->nodes[0] : NULL;
}

/** cst_timer_heap_pop removes and returns the earliest node, or NULL. */
cst_timer_node *cst_timer_heap_pop(cst_timer_heap *h);

/** cst_timer_heap_len returns how many nodes are queued. */
static inline uint32_t
cst_timer_heap_len(const cst_timer_heap *h)
{
	return h->len;
}

#endif // CASTY_RUNTIME_TIMER_HEAP_H
