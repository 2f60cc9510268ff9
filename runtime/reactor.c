// runtime/reactor.c: the reactor thread, its io_uring and its request
// queue.
//
// The loop: run every queued request; fire the timers that are due; arm
// the eventfd read if it is not; then submit what the requests prepared
// and wait for one completion, at most until the next deadline
// (io_uring_submit_and_wait_timeout, or no timeout with no timer); then
// call back every completion. An idle reactor sleeps in the kernel.
//
// The request queue is the injection queue (runtime/inject.c: Vyukov's
// intrusive MPSC queue with a stub), reused as it is.
// Roles: cst_reactor_submit from any thread (one exchange, one seq_cst
//   increment, and the idle check below); popping only on the reactor
//   thread, or on the destroyer once it has joined it, so the queue's
//   try-locked consumer role is always free.
// Linearisation: a request is queued at the exchange of its push and runs
//   after every request whose exchange came earlier; so a thread's
//   requests run in the order it submitted them, and a request submitted
//   after another thread's (synchronised with it) runs after it. A pop
//   that finds nothing while `len` is non-zero has met a producer
//   between its exchange and its link (`len` is raised only after the
//   link): the loop yields and pops again, never sleeps on it.
//
// Waking, without lost wake-ups (a Dekker pattern over seq_cst):
// - The reactor, before it blocks, stores idle = 1 and then reads the
//   queue's len, both seq_cst. If len > 0 it does not block.
// - A producer pushes (len += 1, seq_cst, after the link) and then reads
//   idle (seq_cst). If it reads 1, it exchanges idle to 0 and the one
//   that wins the exchange writes the eventfd.
// In the single order of the seq_cst operations, either the reactor's
// read of len comes after the producer's increment (it sees the request),
// or its store of idle comes before the producer's read (the producer
// sees 1 and writes). So the eventfd is written only when the queue went
// from empty to non-empty while the reactor slept or was about to (once
// per sleep, however many producers), and never missed. The eventfd read
// is armed in the ring before every wait, so a write between the check
// and io_uring_enter completes that read and the wait returns at once.
//
// Memory: requests belong to their submitter until run and to run after;
// the queue never frees them (no ABA: no CAS on links, see inject.c).
// Tested by: tests/runtime/test_reactor.c (suite reactor_stress: four
// submitters, per-thread order, exactly once) under TSan.
#include "runtime/reactor.h"
#include "runtime/oneshot.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/park.h"

#define RING_ENTRIES 256

struct cst_reactor {
	// Any thread.
	cst_inject queue; // requests, in submission order
	int        efd;   // the eventfd that wakes the loop
	void      *user;
	// 1 while the reactor is blocked or about to block (see the top).
	alignas(64) _Atomic uint32_t idle;
	_Atomic bool stop; // set once by cst_reactor_destroy

	// Reactor thread only (and the destroyer once joined).
	alignas(64) struct io_uring ring;
	cst_timer_heap         timers;
	cst_reactor_completion wake; // the eventfd read
	uint64_t               wake_count;
	bool                   wake_armed;
	pthread_t              thread;
};

// Test hook; single-threaded by contract, so no atomics.
static int fail_next_create;

void
cst_reactor_fail_next_create(int err)
{
	fail_next_create = err;
}

void *
cst_reactor_user(cst_reactor *r)
{
	return r->user;
}

static void
write_eventfd(cst_reactor *r)
{
	uint64_t one = 1;
	// EAGAIN would mean a counter near 2^64: the reactor is awake then.
	while (write(r->efd, &one, sizeof one) < 0 && errno == EINTR) {
	}
}

