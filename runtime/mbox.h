// runtime/mbox.h: the actor mailbox, an intrusive MPSC queue whose empty
// mark doubles as the actor's schedule state (see mbox.c).
#ifndef CASTY_RUNTIME_MBOX_H
#define CASTY_RUNTIME_MBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <casty/msg.h>

typedef struct casty_msg_link cst_mbox_node;

typedef struct cst_mbox {
	// Producers exchange; bit 0 set means "empty and not scheduled".
	_Atomic uintptr_t head;
	// Consumer only: the last node handed out (or the stub).
	cst_mbox_node *tail;
	cst_mbox_node  stub;
} cst_mbox;

/** cst_mbox_init makes an empty, unscheduled mailbox. Thread: single. */
void cst_mbox_init(cst_mbox *mb);

/**
 * cst_mbox_push appends node and returns true when the mailbox was marked
 * empty: the caller then owns scheduling the actor. Thread: any.
 */
bool cst_mbox_push(cst_mbox *mb, cst_mbox_node *node);

/**
 * cst_mbox_push_chain appends the nodes first..last, already linked in
 * order (last->next NULL), with one exchange, and returns as cst_mbox_push.
 * Thread: any.
 */
bool cst_mbox_push_chain(
	cst_mbox *mb, cst_mbox_node *first, cst_mbox_node *last);

/**
 * cst_mbox_pop returns the next node or NULL when none is visible yet.
 * The node returned stays the queue's tail until the next pop, which
 * hands the previous one back through *released (NULL when it is the
 * stub) for the caller to free. Thread: the consumer.
 */
cst_mbox_node *cst_mbox_pop(cst_mbox *mb, cst_mbox_node **released);

/**
 * cst_mbox_mark_empty marks an empty mailbox unscheduled and returns
 * true, or returns false when a push has begun: the caller must then keep
 * the actor scheduled. Thread: the consumer.
 */
bool cst_mbox_mark_empty(cst_mbox *mb);

/**
 * cst_mbox_has_next tells whether pop would return a node now.
 * Thread: the consumer.
 */
static inline bool
cst_mbox_has_next(cst_mbox *mb)
{
	// Acquire: as in cst_mbox_pop, which this predicts.
	return atomic_load_explicit(&mb->tail->next, memory_order_acquire) !=
	       NULL;
}

/**
 * cst_mbox_tail_to_free returns the node the queue still holds as its
 * tail (NULL for the stub), for teardown. Thread: single.
 */
cst_mbox_node *cst_mbox_tail_to_free(cst_mbox *mb);

#endif // CASTY_RUNTIME_MBOX_H
