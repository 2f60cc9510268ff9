// tests/runtime/test_supervision.c: failing handlers and setups, the
// one-for-one strategy (decider, restart window), escalation chains,
// explicit restarts, and what a restart keeps (watchers, queued
// messages) and resets (state, children).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include <casty/casty.h>

#include "runtime/behavior.h"
#include "runtime/supervision.h"
#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(supervision, .init = sys_setup_quiet,
	.fini = sys_teardown_quiet,
	.timeout = 60);

typedef struct {
	int64_t n;
} Add;
typedef struct {
	int32_t code;
} Crash;
typedef struct {
	casty_ref reply_to;
} Get;
typedef struct {
	int32_t unused;
} RestartMe;
typedef struct {
	int32_t unused;
} StopMe;
CASTY_MESSAGE(StopMe, unused);
CASTY_MESSAGE(Add, n);
CASTY_MESSAGE(Crash, code);
CASTY_MESSAGE(Get, reply_to);
CASTY_MESSAGE(RestartMe, unused);
CASTY_PROTOCOL(CounterMsg, Add, Crash, Get, RestartMe, StopMe);

static _Atomic int setups;

static casty_behavior counter(int64_t total);

CASTY_HANDLER(counter_receive, int64_t)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Add:
		return counter(*state + CASTY_AS(Add, msg)->n);
	case CounterMsg_Crash:
		return casty_failed(CASTY_AS(Crash, msg)->code, "crash %d",
			CASTY_AS(Crash, msg)->code);
	case CounterMsg_Get:
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int, *state);
		return casty_same();
	case CounterMsg_RestartMe:
		return casty_restart();
	case CounterMsg_StopMe:
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
counter(int64_t total)
{
	return casty_receive(counter_receive, &total, sizeof total);
}

CASTY_SETUP(counter_setup, void)
{
	atomic_fetch_add(&setups, 1);
	return counter(0);
}

// Asks for the total; -1 when the ask failed (the actor is gone).
static int64_t
get(CounterMsg_ref ref)
{
	casty_msg *reply;
	if (casty_ask(sys, ref, Get, reply_to, 60000, &reply) != CASTY_OK) {
		return -1;
	}
	int64_t v = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return v;
}

static CounterMsg_ref
spawn_counter(casty_strategy strategy, const char *name)
{
	CounterMsg_ref ref;
	atomic_store(&setups, 0);
	cr_assert(eq(int,
		casty_spawn(sys, CounterMsg,
			casty_supervise(casty_setup(counter_setup, NULL, 0),
				strategy),
			name, &ref),
		CASTY_OK));
	return ref;
}

Test(supervision, restart_resets_state_and_keeps_later_messages)
{
	CounterMsg_ref c = spawn_counter(CASTY_ONE_FOR_ONE, "c");
	casty_tell(c, Add, 5);
	cr_assert(eq(i64, get(c), 5));
	casty_tell(c, Crash, 1);
	casty_tell(c, Add, 2); // behind the crash: handled by the new one
	cr_assert(eq(i64, get(c), 2));
	cr_assert(eq(int, atomic_load(&setups), 2));
}

Test(supervision, the_restart_past_max_restarts_stops_the_actor)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c = spawn_counter(
		(casty_strategy){.max_restarts = 3, .within_ms = 60000}, "c");
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	for (int i = 0; i < 3; i++) {
		casty_tell(c, Add, 1);
		casty_tell(c, Crash, 1);
		cr_assert(eq(i64, get(c), 0), "restart %d", i + 1);
	}
	casty_tell(c, Crash, 1);
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	cr_assert(eq(int, atomic_load(&setups), 4));
}

Test(supervision, window_slides_with_time)
{
	// The strategy alone, with times chosen by the test.
	cst_cell_cold c = {0};
	cst_failure   f = {.code = 1, .reason = "x"};
	const int64_t ms = 1000000;
	c.strategy = (casty_strategy){.max_restarts = 2, .within_ms = 100};

	cr_assert(eq(int, cst_supervision_decide(&c, &f, 0), CASTY_RESTART));
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 50 * ms),
		CASTY_RESTART));
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 60 * ms),
		CASTY_STOP));
	// At 100 ms the first restart leaves the window; the refused one at
	// 60 ms was not recorded.
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 100 * ms),
		CASTY_RESTART));
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 120 * ms),
		CASTY_STOP));
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 151 * ms),
		CASTY_RESTART));
	cst_supervision_fini(&c);

	// within 0: no limit in time, max_restarts in all.
	c.strategy = (casty_strategy){.max_restarts = 1, .within_ms = 0};
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 0), CASTY_RESTART));
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 1000000 * ms),
		CASTY_STOP));
	cst_supervision_fini(&c);

	// max_restarts 0: never restarted.
	c.strategy = (casty_strategy){.max_restarts = 0, .within_ms = 1000};
	cr_assert(eq(int, cst_supervision_decide(&c, &f, 0), CASTY_STOP));
	cst_supervision_fini(&c);
}

