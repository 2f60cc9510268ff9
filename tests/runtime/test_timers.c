// tests/runtime/test_timers.c: system timers (casty_schedule, casty_tick,
// casty_cancel_schedule) through the public API. A collector actor logs
// the firings; tests wait for them with an ask and prove absence by order
// against a later marker timer. No wall-clock assertions, no sleeps.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <casty/casty.h>

#include "runtime/system.h"
#include "runtime/timers.h"
#include "tests/support/system_fixture.h"
#include "tests/support/timer_log.h"

TestSuite(timers, .init = sys_setup, .fini = sys_teardown, .timeout = 60);
TestSuite(timers_stress, .init = sys_setup, .fini = sys_teardown,
	.timeout = 120);
TestSuite(timers_shutdown, .timeout = 60);

typedef struct {
	int unused;
} Other; // not in the collector's protocol
CASTY_MESSAGE(Other, unused);
CASTY_PROTOCOL(CollectorMsg, Fired, AwaitFired);

// Holding the reactor: a request that blocks it until released, so that
// requests made meanwhile are applied together, before any firing.
typedef struct {
	cst_reactor_req req;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            released;
} hold_req;

static hold_req hold = {.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER};

static void
hold_run(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	(void)req;
	pthread_mutex_lock(&hold.lock);
	while (!hold.released) {
		pthread_cond_wait(&hold.cond, &hold.lock);
	}
	pthread_mutex_unlock(&hold.lock);
}

static void
hold_reactor(casty_system *s)
{
	hold.req.run = hold_run;
	hold.released = false;
	cst_reactor_submit(s->reactor, &hold.req);
}

static void
release_reactor(void)
{
	pthread_mutex_lock(&hold.lock);
	hold.released = true;
	pthread_cond_signal(&hold.cond);
	pthread_mutex_unlock(&hold.lock);
}

static casty_behavior collector(timer_log log);

CASTY_HANDLER(collector_receive, timer_log)
{
	timer_log log = *state;
	switch (CollectorMsg_tag_of(msg)) {
	case CollectorMsg_Fired:
		timer_log_fired(&log, CASTY_AS(Fired, msg));
		return collector(log);
	case CollectorMsg_AwaitFired:
		timer_log_await(&log, CASTY_AS(AwaitFired, msg));
		return collector(log);
	}
	return casty_unhandled();
}

static casty_behavior
collector(timer_log log)
{
	return casty_receive(collector_receive, &log, sizeof log);
}

static CollectorMsg_ref
spawn_collector(casty_system *s)
{
	CollectorMsg_ref c;
	timer_log        log;
	memset(&log, 0, sizeof log);
	cr_assert(eq(int,
		casty_spawn(s, CollectorMsg, collector(log), NULL, &c),
		CASTY_OK));
	return c;
}

// Waits until timer id has fired count times; returns the log then.
static const char *
await_fired(casty_system *s, CollectorMsg_ref c, int64_t id, int64_t count)
{
	static char text[96];
	casty_msg  *reply;
	cr_assert(eq(int,
		casty_ask(s, c, AwaitFired, reply_to, 30000, &reply, .id = id,
			.count = count),
		CASTY_OK));
	memcpy(text, CASTY_AS(casty_text, reply)->value, sizeof text);
	casty_msg_free(reply);
	return text;
}

Test(timers, a_once_timer_fires_once_and_forgets_its_key)
{
	CollectorMsg_ref c = spawn_collector(sys);
	cr_assert(eq(int, casty_schedule(sys, "once", c, Fired, 5, .id = 1),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 1, 1), "1"));
	// A marker due later than any second firing would be.
	cr_assert(eq(int, casty_schedule(sys, "marker", c, Fired, 20, .id = 2),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 2, 1), "1 2"));
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
}

Test(timers, a_tick_fires_until_cancelled)
{
	CollectorMsg_ref c = spawn_collector(sys);
	cr_assert(eq(int, casty_tick(sys, "tick", c, Fired, 2, .id = 1),
		CASTY_OK));
	// The tick goes on while the answer is made: five firings or more,
	// every one of this timer.
	const char *log = await_fired(sys, c, 1, 5);
	cr_assert(eq(int, strncmp(log, "1 1 1 1 1", 9), 0), "log: %s", log);
	cr_assert(eq(sz, strspn(log, "1 "), strlen(log)), "log: %s", log);
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 1));
	cr_assert(eq(int, casty_cancel_schedule(sys, "tick"), CASTY_OK));
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
}

