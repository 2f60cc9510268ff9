// tests/runtime/test_system.c: creating, configuring, stopping and
// destroying systems, and what is refused after shutdown.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <casty/casty.h>

TestSuite(system, .timeout = 60);

typedef struct {
	int64_t n;
} Tick;
typedef struct {
	casty_ref reply_to;
} Ping;
CASTY_MESSAGE(Tick, n);
CASTY_MESSAGE(Ping, reply_to);
CASTY_PROTOCOL(TickMsg, Tick, Ping);

static _Atomic int64_t ticks;

CASTY_HANDLER(tick_receive, void)
{
	switch (TickMsg_tag_of(msg)) {
	case TickMsg_Tick:
		atomic_fetch_add(&ticks, CASTY_AS(Tick, msg)->n);
		return casty_same();
	case TickMsg_Ping:
		casty_send(CASTY_AS(Ping, msg)->reply_to, casty_int, 1);
		return casty_same();
	}
	return casty_unhandled();
}

static casty_behavior
ticker(void)
{
	return casty_receive(tick_receive, NULL, 0);
}

Test(system, defaults_create_a_running_system)
{
	casty_system_config cfg;
	casty_system       *sys = NULL;
	casty_system_config_init(&cfg);
	cr_assert(eq(ptr, (void *)cfg.name, NULL)); // the file's, else ours
	cr_assert(eq(ptr, (void *)cfg.config, NULL));
	cr_assert(eq(u32, cfg.throughput, 64));
	cr_assert(eq(u32, cfg.workers, 0));
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	cr_assert(eq(str, (char *)casty_system_name(sys), "casty-system"));
	casty_system_destroy(sys);
}

Test(system, bad_settings_return_einval_and_leave_out_untouched)
{
	casty_system_config cfg;
	casty_system       *sys = (casty_system *)&cfg;
	casty_system_config_init(&cfg);
	cfg.workers = 1u << 20;
	cr_assert(eq(int, casty_system_create(&cfg, &sys), -EINVAL));
	cr_assert(eq(ptr, sys, (casty_system *)&cfg));
	casty_system_config_init(&cfg);
	cfg.name = "a/b";
	cr_assert(eq(int, casty_system_create(&cfg, &sys), -EINVAL));
	cfg.name = "";
	cr_assert(eq(int, casty_system_create(&cfg, &sys), -EINVAL));
	cr_assert(eq(int, casty_system_create(NULL, NULL), -EINVAL));
}

Test(system, one_worker_and_a_small_batch_still_deliver_everything)
{
	casty_system_config cfg;
	casty_system       *sys;
	TickMsg_ref         t;
	casty_system_config_init(&cfg);
	cfg.workers = 1;
	cfg.throughput = 1;
	cfg.name = "tiny";
	atomic_store(&ticks, 0);
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	casty_spawn(sys, TickMsg, ticker(), "t", &t);
	for (int i = 0; i < 1000; i++) {
		casty_tell(t, Tick, 1);
	}
	casty_system_destroy(sys); // drains before stopping
	cr_assert(eq(i64, atomic_load(&ticks), 1000));
}

Test(system, destroy_handles_what_was_sent_before_it)
{
	casty_system *sys;
	TickMsg_ref   t[8];
	atomic_store(&ticks, 0);
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	for (int i = 0; i < 8; i++) {
		casty_spawn(sys, TickMsg, ticker(), NULL, &t[i]);
	}
	for (int n = 0; n < 10000; n++) {
		casty_tell(t[n % 8], Tick, 1);
	}
	casty_system_destroy(sys);
	cr_assert(eq(i64, atomic_load(&ticks), 10000));
}