static casty_directive
stop_on_13(const casty_failure *f)
{
	return f->code == 13 ? CASTY_STOP : CASTY_RESTART;
}

Test(supervision, decider_maps_failures_to_directives)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c = spawn_counter(
		(casty_strategy){.max_restarts = 10, .within_ms = 60000,
			.decider = stop_on_13},
		"c");
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, Add, 3);
	casty_tell(c, Crash, 7);
	cr_assert(eq(i64, get(c), 0)); // restarted
	casty_tell(c, Crash, 13);
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	cr_assert(eq(int, atomic_load(&setups), 2));
}

Test(supervision, unsupervised_failure_stops_and_watchers_hear_it)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c;
	cr_assert(eq(int,
		casty_spawn(sys, CounterMsg, counter(0), "plain", &c),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, Crash, 1);
	casty_tell(c, Add, 1); // after the failure: a dead letter
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	cr_assert(eq(str, probe_last.paths[0], "/plain"));
	casty_system_stats st;
	casty_system_stats_get(sys, &st);
	cr_assert(ge(u64, st.dead_letters, 1));
}

Test(supervision, explicit_restart_is_not_counted)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c = spawn_counter(
		(casty_strategy){.max_restarts = 0}, "c");
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	for (int i = 0; i < 3; i++) {
		casty_tell(c, Add, 4);
		casty_tell(c, RestartMe, 0);
		cr_assert(eq(i64, get(c), 0));
	}
	cr_assert(eq(int, atomic_load(&setups), 4));
	casty_tell(c, Crash, 1); // max_restarts 0: the first failure stops
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
}

// A setup that always fails: the strategy bounds the restarts.
CASTY_SETUP(failing_setup, void)
{
	atomic_fetch_add(&setups, 1);
	return casty_failed(EIO, "cannot start");
}

Test(supervision, a_setup_that_keeps_failing_is_stopped)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c;
	atomic_store(&setups, 0);
	cr_assert(eq(int,
		casty_spawn(sys, CounterMsg,
			casty_supervise(casty_setup(failing_setup, NULL, 0),
				(casty_strategy){.max_restarts = 2,
					.within_ms = 60000}),
			"c", &c),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	cr_assert(eq(int, atomic_load(&setups), 3));
}

Test(supervision, a_setup_failing_every_restart_neither_recurses_nor_hangs)
{
	// The largest window without a time limit: 1024 restarts, each
	// decided on its own dispatch (no recursion), and the other actors
	// are served meanwhile.
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c, other;
	atomic_store(&setups, 0);
	cr_assert(eq(int,
		casty_spawn(sys, CounterMsg,
			casty_supervise(casty_setup(failing_setup, NULL, 0),
				(casty_strategy){
					.max_restarts = CASTY_MAX_RESTARTS,
					.within_ms = 0}),
			"c", &c),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	cr_assert(eq(int, casty_spawn(sys, CounterMsg, counter(0), "o", &other),
		CASTY_OK));
	casty_tell(other, Add, 9);
	cr_assert(eq(i64, get(other), 9));
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	cr_assert(eq(int, atomic_load(&setups), CASTY_MAX_RESTARTS + 1));
}

// Escalation: a root whose setup spawns a middle actor, which spawns a
// leaf; the leaf and the middle escalate, the root restarts.
typedef struct {
	int32_t unused;
} CrashLeaf;
typedef struct {
	casty_ref reply_to;
} GetChild;
typedef struct {
	casty_ref ref;
} ChildRef;
CASTY_MESSAGE(CrashLeaf, unused);
CASTY_MESSAGE(GetChild, reply_to);
CASTY_MESSAGE(ChildRef, ref);
CASTY_PROTOCOL(NodeMsg, CrashLeaf, GetChild, Get);

static _Atomic int node_setups[3];

static casty_directive
always_escalate(const casty_failure *f)
{
	(void)f;
	return CASTY_ESCALATE;
}

typedef struct {
	int32_t depth;
	NodeMsg_ref child;
} node_state;

static casty_behavior node(int32_t depth);

CASTY_HANDLER(node_receive, node_state)
{
	switch (NodeMsg_tag_of(msg)) {
	case NodeMsg_CrashLeaf:
		if (state->depth == 2) {
			return casty_failed(99, "leaf broke");
		}
		casty_tell(state->child, CrashLeaf, 0);
		return casty_same();
	case NodeMsg_GetChild:
		casty_send(CASTY_AS(GetChild, msg)->reply_to, ChildRef,
			state->child.ref);
		return casty_same();
	case NodeMsg_Get:
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int,
			atomic_load(&node_setups[state->depth]));
		return casty_same();
	}
	return casty_unhandled();
}

CASTY_SETUP(node_setup, int32_t)
{
	node_state s = {.depth = *state, .child = {.ref = CASTY_REF_NONE}};
	atomic_fetch_add(&node_setups[s.depth], 1);
	if (s.depth < 2) {
		cr_assert(eq(int,
			casty_ctx_spawn(ctx, NodeMsg, node(s.depth + 1), "n",
				&s.child),
			CASTY_OK));
	}
	return casty_receive(node_receive, &s, sizeof s);
}

static casty_behavior
node(int32_t depth)
{
	casty_behavior b = casty_setup(node_setup, &depth, sizeof depth);
	if (depth == 0) {
		return casty_supervise(b, CASTY_ONE_FOR_ONE);
	}
	return casty_supervise(b, (casty_strategy){.max_restarts = 3,
				      .within_ms = 60000,
				      .decider = always_escalate});
}

static casty_ref
child_of(NodeMsg_ref n)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, n, GetChild, reply_to, 60000, &reply),
		CASTY_OK));
	casty_ref r = CASTY_AS(ChildRef, reply)->ref;
	casty_msg_free(reply);
	return r;
}