void
cst_reactor_submit(cst_reactor *r, cst_reactor_req *req)
{
	// The push publishes req (release exchange, see inject.c) and
	// raises len with a seq_cst RMW, the first half of the Dekker pair.
	cst_inject_push(&r->queue, &req->link);
	// seq_cst: the second half; ordered after the increment above and
	// against the reactor's store of idle (see the top of this file).
	// The load first keeps a busy reactor's line shared.
	if (atomic_load_explicit(&r->idle, memory_order_seq_cst) == 1 &&
	    // Relaxed: only decides which producer writes; the eventfd
	    // carries no data, and the request was published by the push.
	    atomic_exchange_explicit(&r->idle, 0, memory_order_relaxed) == 1) {
		write_eventfd(r);
	}
}

// Runs every request visible now.
static void
run_requests(cst_reactor *r)
{
	for (;;) {
		cst_inject_node *node = cst_inject_pop(&r->queue);
		if (node == NULL) {
			// Relaxed: a producer that raised len has linked its
			// node already; one between its exchange and its link
			// has not raised it, and is seen at the next round.
			if (cst_inject_len(&r->queue, memory_order_relaxed) ==
			    0) {
				return;
			}
			sched_yield(); // a pop racing a half-done push
			continue;
		}
		cst_reactor_req *req = (cst_reactor_req *)node;
		req->run(r, req);
	}
}

static void
fire_due(cst_reactor *r)
{
	int64_t         now = cst_now_ns();
	cst_timer_node *top;
	while ((top = cst_timer_heap_peek(&r->timers)) != NULL &&
	       top->deadline <= now) {
		cst_timer_heap_remove(&r->timers, top);
		cst_reactor_timer *t = (cst_reactor_timer *)top;
		t->fire(r, t, now);
	}
}

static void
woken(cst_reactor *r, cst_reactor_completion *c, int res, uint32_t flags)
{
	(void)c;
	(void)res; // even an error is only a reason to look around
	(void)flags;
	r->wake_armed = false;
}

static void
arm_wake(cst_reactor *r)
{
	struct io_uring_sqe *sqe = cst_reactor_sqe(r, &r->wake);
	if (sqe != NULL) {
		io_uring_prep_read(sqe, r->efd, &r->wake_count,
			sizeof r->wake_count, 0);
		io_uring_sqe_set_data(sqe, &r->wake);
		r->wake_armed = true;
	}
}

static void
reap(cst_reactor *r)
{
	struct io_uring_cqe *cqe;
	unsigned             head, n = 0;
	io_uring_for_each_cqe(&r->ring, head, cqe)
	{
		n++;
		// liburing's own timeout, on kernels without EXT_ARG.
		if (cqe->user_data == LIBURING_UDATA_TIMEOUT) {
			continue;
		}
		cst_reactor_completion *c = io_uring_cqe_get_data(cqe);
		c->done(r, c, cqe->res, cqe->flags);
	}
	io_uring_cq_advance(&r->ring, n);
}

struct io_uring_sqe *
cst_reactor_sqe(cst_reactor *r, cst_reactor_completion *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	if (sqe == NULL) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	if (sqe != NULL) {
		io_uring_sqe_set_data(sqe, c);
	}
	return sqe;
}

static void
wait_once(cst_reactor *r)
{
	struct io_uring_cqe     *cqe;
	struct __kernel_timespec ts, *tsp = NULL;

	// seq_cst: the reactor's half of the Dekker pair (see the top).
	atomic_store_explicit(&r->idle, 1, memory_order_seq_cst);
	bool busy = cst_inject_len(&r->queue, memory_order_seq_cst) > 0 ||
		    // Acquire: pairs with the release store in destroy.
		    atomic_load_explicit(&r->stop, memory_order_acquire);
	cst_timer_node *next = cst_timer_heap_peek(&r->timers);
	if (busy) {
		ts = (struct __kernel_timespec){0, 0};
		tsp = &ts;
	} else if (next != NULL) {
		int64_t left = next->deadline - cst_now_ns();
		if (left < 0) {
			left = 0;
		}
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		tsp = &ts;
	}
	int rc;
	if (busy) {
		rc = io_uring_submit(&r->ring);
	} else {
		rc = io_uring_submit_and_wait_timeout(
			&r->ring, &cqe, 1, tsp, NULL);
	}
	// Relaxed: the reactor alone sets idle to 1; producers that saw it
	// have written the eventfd, which is harmless now.
	atomic_store_explicit(&r->idle, 0, memory_order_relaxed);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN &&
	    rc != -EBUSY) {
		fprintf(stderr, "casty: reactor: io_uring_enter failed: %s\n",
			strerror(-rc));
		abort(); // the ring is unusable; nothing can recover here
	}
	reap(r);
}

