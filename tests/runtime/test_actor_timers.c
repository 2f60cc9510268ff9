// tests/runtime/test_actor_timers.c: actor timers (casty_ctx_schedule,
// casty_ctx_tick, casty_ctx_cancel_timer) and their guarantee: after a
// cancel or a replacement, no message of the old timer is handled, even
// one already in the mailbox. An actor sets timers on command and logs
// what it handles (tests/support/timer_log.h); no sleeps.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include <casty/casty.h>

#include "runtime/actor_timers.h"
#include "runtime/cell.h"
#include "runtime/timers.h"
#include "tests/support/system_fixture.h"
#include "tests/support/probe.h"
#include "tests/support/timer_log.h"

TestSuite(actor_timers, .init = sys_setup, .fini = sys_teardown,
	.timeout = 60);

// Set: set timer "k<key>" sending Fired{id}; with fired_first, wait in
// the handler until the reactor has fired every timer (so the firings sit
// in the mailbox); then, still in the same handler, cancel it
// (cancel_after) or replace it by a once-timer sending Fired{id2}.
typedef struct {
	int64_t   key, id, delay, interval;
	bool      fired_first;
	bool      cancel_after;
	int64_t   id2; // > 0: replace after the firing
	casty_ref reply_to;
} Set;
typedef struct {
	int64_t   key;
	casty_ref reply_to;
} Cancel;
typedef struct {
	casty_ref reply_to;
} Count;
typedef struct {
	int unused;
} Quit;
CASTY_MESSAGE(Set, key, id, delay, interval, fired_first, cancel_after,
	id2, reply_to);
CASTY_MESSAGE(Cancel, key, reply_to);
CASTY_MESSAGE(Count, reply_to);
CASTY_MESSAGE(Quit, unused);
CASTY_PROTOCOL(TimedMsg, Fired, AwaitFired, Set, Cancel, Count, Quit);

static casty_behavior timed(timer_log log);

static void
key_name(char *buf, size_t size, int64_t key)
{
	snprintf(buf, size, "k%lld", (long long)key);
}

static int
set_timer(casty_ctx *ctx, int64_t key, int64_t id, int64_t delay,
	int64_t interval)
{
	char name[32];
	key_name(name, sizeof name, key);
	if (interval > 0 && interval == delay) {
		return casty_ctx_tick(ctx, name, Fired, interval, .id = id);
	}
	if (interval == 0) {
		return casty_ctx_schedule(ctx, name, Fired, delay, .id = id);
	}
	return casty_ctx_timer_msg(ctx, name, &Fired__type, CASTY_TAG_UNKNOWN,
		&(Fired){id}, delay, interval);
}

// Spins (no sleep) until a message is queued behind the one being
// handled. The test sends nothing while it waits for the reply, so that
// message is the timer's firing.
static void
wait_until_fired(casty_ctx *ctx)
{
	while (!cst_mbox_has_next(&ctx->mbox)) {
		sched_yield();
	}
}