Test(supervision, escalation_climbs_to_the_first_strategy_that_restarts)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	NodeMsg_ref  root;
	for (int i = 0; i < 3; i++) {
		atomic_store(&node_setups[i], 0);
	}
	cr_assert(eq(int, casty_spawn(sys, NodeMsg, node(0), "root", &root),
		CASTY_OK));
	NodeMsg_ref mid = {.ref = child_of(root)};
	casty_ref   leaf = child_of(mid);
	cr_assert(eq(int, probe_watch(sys, probe, mid.ref), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, leaf), CASTY_OK));

	casty_tell(root, CrashLeaf, 0);
	cr_assert(ge(int, probe_await(sys, probe, leaf), 0));
	cr_assert(ge(int, probe_await(sys, probe, mid.ref), 0));
	// The escalation reached the root before the probe heard of the
	// middle's stop, so this ask is handled after the root's restart.
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, root, Get, reply_to, 60000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 2));
	casty_msg_free(reply);

	// A new chain, which works again.
	NodeMsg_ref mid2 = {.ref = child_of(root)};
	cr_assert(not(eq(int, casty_ref_eq(mid2.ref, mid.ref), 1)));
	casty_ref leaf2 = child_of(mid2);
	cr_assert(eq(int, probe_watch(sys, probe, leaf2), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, mid2.ref), CASTY_OK));
	casty_tell(root, CrashLeaf, 0);
	cr_assert(ge(int, probe_await(sys, probe, leaf2), 0));
	cr_assert(ge(int, probe_await(sys, probe, mid2.ref), 0));
	cr_assert(eq(int, casty_ask(sys, root, Get, reply_to, 60000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 3));
	casty_msg_free(reply);
	// The third leaf answers after its own setup.
	NodeMsg_ref leaf3 = {.ref = child_of((NodeMsg_ref){.ref = child_of(root)})};
	cr_assert(eq(int, casty_ask(sys, leaf3, Get, reply_to, 60000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 3));
	casty_msg_free(reply);
}

Test(supervision, a_root_that_escalates_stops_and_the_system_goes_on)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c = spawn_counter(
		(casty_strategy){.max_restarts = 3, .within_ms = 1000,
			.decider = always_escalate},
		"c");
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, Crash, 1);
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
	CounterMsg_ref d = spawn_counter(CASTY_ONE_FOR_ONE, "d");
	casty_tell(d, Add, 1);
	cr_assert(eq(i64, get(d), 1));
}

// A parent with children: its restart waits for them to stop, and the
// messages that arrive meanwhile are handled afterwards, in order.
CASTY_HANDLER(idle_leaf, void)
{
	return casty_same();
}

