// runtime/reactor.h: the reactor: one thread per system that owns one
// io_uring. Other threads hand it requests; it runs them in submission
// order, submits what they prepare, calls back on completions and fires
// deadlines. Reactor code never runs actor code: what it learns goes back
// to the actors as messages (cst_deliver).
#ifndef CASTY_RUNTIME_REACTOR_H
#define CASTY_RUNTIME_REACTOR_H

#include <stdint.h>

#include "runtime/inject.h"
#include "runtime/timer_heap.h"

struct io_uring_sqe;

typedef struct cst_reactor cst_reactor;

/**
 * cst_reactor_req is one request to the reactor thread, embedded in
 * whatever the submitter allocates. run is called once, on the reactor
 * thread; from then on the request is run's again (free it, or submit it
 * anew).
 */
typedef struct cst_reactor_req {
	cst_inject_node link; // in the reactor's queue while submitted
	void (*run)(cst_reactor *r, struct cst_reactor_req *req);
} cst_reactor_req;

/**
 * cst_reactor_completion is what an SQE's user_data points at: done is
 * called on the reactor thread with the CQE's res and flags (several
 * times for a multishot operation, while IORING_CQE_F_MORE is set).
 */
typedef struct cst_reactor_completion {
	void (*done)(cst_reactor *r, struct cst_reactor_completion *c,
		int res, uint32_t cqe_flags);
} cst_reactor_completion;

/**
 * cst_reactor_timer is one deadline on the reactor: fire is called on
 * the reactor thread once node.deadline (CLOCK_MONOTONIC ns, see
 * cst_now_ns) has passed; it may arm the timer again.
 */
typedef struct cst_reactor_timer {
	cst_timer_node node;
	void (*fire)(cst_reactor *r, struct cst_reactor_timer *t, int64_t now);
} cst_reactor_timer;

/**
 * cst_reactor_create sets up the ring and the wake-up eventfd and starts
 * the thread. user is kept for the callbacks (cst_reactor_user). Returns
 * 0 with *out set, or a negated errno with nothing left behind: the error
 * of io_uring_queue_init (then one line on stderr names io_uring and the
 * error), of eventfd, of pthread_create, or -ENOMEM. Thread: any.
 */
int cst_reactor_create(void *user, cst_reactor **out);

/**
 * cst_reactor_destroy stops and joins the thread, runs the requests still
 * queued (on the calling thread, in order), then closes the ring and
 * frees the reactor. Armed timers are forgotten, not fired, and
 * operations still in flight never complete: their owners free them.
 * Nothing may be submitted once it has begun. Thread: not the reactor.
 * Blocks: until the thread has left its loop.
 */
void cst_reactor_destroy(cst_reactor *r);

/**
 * cst_reactor_submit queues req for the reactor thread, which runs the
 * requests in queue order: the requests of one thread run in the order
 * it submitted them. Lock-free; wakes the reactor only when it is idle.
 * Thread: any.
 */
void cst_reactor_submit(cst_reactor *r, cst_reactor_req *req);

/**
 * cst_reactor_barrier returns once every request submitted before it (by
 * this thread, or by others before they synchronised with it) has run.
 * Thread: any but the reactor. Blocks: yes.
 */
void cst_reactor_barrier(cst_reactor *r);

/** cst_reactor_user returns the pointer given to cst_reactor_create. */
void *cst_reactor_user(cst_reactor *r);

/**
 * cst_reactor_sqe returns an SQE whose completion calls c->done, with
 * user_data already set to c (liburing's io_uring_prep_* leave user_data
 * alone). It is submitted before the reactor next waits. When the
 * submission ring is full, queued SQEs are submitted first; NULL only if
 * the kernel takes none. Thread: reactor.
 */
struct io_uring_sqe *cst_reactor_sqe(
	cst_reactor *r, cst_reactor_completion *c);

/**
 * cst_reactor_timer_arm queues t at t->node.deadline; t must not be
 * armed. Thread: reactor.
 */
void cst_reactor_timer_arm(cst_reactor *r, cst_reactor_timer *t);

/**
 * cst_reactor_timer_disarm unqueues t; a no-op when it is not armed (an
 * unarmed timer has node.index == CST_TIMER_NOT_QUEUED). Thread: reactor.
 */
void cst_reactor_timer_disarm(cst_reactor *r, cst_reactor_timer *t);

/**
 * cst_reactor_fail_next_create makes the next cst_reactor_create fail as
 * if io_uring_queue_init had returned err (a negated errno), for tests of
 * a machine without io_uring. Thread: single.
 */
void cst_reactor_fail_next_create(int err);

#endif // CASTY_RUNTIME_REACTOR_H
