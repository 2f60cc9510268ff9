// runtime/ask.c: casty_ask from threads outside the runtime.
//
// The reply target is a promise cell from the same slab as actors, so
// the reply ref is an ordinary ref and a late reply is an ordinary dead
// letter. Its slot holds (gen << 1 | 1) while it waits for the reply to
// incarnation gen; the first reply CASes its envelope in (envelopes are
// aligned, so the low bit tells the two apart). The asker then closes the
// slot (0), grows the generation and releases the cell. A late reply
// either fails the generation check in cst_deliver or fails the CAS,
// since the slot never again holds this incarnation's waiting value, and
// becomes a dead letter: nothing leaks, nothing reaches a later ask.
//
// The asker spins briefly on the slot, then sleeps on the futex word
// `signal` after announcing it (SIG_SLEEPING); the replier exchanges in
// SIG_REPLIED and makes the wake-up syscall only when it finds the asker
// asleep. A replier delayed past its ask may still signal a reused cell;
// the asker therefore decides by the slot alone, and a signal that does
// not go with a reply only costs it one more look.
// Tested by: tests/runtime/test_ask.c.
#include "runtime/ask.h"

#include <errno.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/park.h"
#include "runtime/remote.h"
#include "runtime/sched.h"
#include "runtime/system.h"

// The futex word: nobody asleep, a reply has come, the asker sleeps.
enum { SIG_IDLE, SIG_REPLIED, SIG_SLEEPING };

// About 20-50 us of pause instructions before the asker sleeps.
#define ASK_SPINS 2000

static uintptr_t
waiting(uint32_t gen)
{
	return ((uintptr_t)gen << 1) | 1;
}

void
cst_promise_complete(casty_cell *cell, casty_msg *msg)
{
	uintptr_t   expect = waiting(msg->target_gen);
	cst_worker *w = cst_tls_worker;

	// The asker may act on the reply at once: what the handler sent
	// before replying must be in its targets' mailboxes by then.
	if (w != NULL && w->outbox.nopen != 0) {
		cst_outbox_flush(&w->outbox);
	}

	// Release: the asker's acquire load of the slot sees the payload.
	if (atomic_compare_exchange_strong_explicit(&cell->promise.slot,
		    &expect, (uintptr_t)msg, memory_order_release,
		    memory_order_relaxed)) {
		// acq_rel: release pairs with the asker's CAS of signal; the
		// syscall is paid only when the asker has gone to sleep.
		if (atomic_exchange_explicit(&cell->promise.signal, SIG_REPLIED,
			    memory_order_acq_rel) == SIG_SLEEPING) {
			cst_futex_wake(&cell->promise.signal, 1);
		}
		return;
	}
	cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
	cst_msg_free(msg);
}

// Ends the promise's incarnation and returns what its slot held.
static uintptr_t
close_promise(casty_cell *p)
{
	// Acquire: as in the wait; closing the slot makes any later CAS fail.
	uintptr_t s = atomic_exchange_explicit(
		&p->promise.slot, 0, memory_order_acquire);
	// Release: pairs with the acquire load of gen in cst_deliver.
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	cst_cell_release(p);
	return s;
}

// The request, with the promise's ref as its reply_to.
static int
ask_local(casty_ref to, const casty_msg_type *type, unsigned tag,
	const void *payload, size_t reply_offset, casty_ref me)
{
	casty_msg *req = cst_msg_new(type, tag, payload, to.gen);
	memcpy(req->payload + reply_offset, &me, sizeof me);
	return cst_deliver(to.cell, req);
}

static int
ask_remote(casty_ref to, const casty_msg_type *type, const void *payload,
	size_t reply_offset, casty_ref me)
{
	// A node outside the cluster would never answer: say so now, not
	// after the whole timeout.
	int rc = cst_remote_check(to);
	if (rc != CASTY_OK) {
		return rc;
	}
	unsigned char *req = cst_alloc(type->size);
	if (req == NULL) {
		return -ENOMEM;
	}
	memcpy(req, payload, type->size);
	memcpy(req + reply_offset, &me, sizeof me);
	rc = cst_remote_tell(to, type, req);
	cst_free_sized(req, type->size);
	return rc;
}

