// runtime/inject.c: the injection queue, Vyukov's intrusive MPSC queue
// with a stub, the consumer role taken with a try-lock.
//
// Roles: cst_inject_push from any thread, lock-free (one exchange), so a
//   tell from outside the runtime never waits for anyone; cst_inject_pop
//   from workers, one at a time: the consumer role is a mutex that is
//   only try-locked, so a worker that finds it taken moves on (to steal,
//   or to look again later) instead of waiting.
// Linearisation: a push takes effect at its exchange, but pop sees it
//   only after the store to prev->next; NULL from pop is "nothing visible
//   now". `len` is raised after the link, so a reader that sees it
//   non-zero (parking's re-check, seq_cst) will find the node linked.
// Memory: nodes are cells (type-stable, see cell.h). The stub is
//   re-queued only when the consumer has moved past it, so no node is in
//   the queue twice; no CAS, so no ABA.
// Tested by: tests/runtime/test_sched.c (outside threads and yields) and
//   tests/runtime/test_inject.c under TSan.
#include "runtime/inject.h"

void
cst_inject_init(cst_inject *q)
{
	atomic_init(&q->stub.next, NULL);
	atomic_init(&q->head, &q->stub);
	q->tail = &q->stub;
	atomic_init(&q->len, 0);
	pthread_mutex_init(&q->consumer, NULL);
}

void
cst_inject_fini(cst_inject *q)
{
	pthread_mutex_destroy(&q->consumer);
}

static void
link_in(cst_inject *q, cst_inject_node *node)
{
	// Relaxed: published by the release exchange.
	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
	// acq_rel: release publishes the node (and the cell behind it);
	// acquire orders us after the producer we link behind.
	cst_inject_node *prev =
		atomic_exchange_explicit(&q->head, node, memory_order_acq_rel);
	// Release: pairs with the acquire loads of ->next in pop.
	atomic_store_explicit(&prev->next, node, memory_order_release);
}

void
cst_inject_push(cst_inject *q, cst_inject_node *node)
{
	link_in(q, node);
	// seq_cst: read by parking workers after they announce themselves
	// (see sched.c); raised only once the node is linked.
	atomic_fetch_add_explicit(&q->len, 1, memory_order_seq_cst);
}

static cst_inject_node *
pop_locked(cst_inject *q)
{
	cst_inject_node *tail = q->tail;
	// Acquire: pairs with the release store of ->next in link_in.
	cst_inject_node *next =
		atomic_load_explicit(&tail->next, memory_order_acquire);

	if (tail == &q->stub) { // the stub is never handed out
		if (next == NULL) {
			return NULL;
		}
		q->tail = tail = next;
		next = atomic_load_explicit(&tail->next, memory_order_acquire);
	}
	if (next != NULL) {
		q->tail = next;
		return tail;
	}
	// tail is the last linked node. Relaxed suffices: we acquired the
	// link to tail, so this load reads tail or a newer head.
	if (tail != atomic_load_explicit(&q->head, memory_order_relaxed)) {
		return NULL; // a producer is between its exchange and its link
	}
	link_in(q, &q->stub); // re-queue the stub behind tail
	next = atomic_load_explicit(&tail->next, memory_order_acquire);
	if (next != NULL) {
		q->tail = next;
		return tail;
	}
	return NULL;
}

cst_inject_node *
cst_inject_pop(cst_inject *q)
{
	// Relaxed: a hint; a stale zero only delays the pop (parking
	// re-checks with seq_cst).
	if (atomic_load_explicit(&q->len, memory_order_relaxed) == 0 ||
	    pthread_mutex_trylock(&q->consumer) != 0) {
		return NULL;
	}
	cst_inject_node *node = pop_locked(q);
	pthread_mutex_unlock(&q->consumer);
	if (node != NULL) {
		// Relaxed: a count; the node itself was acquired above.
		atomic_fetch_sub_explicit(&q->len, 1, memory_order_relaxed);
	}
	return node;
}
