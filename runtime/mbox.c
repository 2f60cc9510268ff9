// runtime/mbox.c: the actor mailbox, Vyukov's intrusive MPSC queue with
// Pony's "empty mark" on the head pointer (libponyrt messageq.c).
//
// Roles: cst_mbox_push and push_chain from any thread (a chain is several
//   nodes linked by one producer, appended with one exchange); pop and
//   mark_empty only from the
//   worker running the owning actor (the mark guarantees one at a time).
// Shape: nodes link through ->next. Producers exchange into head; the
//   consumer follows tail->next. The node last handed out stays the tail
//   (it is the queue's stub from then on) and is released by the next
//   pop, so an idle queue needs no stub of its own and no re-queue.
// Schedule state: bit 0 of head set means "empty, nobody runs the actor".
//   The consumer sets it with a CAS when head == tail; the producer whose
//   exchange returns a marked head made the mailbox non-empty and must
//   schedule the actor. So an actor is scheduled exactly once per
//   empty -> non-empty transition, with one atomic RMW per push and one
//   per idle transition.
// Linearisation: a push takes effect at its exchange, but pop sees it
//   only after the store to prev->next. NULL from pop means "nothing
//   visible yet", not "no push in flight"; mark_empty fails in that case
//   (head != tail) and the caller keeps the actor scheduled.
// Memory: no allocation. No CAS on links, so no ABA; the one CAS compares
//   head with the consumer's own tail, which only the consumer replaces.
// Tested by: tests/runtime/test_mbox.c (suite mbox_stress) under TSan.
#include "runtime/mbox.h"

#define EMPTY_MARK ((uintptr_t)1)

void
cst_mbox_init(cst_mbox *mb)
{
	atomic_init(&mb->stub.next, NULL);
	mb->tail = &mb->stub;
	atomic_init(&mb->head, (uintptr_t)&mb->stub | EMPTY_MARK);
}

bool
cst_mbox_push(cst_mbox *mb, cst_mbox_node *node)
{
	// Relaxed: published by the release exchange in push_chain.
	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
	return cst_mbox_push_chain(mb, node, node);
}

bool
cst_mbox_push_chain(cst_mbox *mb, cst_mbox_node *first, cst_mbox_node *last)
{
	// acq_rel: release publishes the chain (its links and payloads,
	// written before) to the next producer that links behind it;
	// acquire pairs with the consumer's release CAS in mark_empty, so
	// the producer that sees the mark also sees everything the last run
	// of the actor wrote.
	uintptr_t prev = atomic_exchange_explicit(
		&mb->head, (uintptr_t)last, memory_order_acq_rel);
	cst_mbox_node *p = (cst_mbox_node *)(prev & ~EMPTY_MARK);

	// Release: pairs with the acquire load of ->next in cst_mbox_pop, so
	// a consumer that reaches first also sees the chain behind it.
	atomic_store_explicit(&p->next, first, memory_order_release);
	return (prev & EMPTY_MARK) != 0;
}

cst_mbox_node *
cst_mbox_pop(cst_mbox *mb, cst_mbox_node **released)
{
	cst_mbox_node *tail = mb->tail;
	// Acquire: pairs with the release store of ->next in push.
	cst_mbox_node *next =
		atomic_load_explicit(&tail->next, memory_order_acquire);

	*released = NULL;
	if (next == NULL) {
		return NULL;
	}
	mb->tail = next;
	if (tail != &mb->stub) {
		*released = tail;
	}
	return next;
}

bool
cst_mbox_mark_empty(cst_mbox *mb)
{
	uintptr_t tail = (uintptr_t)mb->tail;
	// Relaxed: a stale value only makes the CAS below fail, and the CAS
	// itself reads the current head.
	uintptr_t head = atomic_load_explicit(&mb->head, memory_order_relaxed);

	if (head & EMPTY_MARK) {
		return true;
	}
	if (head != tail) {
		return false;
	}
	// Release on success: the producer that next exchanges head (acquire)
	// sees the mark and every write of this run; it schedules the actor.
	// Acquire is not needed on failure: we only learn a push began.
	return atomic_compare_exchange_strong_explicit(&mb->head, &head,
		tail | EMPTY_MARK, memory_order_release, memory_order_relaxed);
}

cst_mbox_node *
cst_mbox_tail_to_free(cst_mbox *mb)
{
	return mb->tail == &mb->stub ? NULL : mb->tail;
}