CASTY_HANDLER(timed_receive, timer_log)
{
	timer_log log = *state;
	switch (TimedMsg_tag_of(msg)) {
	case TimedMsg_Fired:
		timer_log_fired(&log, CASTY_AS(Fired, msg));
		return timed(log);
	case TimedMsg_AwaitFired:
		timer_log_await(&log, CASTY_AS(AwaitFired, msg));
		return timed(log);
	case TimedMsg_Set: {
		const Set *s = CASTY_AS(Set, msg);
		int rc = set_timer(ctx, s->key, s->id, s->delay, s->interval);
		char name[32];
		key_name(name, sizeof name, s->key);
		// In the same handler, so the timer cannot fire before.
		if (s->fired_first) {
			wait_until_fired(ctx);
		}
		if (s->cancel_after) {
			casty_ctx_cancel_timer(ctx, name);
		}
		if (s->id2 > 0) {
			set_timer(ctx, s->key, s->id2, s->delay, 0);
		}
		casty_send(s->reply_to, casty_int, rc);
		return casty_same();
	}
	case TimedMsg_Cancel: {
		const Cancel *c = CASTY_AS(Cancel, msg);
		char          name[32];
		key_name(name, sizeof name, c->key);
		casty_send(c->reply_to, casty_int,
			casty_ctx_cancel_timer(ctx, name));
		return casty_same();
	}
	case TimedMsg_Count:
		casty_send(CASTY_AS(Count, msg)->reply_to, casty_int,
			cst_actor_timers_count(ctx));
		return casty_same();
	case TimedMsg_Quit:
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
timed(timer_log log)
{
	return casty_receive(timed_receive, &log, sizeof log);
}

static TimedMsg_ref
spawn_timed(void)
{
	TimedMsg_ref t;
	timer_log    log;
	memset(&log, 0, sizeof log);
	cr_assert(eq(int, casty_spawn(sys, TimedMsg, timed(log), NULL, &t),
		CASTY_OK));
	return t;
}

static int64_t
ask_int(casty_msg *reply)
{
	int64_t v = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return v;
}

static int
set(TimedMsg_ref t, Set s)
{
	casty_msg *reply;
	cr_assert(eq(int,
		casty_ask(sys, t, Set, reply_to, 30000, &reply, .key = s.key,
			.id = s.id, .delay = s.delay, .interval = s.interval,
			.fired_first = s.fired_first,
			.cancel_after = s.cancel_after, .id2 = s.id2),
		CASTY_OK));
	return (int)ask_int(reply);
}

static int
cancel(TimedMsg_ref t, int64_t key)
{
	casty_msg *reply;
	cr_assert(eq(int,
		casty_ask(sys, t, Cancel, reply_to, 30000, &reply, .key = key),
		CASTY_OK));
	return (int)ask_int(reply);
}

static int64_t
count(TimedMsg_ref t)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, t, Count, reply_to, 30000, &reply),
		CASTY_OK));
	return ask_int(reply);
}

static const char *
await_fired(TimedMsg_ref t, int64_t id, int64_t n)
{
	static char text[96];
	casty_msg  *reply;
	cr_assert(eq(int,
		casty_ask(sys, t, AwaitFired, reply_to, 30000, &reply, .id = id,
			.count = n),
		CASTY_OK));
	memcpy(text, CASTY_AS(casty_text, reply)->value, sizeof text);
	casty_msg_free(reply);
	return text;
}

Test(actor_timers, a_once_timer_fires_once_and_is_forgotten)
{
	TimedMsg_ref t = spawn_timed();
	cr_assert(eq(int, set(t, (Set){.key = 1, .id = 1, .delay = 5}),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(t, 1, 1), "1"));
	cr_assert(eq(i64, count(t), 0));
	cr_assert(eq(int, set(t, (Set){.key = 2, .id = 2, .delay = 20}),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(t, 2, 1), "1 2"));
}

Test(actor_timers, a_tick_fires_until_cancelled)
{
	TimedMsg_ref t = spawn_timed();
	cr_assert(eq(int, set(t, (Set){.key = 1, .id = 1, .delay = 2,
				      .interval = 2}),
		CASTY_OK));
	cr_assert(eq(str, (char *)await_fired(t, 1, 4), "1 1 1 1"));
	cr_assert(eq(i64, count(t), 1));
	cr_assert(eq(int, cancel(t, 1), CASTY_OK));
	cr_assert(eq(i64, count(t), 0));
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
	// A first delay other than the interval.
	cr_assert(eq(int, set(t, (Set){.key = 2, .id = 2, .delay = 0,
				      .interval = 1}),
		CASTY_OK));
	await_fired(t, 2, 3);
	cr_assert(eq(int, cancel(t, 2), CASTY_OK));
}

Test(actor_timers, a_timer_with_the_same_key_replaces_the_older_one)
{
	TimedMsg_ref t = spawn_timed();
	set(t, (Set){.key = 1, .id = 1, .delay = 10, .id2 = 2});
	set(t, (Set){.key = 9, .id = 3, .delay = 30}); // the marker
	cr_assert(eq(str, (char *)await_fired(t, 3, 1), "2 3"));
}

Test(actor_timers, a_cancelled_timer_never_fires)
{
	TimedMsg_ref t = spawn_timed();
	set(t, (Set){.key = 1, .id = 1, .delay = 5, .cancel_after = true});
	set(t, (Set){.key = 9, .id = 2, .delay = 20});
	cr_assert(eq(str, (char *)await_fired(t, 2, 1), "2"));
	cr_assert(eq(i64, count(t), 0));
	cr_assert(eq(int, cancel(t, 7), CASTY_OK)); // unknown: a no-op
}

