// tests/runtime/test_reactor.c: the reactor (runtime/reactor.c): requests
// from many threads run once each and in per-thread order, SQEs complete
// through their callbacks, deadlines fire in order, destroy runs what was
// still queued, and a machine without io_uring gets a clear error.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <casty/casty.h>

#include "runtime/park.h"
#include "runtime/reactor.h"

static cst_reactor *reactor;

static void
setup(void)
{
	int rc = cst_reactor_create(NULL, &reactor);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
}

static void
teardown(void)
{
	cst_reactor_destroy(reactor);
}

TestSuite(reactor, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(reactor_stress, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(reactor_create, .timeout = 30);

// A request that records who submitted it, in what order, and where it
// ran. Only the reactor thread writes the records.
typedef struct {
	cst_reactor_req req;
	uint32_t        producer;
	uint32_t        seq;
} counted_req;

#define MAX_PRODUCERS 4

static uint32_t  next_seq[MAX_PRODUCERS]; // reactor thread only
static uint64_t  ran, misordered, off_thread;
static pthread_t reactor_thread;

static void
counted_run(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	counted_req *c = (counted_req *)req;
	if (c->seq != next_seq[c->producer]) {
		misordered++;
	}
	next_seq[c->producer] = c->seq + 1;
	if (!pthread_equal(pthread_self(), reactor_thread)) {
		off_thread++;
	}
	ran++;
	free(c);
}

static void
note_thread(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	reactor_thread = pthread_self();
	free(req);
}

static void
learn_reactor_thread(void)
{
	cst_reactor_req *req = malloc(sizeof *req);
	cr_assert(req != NULL);
	req->run = note_thread;
	cst_reactor_submit(reactor, req);
	cst_reactor_barrier(reactor);
}

typedef struct {
	uint32_t producer;
	uint32_t count;
} producer_arg;

static void *
produce(void *arg)
{
	producer_arg *a = arg;
	for (uint32_t i = 0; i < a->count; i++) {
		counted_req *c = malloc(sizeof *c);
		cr_assert(c != NULL);
		c->req.run = counted_run;
		c->producer = a->producer;
		c->seq = i;
		cst_reactor_submit(reactor, &c->req);
	}
	return NULL;
}

static void
run_producers(uint32_t per)
{
	pthread_t    t[MAX_PRODUCERS];
	producer_arg args[MAX_PRODUCERS];
	learn_reactor_thread();
	for (uint32_t i = 0; i < MAX_PRODUCERS; i++) {
		args[i] = (producer_arg){i, per};
		cr_assert(eq(int,
			pthread_create(&t[i], NULL, produce, &args[i]), 0));
	}
	for (uint32_t i = 0; i < MAX_PRODUCERS; i++) {
		pthread_join(t[i], NULL);
	}
	cst_reactor_barrier(reactor);
	// The barrier ran after every request: its signal orders their
	// writes before these reads.
	cr_assert(eq(u64, ran, (uint64_t)MAX_PRODUCERS * per));
	cr_assert(eq(u64, misordered, 0));
	cr_assert(eq(u64, off_thread, 0));
	for (uint32_t i = 0; i < MAX_PRODUCERS; i++) {
		cr_assert(eq(u32, next_seq[i], per));
	}
}

Test(reactor, requests_from_four_threads_run_once_in_per_thread_order)
{
	run_producers(10000);
}

Test(reactor_stress, four_threads_submit_200k_requests_each)
{
	run_producers(200000);
}

// Submitting in bursts with pauses makes the reactor go idle between
// them, so the eventfd wake-up path is taken many times.
static void *
produce_in_bursts(void *arg)
{
	producer_arg *a = arg;
	for (uint32_t i = 0; i < a->count; i++) {
		counted_req *c = malloc(sizeof *c);
		cr_assert(c != NULL);
		c->req.run = counted_run;
		c->producer = a->producer;
		c->seq = i;
		cst_reactor_submit(reactor, &c->req);
		if (i % 16 == 0) {
			cst_reactor_barrier(reactor); // the reactor idles after
		}
	}
	return NULL;
}

Test(reactor_stress, wake_ups_are_never_lost)
{
	pthread_t    t[MAX_PRODUCERS];
	producer_arg args[MAX_PRODUCERS];
	learn_reactor_thread();
	for (uint32_t i = 0; i < MAX_PRODUCERS; i++) {
		args[i] = (producer_arg){i, 20000};
		pthread_create(&t[i], NULL, produce_in_bursts, &args[i]);
	}
	for (uint32_t i = 0; i < MAX_PRODUCERS; i++) {
		pthread_join(t[i], NULL);
	}
	cst_reactor_barrier(reactor);
	cr_assert(eq(u64, ran, (uint64_t)MAX_PRODUCERS * 20000));
	cr_assert(eq(u64, misordered, 0));
}

// An SQE prepared by a request completes through its callback.
typedef struct {
	cst_reactor_req        req;
	cst_reactor_completion done;
	int                    res;
	pthread_mutex_t        lock;
	pthread_cond_t         cond;
	bool                   completed;
} nop_req;

static void
nop_done(cst_reactor *r, cst_reactor_completion *c, int res, uint32_t flags)
{
	(void)r;
	(void)flags;
	nop_req *n = (nop_req *)((char *)c - offsetof(nop_req, done));
	pthread_mutex_lock(&n->lock);
	n->res = res;
	n->completed = true;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static void
nop_run(cst_reactor *r, cst_reactor_req *req)
{
	nop_req             *n = (nop_req *)req;
	struct io_uring_sqe *sqe = cst_reactor_sqe(r, &n->done);
	cr_assert(sqe != NULL);
	io_uring_prep_nop(sqe);
}

Test(reactor, an_sqe_completes_through_its_callback)
{
	nop_req n = {.req.run = nop_run, .done.done = nop_done, .res = -1};
	pthread_mutex_init(&n.lock, NULL);
	pthread_cond_init(&n.cond, NULL);
	cst_reactor_submit(reactor, &n.req);
	pthread_mutex_lock(&n.lock);
	while (!n.completed) {
		pthread_cond_wait(&n.cond, &n.lock);
	}
	pthread_mutex_unlock(&n.lock);
	cr_assert(eq(int, n.res, 0));
	pthread_cond_destroy(&n.cond);
	pthread_mutex_destroy(&n.lock);
}

// Deadlines armed in reverse fire in deadline order.
typedef struct {
	cst_reactor_timer timer;
	int               id;
} test_timer;

static test_timer      timers[3];
static int             fired[3], nfired; // under fired_lock
static pthread_mutex_t fired_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  fired_cond = PTHREAD_COND_INITIALIZER;

static void
record_fire(cst_reactor *r, cst_reactor_timer *t, int64_t now)
{
	(void)r;
	cr_assert(now >= t->node.deadline);
	pthread_mutex_lock(&fired_lock);
	fired[nfired++] = ((test_timer *)t)->id;
	pthread_cond_signal(&fired_cond);
	pthread_mutex_unlock(&fired_lock);
}

static void
arm_three(cst_reactor *r, cst_reactor_req *req)
{
	int64_t now = cst_now_ns();
	for (int i = 0; i < 3; i++) {
		timers[i].id = i;
		timers[i].timer.fire = record_fire;
		timers[i].timer.node.deadline = now + (3 - i) * 10000000;
		cst_reactor_timer_arm(r, &timers[i].timer);
	}
	free(req);
}

Test(reactor, deadlines_fire_in_deadline_order)
{
	cst_reactor_req *req = malloc(sizeof *req);
	req->run = arm_three;
	cst_reactor_submit(reactor, req);
	pthread_mutex_lock(&fired_lock);
	while (nfired < 3) {
		pthread_cond_wait(&fired_cond, &fired_lock);
	}
	pthread_mutex_unlock(&fired_lock);
	cr_assert(eq(int, fired[0], 2));
	cr_assert(eq(int, fired[1], 1));
	cr_assert(eq(int, fired[2], 0));
}

static _Atomic uint64_t late_ran;

static void
count_late(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	atomic_fetch_add_explicit(&late_ran, 1, memory_order_relaxed);
	free(req);
}

Test(reactor_create, destroy_runs_the_requests_still_queued)
{
	cst_reactor *r;
	int          rc = cst_reactor_create(NULL, &r);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	for (int i = 0; i < 1000; i++) {
		cst_reactor_req *req = malloc(sizeof *req);
		req->run = count_late;
		cst_reactor_submit(r, req);
	}
	cst_reactor_destroy(r);
	cr_assert(eq(u64, atomic_load(&late_ran), 1000));
}

static int
thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	int  n = 0;
	cr_assert(d != NULL);
	while (readdir(d) != NULL) {
		n++;
	}
	closedir(d);
	return n;
}

// Captures what the code under test prints on stderr: fd 2 goes to a
// temporary file between capture_begin and capture_end. (Criterion's own
// cr_redirect_stderr leaks a block that LeakSanitizer reports.)
static int   saved_stderr = -1;
static FILE *capture;

static void
capture_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	cr_assert(capture != NULL);
	saved_stderr = dup(2);
	cr_assert(ge(int, saved_stderr, 0));
	cr_assert(ge(int, dup2(fileno(capture), 2), 0));
}

static const char *
capture_end(void)
{
	static char buf[1024];
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture);
	size_t n = fread(buf, 1, sizeof buf - 1, capture);
	buf[n] = '\0';
	fclose(capture);
	return buf;
}