int
casty_ask_msg(casty_system *sys, casty_ref to, const casty_msg_type *type,
	unsigned tag, const void *payload, size_t reply_offset,
	int64_t timeout_ms, casty_msg **reply)
{
	if (sys == NULL || type == NULL || payload == NULL || reply == NULL ||
	    timeout_ms < 0 || (type->flags & CASTY_MSG_SYSTEM) ||
	    reply_offset + sizeof(casty_ref) > type->size) {
		return -EINVAL;
	}
	if (cst_tls_worker != NULL) {
		return -EDEADLK; // a handler must not block its worker
	}
	if (to.cell == NULL || (to.node == 0 && to.cell->sys != sys)) {
		return CASTY_ENOREF;
	}
	if (atomic_load_explicit(&sys->state, memory_order_relaxed) ==
	    CST_SYS_TERMINATED) {
		return CASTY_ESTOPPED;
	}

	casty_cell *p = cst_cell_alloc(sys, CST_CELL_PROMISE);
	casty_ref   me = cst_cell_ref(p);
	// Relaxed: published to repliers by the mailbox push of the request
	// (or, to a remote actor, by the transport's queue to the reactor,
	// the thread that later delivers the reply).
	atomic_store_explicit(&p->promise.slot, waiting(me.gen),
		memory_order_relaxed);
	atomic_store_explicit(&p->promise.signal, SIG_IDLE, memory_order_relaxed);

	int rc = to.node != 0 ? ask_remote(to, type, payload, reply_offset, me)
			     : ask_local(to, type, tag, payload, reply_offset, me);
	if (rc != CASTY_OK) { // a full backpressure mailbox
		close_promise(p);
		return rc;
	}

	// Spin a little first: a reply within microseconds then costs no
	// sleep and no wake-up syscall on either side.
	for (int i = 0; i < ASK_SPINS; i++) {
		// Acquire: pairs with the release CAS of the replier.
		if ((atomic_load_explicit(&p->promise.slot,
			     memory_order_acquire) &
			    1) == 0) {
			break;
		}
		cst_cpu_relax();
	}
	int64_t deadline = cst_now_ns() + timeout_ms * 1000000;
	for (;;) {
		// Acquire: pairs with the release CAS of the replier.
		uintptr_t s = atomic_load_explicit(
			&p->promise.slot, memory_order_acquire);
		int64_t left = deadline - cst_now_ns();
		if ((s & 1) == 0 || left <= 0) {
			break;
		}
		uint32_t idle = SIG_IDLE;
		// acq_rel: announces the sleep to the replier's exchange; a
		// failure means a reply (perhaps a late one for an earlier ask
		// on this cell) has signalled: clear it and re-read the slot.
		if (!atomic_compare_exchange_strong_explicit(&p->promise.signal,
			    &idle, SIG_SLEEPING, memory_order_acq_rel,
			    memory_order_acquire)) {
			// Acquire, and an exchange: a real reply's signal that
			// lands just before this must be read (and its slot seen),
			// not overwritten unseen.
			atomic_exchange_explicit(&p->promise.signal, SIG_IDLE,
				memory_order_acquire);
			continue;
		}
		cst_futex_wait(&p->promise.signal, SIG_SLEEPING, left);
		// Relaxed: only this thread sets SIG_SLEEPING; the slot load
		// above decides.
		uint32_t sleeping = SIG_SLEEPING;
		atomic_compare_exchange_strong_explicit(&p->promise.signal,
			&sleeping, SIG_IDLE, memory_order_relaxed,
			memory_order_relaxed);
	}
	uintptr_t s = close_promise(p);
	if ((s & 1) == 0 && s != 0) {
		*reply = (casty_msg *)s;
		return CASTY_OK;
	}
	return -ETIMEDOUT;
}