Test(actor_timers, a_firing_in_the_mailbox_is_dropped_after_a_cancel)
{
	TimedMsg_ref t = spawn_timed();
	// The handler sets the timer, waits until it fired (its message is
	// then queued behind the handler), and cancels it.
	set(t, (Set){.key = 1, .id = 1, .delay = 0, .fired_first = true,
		       .cancel_after = true});
	set(t, (Set){.key = 9, .id = 2, .delay = 0}); // the marker
	cr_assert(eq(str, (char *)await_fired(t, 2, 1), "2"));
}

Test(actor_timers, a_firing_in_the_mailbox_is_dropped_after_a_replace)
{
	TimedMsg_ref t = spawn_timed();
	set(t, (Set){.key = 1, .id = 1, .delay = 0, .fired_first = true,
		       .id2 = 2});
	cr_assert(eq(str, (char *)await_fired(t, 2, 1), "2"));
	// The same with a tick being replaced.
	set(t, (Set){.key = 3, .id = 3, .delay = 0, .interval = 60000,
		       .fired_first = true, .id2 = 4});
	cr_assert(eq(str, (char *)await_fired(t, 4, 1), "2 4"));
}

Test(actor_timers, a_stopped_actor_leaves_no_timer)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	TimedMsg_ref t = spawn_timed();
	for (int64_t k = 1; k <= 3; k++) {
		set(t, (Set){.key = k, .id = k, .delay = 60000,
			       .interval = 60000});
	}
	set(t, (Set){.key = 4, .id = 4, .delay = 60000});
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 4));
	cr_assert(eq(i64, count(t), 4));
	cr_assert(eq(int, probe_watch(sys, probe, t.ref), CASTY_OK));
	cr_assert(eq(int, casty_tell(t, Quit, 0), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, t.ref), 0));
	// The stop cancelled them before it was reported.
	cst_timers_sync(sys);
	cr_assert(eq(u64, cst_timers_live(sys), 0));
}

// Errors are checked inside the handler, where the context is valid.
typedef struct {
	casty_ref reply_to;
} Probe;
CASTY_MESSAGE(Probe, reply_to);
CASTY_PROTOCOL(CheckMsg, Probe);

CASTY_HANDLER(check_receive, int)
{
	Fired f = {1};
	char  long_key[300];
	memset(long_key, 'k', sizeof long_key - 1);
	long_key[sizeof long_key - 1] = '\0';
	int bad = 0;
	bad += casty_ctx_timer_msg(ctx, NULL, &Fired__type, CASTY_TAG_UNKNOWN,
		       &f, 0, 0) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, "", &Fired__type, CASTY_TAG_UNKNOWN,
		       &f, 0, 0) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, long_key, &Fired__type,
		       CASTY_TAG_UNKNOWN, &f, 0, 0) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, "k", NULL, CASTY_TAG_UNKNOWN, &f, 0,
		       0) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, "k", &Fired__type, CASTY_TAG_UNKNOWN,
		       &f, -1, 0) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, "k", &Fired__type, CASTY_TAG_UNKNOWN,
		       &f, 0, -1) != -EINVAL;
	bad += casty_ctx_timer_msg(ctx, "k", &Fired__type, CASTY_TAG_UNKNOWN,
		       NULL, 0, 0) != -EINVAL;
	bad += casty_ctx_cancel_timer(ctx, "") != -EINVAL;
	bad += casty_ctx_cancel_timer(ctx, NULL) != -EINVAL;
	casty_send(CASTY_AS(Probe, msg)->reply_to, casty_int, bad);
	return casty_same();
}

Test(actor_timers, bad_arguments_are_refused)
{
	CheckMsg_ref c;
	int          zero = 0;
	casty_msg   *reply;
	cr_assert(eq(int,
		casty_spawn(sys, CheckMsg,
			casty_receive(check_receive, &zero, sizeof zero), NULL,
			&c),
		CASTY_OK));
	cr_assert(eq(int, casty_ask(sys, c, Probe, reply_to, 30000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, ask_int(reply), 0));
}