Test(reactor_create, a_failed_io_uring_init_is_reported_and_leaves_nothing)
{
	cst_reactor *r = (cst_reactor *)&r; // must stay untouched
	int          before = thread_count();
	cst_reactor_fail_next_create(-EPERM);
	capture_begin();
	int rc = cst_reactor_create(NULL, &r);
	const char *err = capture_end();
	cr_assert(eq(int, rc, -EPERM));
	cr_assert(eq(ptr, r, (void *)&r));
	cr_assert(eq(int, thread_count(), before));
	cr_assert(strstr(err, "io_uring") != NULL);
}

Test(reactor_create, a_system_without_io_uring_fails_to_create)
{
	casty_system *sys = NULL;
	int           before = thread_count();
	cst_reactor_fail_next_create(-EPERM);
	capture_begin();
	int rc = casty_system_create(NULL, &sys);
	const char *err = capture_end();
	cr_assert(eq(int, rc, -EPERM));
	cr_assert(eq(ptr, sys, NULL));
	cr_assert(eq(int, thread_count(), before));
	cr_assert(strstr(err, "io_uring") != NULL);
	cr_assert(strstr(err, strerror(EPERM)) != NULL);
	cr_assert(eq(ptr, strchr(err, '\n'), strrchr(err, '\n'))); // one line
	// The next system starts as usual.
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	casty_system_destroy(sys);
}
