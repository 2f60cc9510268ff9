// tests/runtime/test_actor.c: actors through the public API: state
// transitions, setup, children, stop, death watch, dead letters and
// unhandled messages. Synchronisation is by ask and by the probe actor
// (tests/support/probe.h), never by sleeping.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <casty/casty.h>

#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(actor, .init = sys_setup, .fini = sys_teardown, .timeout = 60);

// A counter with inline state and one with state too big to be inline.
typedef struct {
	int64_t n;
} Add;
typedef struct {
	casty_ref reply_to;
} Get;
typedef struct {
	casty_ref reply_to;
} StopMe;
typedef struct {
	int unused;
} Foreign;
CASTY_MESSAGE(Add, n);
CASTY_MESSAGE(Get, reply_to);
CASTY_MESSAGE(StopMe, reply_to);
CASTY_MESSAGE(Foreign, unused);
CASTY_PROTOCOL(CounterMsg, Add, Get, StopMe);

typedef struct {
	int64_t total;
	char    padding[200]; // forces the heap path of casty_receive
} big_state;

static casty_behavior counter(int64_t total);
static casty_behavior big_counter(big_state s);

CASTY_HANDLER(counter_receive, int64_t)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Add:
		return counter(*state + CASTY_AS(Add, msg)->n);
	case CounterMsg_Get:
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int, *state);
		return casty_same();
	case CounterMsg_StopMe:
		casty_send(CASTY_AS(StopMe, msg)->reply_to, casty_int, *state);
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
counter(int64_t total)
{
	return casty_receive(counter_receive, &total, sizeof total);
}

CASTY_HANDLER(big_receive, big_state)
{
	big_state s = *state;
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Add:
		s.total += CASTY_AS(Add, msg)->n;
		s.padding[s.total % 200] = 1;
		return big_counter(s);
	case CounterMsg_Get:
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int, s.total);
		return casty_same();
	case CounterMsg_StopMe:
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
big_counter(big_state s)
{
	return casty_receive(big_receive, &s, sizeof s);
}

static int64_t
ask_total(CounterMsg_ref ref)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, ref, Get, reply_to, 60000, &reply),
		CASTY_OK));
	int64_t v = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return v;
}

Test(actor, returning_a_new_behavior_carries_the_new_state)
{
	CounterMsg_ref c;
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "c", &c),
		CASTY_OK));
	for (int i = 1; i <= 100; i++) {
		cr_assert(eq(int, casty_tell(c, Add, i), CASTY_OK));
	}
	cr_assert(eq(i64, ask_total(c), 5050));
}

Test(actor, state_larger_than_inline_is_kept_across_transitions)
{
	CounterMsg_ref c;
	big_state      s = {0};
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, big_counter(s), "big", &c),
		CASTY_OK));
	for (int i = 1; i <= 1000; i++) {
		casty_tell(c, Add, i);
	}
	cr_assert(eq(i64, ask_total(c), 500500));
}

Test(actor, messages_sent_before_start_are_handled_in_order)
{
	// The ref exists at once; the actor starts on a worker later.
	CounterMsg_ref c;
	casty_spawn(sys, CounterMsg, counter(10), NULL, &c);
	casty_tell(c, Add, -10);
	casty_tell(c, Add, 7);
	cr_assert(eq(i64, ask_total(c), 7));
}

Test(actor, a_duplicate_root_name_is_an_error)
{
	CounterMsg_ref a, b = {.ref = CASTY_REF_NONE};
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "x", &a),
		CASTY_OK));
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "x", &b),
		-EEXIST));
	cr_assert(casty_ref_is_none(b.ref), "out is untouched on failure");
}

Test(actor, bad_spawn_arguments_return_einval)
{
	CounterMsg_ref c;
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "", &c),
		-EINVAL));
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "a/b", &c),
		-EINVAL));
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, casty_same(), "s", &c),
		-EINVAL));
	cr_assert(eq(int, casty_spawn_untyped(sys, NULL, NULL, counter(0),
				  "n", &c.ref),
		-EINVAL));
	cr_assert(eq(int, casty_spawn_untyped(NULL, NULL,
				  &CounterMsg__protocol, counter(0), "n",
				  &c.ref),
		-EINVAL));
	big_state s = {0}; // heap state is freed on failure (ASan checks)
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, big_counter(s), "", &c),
		-EINVAL));
}

Test(actor, telling_the_empty_ref_returns_enoref)
{
	CounterMsg_ref none = {.ref = CASTY_REF_NONE};
	cr_assert(eq(int, casty_tell(none, Add, 1), CASTY_ENOREF));
}

