// tests/runtime/test_actor_races.c: interleavings that once broke the
// runtime (found in review), each turned into a test that fails without
// its fix: a worker's hot actor starved by a busy one, a stop overtaking
// a root's start, a start message held back in the outbox, and a ref read
// from a stopped child naming the cell's next actor.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include <casty/casty.h>


TestSuite(actor_races, .timeout = 120);

typedef struct {
	int32_t n;
} Tick;
typedef struct {
	casty_ref reply_to;
} Count;
typedef struct {
	int32_t unused;
} Quit;
CASTY_MESSAGE(Tick, n);
CASTY_MESSAGE(Count, reply_to);
CASTY_MESSAGE(Quit, unused);
CASTY_PROTOCOL(CounterMsg, Tick, Count, Quit);

static casty_behavior counter(int64_t seen);

CASTY_HANDLER(counter_receive, int64_t)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Tick:
		return counter(*state + 1);
	case CounterMsg_Count:
		casty_send(CASTY_AS(Count, msg)->reply_to, casty_int, *state);
		return casty_same();
	case CounterMsg_Quit:
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
counter(int64_t seen)
{
	return casty_receive(counter_receive, &seen, sizeof seen);
}

static int64_t
count_of(casty_system *sys, CounterMsg_ref c, int *rc)
{
	casty_msg *reply;
	*rc = casty_ask(sys, c, Count, reply_to, 30000, &reply);
	if (*rc != CASTY_OK) {
		return -1;
	}
	int64_t n = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return n;
}

// A ticker keeps its batches full by telling itself until told to quit.
static _Atomic int ticker_quit;

CASTY_HANDLER(ticker_receive, void)
{
	if (!atomic_load_explicit(&ticker_quit, memory_order_relaxed)) {
		casty_tell(CounterMsg_ref_from(casty_self(ctx)), Tick, 0);
		return casty_same();
	}
	return casty_stopped();
}

Test(actor_races, a_busy_actor_does_not_starve_the_hot_one)
{
	casty_system_config cfg;
	casty_system       *sys;
	CounterMsg_ref      x, z;
	int                 rc;
	casty_system_config_init(&cfg);
	cfg.workers = 1; // x and z share the one worker
	atomic_store(&ticker_quit, 0);
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	casty_spawn(sys, CounterMsg, casty_receive(ticker_receive, NULL, 0),
		"z", &z);
	casty_tell(z, Tick, 0); // z now runs full batches until told to quit
	casty_spawn(sys, CounterMsg, counter(0), "x", &x);
	casty_tell(x, Tick, 0);
	// x runs between z's batches and runs dry: it is the hot actor now,
	// and it must still answer while z keeps the worker busy.
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(i64, count_of(sys, x, &rc), 1));
		cr_assert(eq(int, rc, CASTY_OK));
	}
	atomic_store(&ticker_quit, 1);
	casty_system_destroy(sys);
}

// Roots spawned while another thread stops the system: every one that
// was spawned stops, so wait returns.
static void *
spawn_roots(void *arg)
{
	casty_system *sys = arg;
	for (int i = 0; i < 50; i++) {
		CounterMsg_ref c;
		if (casty_spawn(sys, CounterMsg, counter(0), NULL, &c) != 0) {
			break;
		}
	}
	return NULL;
}

Test(actor_races, a_stop_never_overtakes_a_root_start)
{
	for (int round = 0; round < 100; round++) {
		casty_system      *sys;
		pthread_t          t;
		casty_system_stats st;
		cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
		pthread_create(&t, NULL, spawn_roots, sys);
		casty_system_stop(sys);
		pthread_join(t, NULL);
		casty_system_wait(sys); // hangs if a stop came before a start
		casty_system_stats_get(sys, &st);
		cr_assert(eq(u64, st.live_actors, 0));
		casty_system_destroy(sys);
	}
}

// A handler that has already sent a few messages (so later sends are
// batched) spawns a child and lets another thread tell it before the
// handler returns: the child's start must already be in its mailbox.
typedef struct {
	int32_t unused;
} Go;
CASTY_MESSAGE(Go, unused);
CASTY_PROTOCOL(SpawnerMsg, Go, Tick);