static void *
reactor_main(void *arg)
{
	cst_reactor *r = arg;
	for (;;) {
		run_requests(r);
		fire_due(r);
		// Acquire: pairs with the release store in destroy; the
		// queue is drained again by the destroyer after the join.
		if (atomic_load_explicit(&r->stop, memory_order_acquire)) {
			break;
		}
		if (!r->wake_armed) {
			arm_wake(r);
		}
		wait_once(r);
	}
	return NULL;
}

int
cst_reactor_create(void *user, cst_reactor **out)
{
	cst_reactor *r = cst_calloc(sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	int rc = fail_next_create;
	fail_next_create = 0;
	if (rc == 0) {
		rc = io_uring_queue_init(RING_ENTRIES, &r->ring, 0);
	}
	if (rc < 0) {
		fprintf(stderr,
			"casty: cannot start the reactor: io_uring is "
			"unavailable (io_uring_queue_init: %s)\n",
			strerror(-rc));
		cst_free_sized(r, sizeof(*r));
		return rc;
	}
	r->efd = eventfd(0, EFD_CLOEXEC);
	if (r->efd < 0) {
		rc = -errno;
		io_uring_queue_exit(&r->ring);
		cst_free_sized(r, sizeof(*r));
		return rc;
	}
	r->user = user;
	r->wake.done = woken;
	cst_inject_init(&r->queue);
	cst_timer_heap_init(&r->timers);
	atomic_init(&r->idle, 0);
	atomic_init(&r->stop, false);
	rc = pthread_create(&r->thread, NULL, reactor_main, r);
	if (rc != 0) {
		cst_timer_heap_fini(&r->timers);
		cst_inject_fini(&r->queue);
		close(r->efd);
		io_uring_queue_exit(&r->ring);
		cst_free_sized(r, sizeof(*r));
		return -rc;
	}
	*out = r;
	return 0;
}

void
cst_reactor_destroy(cst_reactor *r)
{
	if (r == NULL) {
		return;
	}
	// Release: pairs with the acquire loads in the loop.
	atomic_store_explicit(&r->stop, true, memory_order_release);
	write_eventfd(r);
	pthread_join(r->thread, NULL);
	// The join hands us the consumer role: run what came in late.
	run_requests(r);
	io_uring_queue_exit(&r->ring); // cancels the eventfd read
	close(r->efd);
	cst_timer_heap_fini(&r->timers);
	cst_inject_fini(&r->queue);
	cst_free_sized(r, sizeof(*r));
}

void
cst_reactor_timer_arm(cst_reactor *r, cst_reactor_timer *t)
{
	cst_timer_heap_insert(&r->timers, &t->node);
}

void
cst_reactor_timer_disarm(cst_reactor *r, cst_reactor_timer *t)
{
	cst_timer_heap_remove(&r->timers, &t->node);
}

// The barrier: a request that signals its submitter.
typedef struct {
	cst_reactor_req req;
	cst_oneshot     done;
} barrier_req;

static void
barrier_run(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	cst_oneshot_signal(&((barrier_req *)req)->done);
}

void
cst_reactor_barrier(cst_reactor *r)
{
	barrier_req b = {.req.run = barrier_run};
	cst_oneshot_init(&b.done);
	cst_reactor_submit(r, &b.req);
	cst_oneshot_wait(&b.done);
}