Test(system, after_shutdown_tell_ask_and_spawn_are_refused)
{
	casty_system      *sys;
	TickMsg_ref        t, u;
	casty_msg         *reply;
	casty_system_stats st;
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	casty_spawn(sys, TickMsg, ticker(), "t", &t);
	casty_system_stop(sys);
	casty_system_stop(sys); // harmless twice
	cr_assert(eq(int, casty_spawn(sys, TickMsg, ticker(), "u", &u),
		CASTY_ESTOPPED));
	casty_system_wait(sys);
	casty_system_stats_get(sys, &st);
	cr_assert(eq(u64, st.live_actors, 0), "every actor stopped");
	cr_assert(eq(int, casty_tell(t, Tick, 1), CASTY_ESTOPPED));
	cr_assert(eq(int, casty_ask(sys, t, Ping, reply_to, 10, &reply),
		CASTY_ESTOPPED));
	casty_system_destroy(sys);
}

Test(system, stop_without_drain_still_stops_everything)
{
	casty_system_config cfg;
	casty_system       *sys;
	TickMsg_ref         t;
	casty_system_stats  st;
	casty_system_config_init(&cfg);
	cfg.drain_timeout_ms = 0;
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	for (int i = 0; i < 100; i++) {
		casty_spawn(sys, TickMsg, ticker(), NULL, &t);
		casty_tell(t, Tick, 1);
	}
	casty_system_stop(sys); // no drain: stops behind what is queued
	casty_system_wait(sys);
	casty_system_stats_get(sys, &st);
	cr_assert(eq(u64, st.live_actors, 0));
	casty_system_destroy(sys); // ASan/valgrind: nothing leaks
}

Test(system, strerror_knows_both_ranges)
{
	int codes[] = {CASTY_OK, CASTY_ESTOPPED, CASTY_ENOREF, CASTY_EFULL,
		CASTY_ECORRUPT, CASTY_ETYPE};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		cr_assert(not(eq(str, (char *)casty_strerror(codes[i]),
			"unknown error")));
	}
	cr_assert(eq(str, (char *)casty_strerror(-EINVAL), strerror(EINVAL)));
	cr_assert(eq(str, (char *)casty_strerror(-99999), "unknown error"));
}

Test(system, two_systems_run_side_by_side)
{
	casty_system *a, *b;
	TickMsg_ref   ta, tb;
	casty_msg    *reply;
	cr_assert(eq(int, casty_system_create(NULL, &a), CASTY_OK));
	cr_assert(eq(int, casty_system_create(NULL, &b), CASTY_OK));
	casty_spawn(a, TickMsg, ticker(), "t", &ta);
	casty_spawn(b, TickMsg, ticker(), "t", &tb);
	cr_assert(eq(int, casty_ask(a, ta, Ping, reply_to, 60000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
	cr_assert(eq(int, casty_ask(b, ta, Ping, reply_to, 10, &reply),
		CASTY_ENOREF), "a ref of another system");
	casty_system_destroy(a);
	cr_assert(eq(int, casty_ask(b, tb, Ping, reply_to, 60000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
	casty_system_destroy(b);
}

// An actor that never runs dry: destroy waits for the drain timeout, then
// stops it anyway.
static _Atomic int64_t forever_runs;

CASTY_HANDLER(forever_receive, void)
{
	atomic_fetch_add(&forever_runs, 1);
	casty_tell(TickMsg_ref_from(casty_self(ctx)), Tick, 0);
	return casty_same();
}

Test(system, destroy_stops_an_actor_that_never_goes_idle)
{
	casty_system_config cfg;
	casty_system       *sys;
	TickMsg_ref         t;
	casty_system_config_init(&cfg);
	cfg.drain_timeout_ms = 20;
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	casty_spawn(sys, TickMsg, casty_receive(forever_receive, NULL, 0), "f",
		&t);
	casty_tell(t, Tick, 0);
	casty_system_destroy(sys); // returns: the stop is queued behind ticks
	int64_t runs = atomic_load(&forever_runs);
	cr_assert(lt(i64, 0, runs), "the actor ran until destroy stopped it");
	cr_assert(eq(i64, atomic_load(&forever_runs), runs),
		"and never after");
}