Test(timers, a_tick_with_a_first_delay_repeats_at_its_interval)
{
	CollectorMsg_ref c = spawn_collector(sys);
	cr_assert(eq(int,
		casty_schedule_msg(sys, "t", c.ref, &Fired__type,
			CASTY_TAG_UNKNOWN, &(Fired){3}, 0, 1),
		CASTY_OK));
	await_fired(sys, c, 3, 3);
	cr_assert(eq(int, casty_cancel_schedule(sys, "t"), CASTY_OK));
}

Test(timers, timers_arrive_in_deadline_order)
{
	// Deadlines are taken at the call, so only an order that no stall of
	// this thread can change is asserted: each later call has the longer
	// delay. (Overtaking in the heap itself is tested in
	// test_timer_heap against a sorted reference.)
	CollectorMsg_ref c = spawn_collector(sys);
	cr_assert(eq(int, casty_schedule(sys, "a", c, Fired, 10, .id = 1),
		CASTY_OK));
	cr_assert(eq(int, casty_schedule(sys, "b", c, Fired, 20, .id = 2),
		CASTY_OK));
	cr_assert(eq(int, casty_schedule(sys, "c", c, Fired, 30, .id = 3),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 3, 1), "1 2 3"));
}

Test(timers, a_schedule_with_the_same_key_replaces_the_older_one)
{
	CollectorMsg_ref c = spawn_collector(sys);
	hold_reactor(sys); // however slow this thread, 1 cannot fire first
	cr_assert(eq(int, casty_schedule(sys, "k", c, Fired, 10, .id = 1),
		CASTY_OK));
	cr_assert(eq(int, casty_schedule(sys, "k", c, Fired, 10, .id = 2),
		CASTY_OK));
	release_reactor();
	// Due after the replaced one would have been.
	cr_assert(eq(int, casty_schedule(sys, "marker", c, Fired, 30, .id = 3),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 3, 1), "2 3"));
}

Test(timers, a_cancelled_timer_never_fires)
{
	CollectorMsg_ref c = spawn_collector(sys);
	hold_reactor(sys); // however slow this thread, 1 cannot fire first
	cr_assert(eq(int, casty_schedule(sys, "k", c, Fired, 5, .id = 1),
		CASTY_OK));
	cr_assert(eq(int, casty_cancel_schedule(sys, "k"), CASTY_OK));
	release_reactor();
	cr_assert(eq(int, casty_schedule(sys, "marker", c, Fired, 20, .id = 2),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 2, 1), "2"));
	cr_assert(eq(int, casty_cancel_schedule(sys, "never-set"), CASTY_OK));
}

Test(timers, a_schedule_then_cancel_from_one_thread_leaves_nothing)
{
	CollectorMsg_ref c = spawn_collector(sys);
	for (int i = 0; i < 1000; i++) {
		casty_schedule(sys, "k", c, Fired, 0, .id = 1);
		casty_cancel_schedule(sys, "k");
	}
	cr_assert(eq(int, casty_schedule(sys, "marker", c, Fired, 5, .id = 2),
		CASTY_OK));
	// The marker arrived (await_fired answers only then); delay 0
	// timers may fire before their cancel, so the log's first entries
	// can be all 1s. What remains afterwards is no timer at all.
	cr_assert(not(eq(ptr, (void *)await_fired(sys, c, 2, 1), NULL)));
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
}

Test(timers_stress, a_hundred_thousand_timers_cancelled_never_fire)
{
	enum { N = 100000 };
	CollectorMsg_ref c = spawn_collector(sys);
	char             key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "t%d", i);
		cr_assert(eq(int,
			casty_schedule(sys, key, c, Fired, 10000, .id = 1),
			CASTY_OK));
	}
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), N));
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "t%d", i);
		cr_assert(eq(int, casty_cancel_schedule(sys, key), CASTY_OK));
	}
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
	cr_assert(eq(int, casty_schedule(sys, "marker", c, Fired, 0, .id = 2),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(sys, c, 2, 1), "2"));
}