static casty_ref   early_ref;   // written before early_ready is set
static _Atomic int early_ready, early_told;

CASTY_HANDLER(spawner_receive, void)
{
	if (SpawnerMsg_tag_of(msg) != SpawnerMsg_Go) {
		return casty_same();
	}
	SpawnerMsg_ref me = SpawnerMsg_ref_from(casty_self(ctx));
	for (int i = 0; i < 8; i++) {
		casty_tell(me, Tick, i);
	}
	CounterMsg_ref child;
	casty_ctx_spawn(ctx, CounterMsg, counter(0), "child", &child);
	early_ref = child.ref;
	atomic_store(&early_ready, 1); // seq_cst: publishes early_ref
	while (!atomic_load(&early_told)) {
		// the test thread tells the child now
	}
	return casty_same();
}

Test(actor_races, a_child_is_reachable_as_soon_as_spawn_returns)
{
	casty_system  *sys;
	SpawnerMsg_ref s;
	casty_system_stats st;
	int            rc;
	atomic_store(&early_ready, 0);
	atomic_store(&early_told, 0);
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	casty_spawn(sys, SpawnerMsg, casty_receive(spawner_receive, NULL, 0),
		"spawner", &s);
	casty_tell(s, Go, 0);
	while (!atomic_load(&early_ready)) {
	}
	CounterMsg_ref child = {.ref = early_ref};
	casty_tell(child, Tick, 0);
	atomic_store(&early_told, 1);
	cr_assert(eq(i64, count_of(sys, child, &rc), 1));
	casty_system_stats_get(sys, &st);
	cr_assert(eq(u64, st.dead_letters, 0));
	casty_system_destroy(sys);
}

// The generation a stop leaves behind is never reused by the next actor
// spawned into the same cell.
typedef struct {
	casty_ref reply_to;
} Cycle;
CASTY_MESSAGE(Cycle, reply_to);
CASTY_PROTOCOL(ParentMsg, Cycle, casty_terminated);

typedef struct {
	casty_ref stale;    // the stopped child's ref, read after its stop
	casty_ref waiter;   // who asked for the cycle
	int32_t   phase;
} parent_state;

static casty_behavior parent(parent_state s);

CASTY_HANDLER(parent_receive, parent_state)
{
	parent_state s = *state;
	CounterMsg_ref c;
	switch (ParentMsg_tag_of(msg)) {
	case ParentMsg_Cycle:
		// Spawn, watch and stop a child; the rest happens on Terminated.
		s.waiter = CASTY_AS(Cycle, msg)->reply_to;
		casty_ctx_spawn(ctx, CounterMsg, counter(0), "c", &c);
		casty_ctx_watch(ctx, c.ref);
		casty_tell(c, Quit, 0);
		return parent(s);
	case ParentMsg_casty_terminated: {
		// The child has stopped but is still listed (its stop report
		// is behind this message): the ref found now is the stale one.
		casty_ref stale;
		if (casty_ctx_child(ctx, "c", &stale) != CASTY_OK) {
			stale = CASTY_AS(casty_terminated, msg)->ref;
		}
		// Spawn another child under a new name, likely into the same
		// cell once the report has been handled: compare generations.
		casty_ctx_spawn(ctx, CounterMsg, counter(0), NULL, &c);
		casty_send(s.waiter, casty_int,
			casty_ref_eq(stale, c.ref) ? 1 : 0);
		return casty_same();
	}
	}
	return casty_unhandled();
}

static casty_behavior
parent(parent_state s)
{
	return casty_receive(parent_receive, &s, sizeof s);
}

Test(actor_races, a_stale_child_ref_never_names_the_next_actor)
{
	casty_system *sys;
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	for (int i = 0; i < 200; i++) {
		ParentMsg_ref p;
		parent_state  s = {CASTY_REF_NONE, CASTY_REF_NONE, 0};
		casty_msg    *reply;
		casty_spawn(sys, ParentMsg, parent(s), NULL, &p);
		cr_assert(eq(int, casty_ask(sys, p, Cycle, reply_to, 30000,
					  &reply),
			CASTY_OK));
		cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 0));
		casty_msg_free(reply);
	}
	casty_system_destroy(sys);
}
