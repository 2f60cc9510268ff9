// runtime/inject.h: the injection queue: runnable actors handed to the
// workers by other threads (and actors yielded after a full batch).
#ifndef CASTY_RUNTIME_INJECT_H
#define CASTY_RUNTIME_INJECT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

/** cst_inject_node links a cell into the queue (see cell.h). */
typedef struct cst_inject_node {
	struct cst_inject_node *_Atomic next;
} cst_inject_node;

typedef struct cst_inject {
	// Producers exchange.
	alignas(64) cst_inject_node *_Atomic head;
	// The consumer of the moment (whoever holds `consumer`).
	alignas(64) cst_inject_node *tail;
	cst_inject_node  stub;
	pthread_mutex_t  consumer; // only ever try-locked: nobody waits on it
	_Atomic uint32_t len;      // pushed and not yet popped
} cst_inject;

void cst_inject_init(cst_inject *q);
void cst_inject_fini(cst_inject *q);

/** cst_inject_push appends node. Lock-free, never blocks. Thread: any. */
void cst_inject_push(cst_inject *q, cst_inject_node *node);

/**
 * cst_inject_pop removes the oldest node, or returns NULL when the queue
 * is empty, a push is half done, or another worker is popping right now
 * (it does not wait for it). Thread: any worker.
 */
cst_inject_node *cst_inject_pop(cst_inject *q);

/** cst_inject_len: how many nodes are queued; a hint. Thread: any. */
static inline uint32_t
cst_inject_len(cst_inject *q, memory_order order)
{
	return atomic_load_explicit(&q->len, order);
}

#endif // CASTY_RUNTIME_INJECT_H