Test(timers, bad_arguments_are_refused)
{
	CollectorMsg_ref c = spawn_collector(sys);
	Fired            f = {1};
	char             long_key[300];
	memset(long_key, 'k', sizeof long_key - 1);
	long_key[sizeof long_key - 1] = '\0';
#define SCHED(s, key, ref, type, d, i)                                        \
	casty_schedule_msg((s), (key), (ref), (type), CASTY_TAG_UNKNOWN, &f,  \
		(d), (i))
	casty_ref r = c.ref;
	const casty_msg_type *F = &Fired__type;
	cr_assert(eq(int, SCHED(NULL, "k", r, F, 0, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, NULL, r, F, 0, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, "", r, F, 0, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, long_key, r, F, 0, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, "k", r, NULL, 0, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, "k", r, F, -1, 0), -EINVAL));
	cr_assert(eq(int, SCHED(sys, "k", r, F, 0, -1), -EINVAL));
	cr_assert(eq(int, SCHED(sys, "k", CASTY_REF_NONE, F, 0, 0),
		CASTY_ENOREF));
	cr_assert(eq(int, casty_schedule_msg(sys, "k", r, F, 0, NULL, 0, 0),
		-EINVAL));
	cr_assert(eq(int, casty_cancel_schedule(sys, ""), -EINVAL));
	cr_assert(eq(int, casty_cancel_schedule(NULL, "k"), -EINVAL));
	cr_assert(eq(int, casty_cancel_schedule(sys, long_key), -EINVAL));
	long_key[CASTY_TIMER_KEY_MAX] = '\0'; // the longest allowed
	cr_assert(eq(int, SCHED(sys, long_key, r, F, 0, 0), CASTY_OK));
#undef SCHED
	cst_timers_sync(sys);
}

Test(timers, a_type_outside_the_protocol_is_unhandled_on_arrival)
{
	CollectorMsg_ref c = spawn_collector(sys);
	cr_assert(eq(int,
		casty_schedule_msg(sys, "o", c.ref, &Other__type,
			CASTY_TAG_UNKNOWN, &(Other){0}, 0, 0),
		CASTY_OK));
	cr_assert(eq(int, casty_schedule(sys, "m", c, Fired, 0, .id = 1),
		CASTY_OK));
	await_fired(sys, c, 1, 1);
	casty_system_stats st;
	casty_system_stats_get(sys, &st);
	cr_assert(eq(u64, st.unhandled, 1));
}

Test(timers_shutdown, a_stopping_system_refuses_schedules)
{
	casty_system    *s;
	cr_assert(eq(int, casty_system_create(NULL, &s), CASTY_OK));
	CollectorMsg_ref c = spawn_collector(s);
	casty_system_stop(s);
	casty_system_wait(s);
	cr_assert(eq(int, casty_schedule(s, "k", c, Fired, 0, .id = 1),
		CASTY_ESTOPPED));
	cr_assert(eq(int, casty_cancel_schedule(s, "k"), CASTY_OK));
	casty_system_destroy(s);
}

Test(timers_shutdown, pending_timers_and_ticks_do_not_hold_destroy)
{
	casty_system *s;
	cr_assert(eq(int, casty_system_create(NULL, &s), CASTY_OK));
	CollectorMsg_ref c = spawn_collector(s);
	// A fast tick that is firing while destroy runs, and timers that
	// would fire long after: destroy drops them (and frees them, which
	// LeakSanitizer checks).
	cr_assert(eq(int, casty_tick(s, "fast", c, Fired, 1, .id = 1),
		CASTY_OK));
	for (int i = 0; i < 100; i++) {
		char key[16];
		snprintf(key, sizeof key, "late%d", i);
		casty_schedule(s, key, c, Fired, 3600 * 1000, .id = 2);
	}
	await_fired(s, c, 1, 3);
	casty_system_destroy(s);
}

Test(timers_shutdown, a_tick_to_a_stopped_actor_makes_dead_letters)
{
	casty_system *s;
	cr_assert(eq(int, casty_system_create(NULL, &s), CASTY_OK));
	CollectorMsg_ref c = spawn_collector(s);
	cr_assert(eq(int, casty_tick(s, "t", c, Fired, 1, .id = 1), CASTY_OK));
	await_fired(s, c, 1, 1);
	casty_system_stop(s);
	casty_system_wait(s);
	// The tick keeps firing at the stopped actor: dead letters. Wait for
	// the first one by looking at the counter, not by sleeping.
	casty_system_stats st = {0};
	while (st.dead_letters == 0) {
		sched_yield();
		casty_system_stats_get(s, &st);
	}
	casty_system_destroy(s); // the tick ends with it
}