Test(actor, telling_a_stopped_actor_is_a_counted_dead_letter)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c;
	casty_msg     *reply;
	casty_spawn(sys, CounterMsg, counter(3), "victim", &c);
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	cr_assert(eq(int, casty_ask(sys, c, StopMe, reply_to, 60000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
	cr_assert(ge(int, probe_await(sys, probe, c.ref), 0));

	casty_system_stats before, after;
	casty_system_stats_get(sys, &before);
	cr_assert(eq(int, casty_tell(c, Add, 1), CASTY_OK));
	casty_system_stats_get(sys, &after);
	cr_assert(eq(u64, after.dead_letters, before.dead_letters + 1));
}

Test(actor, ask_to_a_stopped_actor_times_out)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c;
	casty_msg     *reply = NULL;
	casty_spawn(sys, CounterMsg, counter(0), "gone", &c);
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, StopMe, CASTY_REF_NONE);
	probe_await(sys, probe, c.ref);
	cr_assert(eq(int, casty_ask(sys, c, Get, reply_to, 20, &reply),
		-ETIMEDOUT));
	cr_assert(eq(ptr, reply, NULL));
}

Test(actor, a_message_outside_the_protocol_is_unhandled_not_a_crash)
{
	CounterMsg_ref c;
	casty_system_stats st;
	casty_spawn(sys, CounterMsg, counter(1), "c", &c);
	cr_assert(eq(int, casty_send(c.ref, Foreign, 0), CASTY_OK));
	cr_assert(eq(i64, ask_total(c), 1)); // handled after Foreign
	casty_system_stats_get(sys, &st);
	cr_assert(eq(u64, st.unhandled, 1));
}

// Watching: Terminated to the watcher, with the path.

Test(actor, a_watcher_gets_terminated_with_ref_and_path)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c;
	casty_spawn(sys, CounterMsg, counter(0), "watched", &c);
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, StopMe, CASTY_REF_NONE);
	int i = probe_await(sys, probe, c.ref);
	cr_assert(ge(int, i, 0));
	cr_assert(eq(str, probe_last.paths[i], "/watched"));
}

Test(actor, watching_a_stopped_actor_gives_terminated_at_once)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	ProbeMsg_ref   probe2 = probe_spawn(sys, "probe2");
	CounterMsg_ref c;
	casty_spawn(sys, CounterMsg, counter(0), "short", &c);
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, StopMe, CASTY_REF_NONE);
	probe_await(sys, probe, c.ref);
	// c is gone; a new watcher still hears of it.
	cr_assert(eq(int, probe_watch(sys, probe2, c.ref), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe2, c.ref), 0));
}

// Setup that returns no usable behavior stops the actor (and says so on
// stderr) instead of leaving it half alive.
typedef struct {
	casty_ref reply_to;
} Where;
CASTY_MESSAGE(Where, reply_to);
CASTY_PROTOCOL(WhereMsg, Where);

CASTY_SETUP(bad_setup, void)
{
	return casty_same();
}

CASTY_HANDLER(where_receive, void)
{
	char path[128], name[64];
	casty_ctx_path(ctx, path, sizeof path);
	casty_ctx_name(ctx, name, sizeof name);
	casty_send_textf(CASTY_AS(Where, msg)->reply_to, "%s|%s", path, name);
	return casty_same();
}

Test(actor, setup_returning_same_stops_the_actor)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	WhereMsg_ref w;
	cr_assert(eq(int, casty_spawn(sys, WhereMsg,
				  casty_setup(bad_setup, NULL, 0), "bad", &w),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, w.ref), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, w.ref), 0));
}

Test(actor, unnamed_actors_get_a_generated_name_and_a_path)
{
	WhereMsg_ref w;
	casty_msg   *reply;
	casty_spawn(sys, WhereMsg, casty_receive(where_receive, NULL, 0), NULL,
		&w);
	cr_assert(eq(int, casty_ask(sys, w, Where, reply_to, 60000, &reply),
		CASTY_OK));
	char text[96];
	memcpy(text, CASTY_AS(casty_text, reply)->value, sizeof text);
	char *bar = strchr(text, '|');
	cr_assert(not(eq(ptr, bar, NULL)));
	*bar = '\0'; // text: the path, bar + 1: the name
	cr_assert(eq(chr, bar[1], '$'), "generated names start with $");
	cr_assert(eq(chr, text[0], '/'));
	cr_assert(eq(str, text + 1, bar + 1), "a root's path is / and its name");
	casty_msg_free(reply);
}