CASTY_SETUP(parent_setup, void)
{
	atomic_fetch_add(&setups, 1);
	for (int i = 0; i < 3; i++) {
		NodeMsg_ref child;
		char        name[8] = {'k', (char)('0' + i), 0};
		// Same names at every restart: the old children are gone.
		cr_assert(eq(int,
			casty_ctx_spawn(ctx, NodeMsg,
				casty_receive(idle_leaf, NULL, 0), name, &child),
			CASTY_OK));
	}
	return counter(0);
}

Test(supervision, messages_during_a_restart_wait_for_it_in_order)
{
	CounterMsg_ref c;
	atomic_store(&setups, 0);
	cr_assert(eq(int,
		casty_spawn(sys, CounterMsg,
			casty_supervise(casty_setup(parent_setup, NULL, 0),
				CASTY_ONE_FOR_ONE),
			"p", &c),
		CASTY_OK));
	casty_tell(c, Add, 1000);
	casty_tell(c, Crash, 1);
	for (int i = 1; i <= 100; i++) {
		casty_tell(c, Add, i);
	}
	cr_assert(eq(i64, get(c), 5050));
	cr_assert(eq(int, atomic_load(&setups), 2));
}

Test(supervision, watchers_survive_a_restart)
{
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	CounterMsg_ref c = spawn_counter(CASTY_ONE_FOR_ONE, "c");
	cr_assert(eq(int, probe_watch(sys, probe, c.ref), CASTY_OK));
	casty_tell(c, Crash, 1);
	cr_assert(eq(i64, get(c), 0)); // restarted, same ref
	casty_tell(c, StopMe, 0);
	cr_assert(eq(int, probe_await(sys, probe, c.ref), 0));
}

Test(supervision, casty_failed_keeps_long_reasons_bounded)
{
	char big[600];
	memset(big, 'r', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	casty_behavior b = casty_failed(3, "%s", big);
	cst_failure    f;
	cst_failure_of(&f, &b);
	cr_assert(eq(int, f.code, 3));
	cr_assert(eq(sz, strlen(f.reason), 255));
	cst_behavior_free(&b); // the runtime would, consuming it
}

// A restart waits for the children to stop; what arrives meanwhile is
// stashed and replayed after it. Each replayed message here restarts the
// actor again, and with no child left that restart finishes at once: the
// replay must go on in a loop, not one stack frame deeper per message
// (50,000 frames deep would overflow a worker's stack).
typedef struct {
	int32_t unused;
} HoldChild;
CASTY_MESSAGE(HoldChild, unused);
CASTY_PROTOCOL(HeldMsg, HoldChild);

static _Atomic bool child_entered, child_release;

CASTY_HANDLER(held_receive, void)
{
	atomic_store(&child_entered, true);
	while (!atomic_load(&child_release)) {
		sched_yield(); // holds its worker until the test lets go
	}
	return casty_same();
}

CASTY_SETUP(holder_setup, void)
{
	atomic_fetch_add(&setups, 1);
	if (atomic_load(&setups) == 1) { // the first incarnation only
		HeldMsg_ref child;
		cr_assert(eq(int, casty_ctx_spawn(ctx, HeldMsg,
			casty_receive(held_receive, NULL, 0), "held", &child),
			CASTY_OK));
		casty_tell(child, HoldChild, 0);
	}
	return counter(0);
}

Test(supervision_deep, a_long_stash_of_restarts_replays_in_a_loop,
	.timeout = 120)
{
	enum { N = 50000 };
	casty_system       *s;
	casty_system_config cfg;
	casty_system_config_init(&cfg);
	cfg.workers = 2; // the held child takes one
	cr_assert(eq(int, casty_system_create(&cfg, &s), CASTY_OK));
	atomic_store(&setups, 0);
	atomic_store(&child_entered, false);
	atomic_store(&child_release, false);
	CounterMsg_ref c;
	cr_assert(eq(int, casty_spawn(s, CounterMsg,
		casty_setup(holder_setup, NULL, 0), "p", &c), CASTY_OK));
	while (!atomic_load(&child_entered)) {
		sched_yield();
	}
	casty_tell(c, RestartMe, 0); // waits for the held child to stop
	for (int i = 0; i < N; i++) {
		casty_tell(c, RestartMe, 0); // stashed meanwhile
	}
	casty_tell(c, Add, 7);
	atomic_store(&child_release, true);
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(s, c, Get, reply_to, 60000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 7));
	casty_msg_free(reply);
	cr_assert(eq(int, atomic_load(&setups), N + 2));
	casty_system_destroy(s);
}
