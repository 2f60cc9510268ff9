// bench/micro_tell.c: what one tell costs, in three settings (the issue's
// "find where time goes"), printed as `name value unit` lines:
//
//   tell_idle_actor_ns      an actor tells an idle actor, which answers:
//                           each tell finds its target idle, so it pays
//                           the full schedule/run/park cycle. Reported
//                           per tell (half a round trip).
//   tell_idle_external_ns   main tells an idle actor and spins until its
//                           handler has run (it bumps a counter): the
//                           path of a message from outside the runtime,
//                           waking a worker when it sleeps.
//   tell_busy_send_ns       main floods 10,000,000 tells to one counter
//   tell_busy_actor_ns      actor: the sender's cost per tell, and the
//                           time per message until the counter has
//                           handled them all (a busy target: scheduled
//                           once, then it drains its mailbox in batches).
//
// Public API only, default configuration, as a user would write it.
#include <casty/casty.h>
#include <stdatomic.h>

#include "bench/bench.h"
#include "bench/pingpong_actors.h"

#define IDLE_ROUNDS ((int64_t)500000)
#define EXTERNAL_TELLS ((int64_t)20000)
#define BUSY_TELLS ((int64_t)10000000)

typedef struct {
	int64_t value;
} Value;
typedef struct {
	casty_ref reply_to;
} Get;
CASTY_MESSAGE(Value, value);
CASTY_MESSAGE(Get, reply_to);
CASTY_PROTOCOL(CounterMsg, Value, Get);

// Idle actor to actor: bench/pingpong.c's two actors, one message at a
// time, so every tell finds its target idle.

static void
idle_actor(casty_system *sys)
{
	double seconds = pingpong_play(sys, "micro_tell", IDLE_ROUNDS);
	bench_metric("tell_idle_actor_ns", seconds * 1e9 / (2 * IDLE_ROUNDS),
	    "ns/msg");
}

// Idle actor from outside: the handler publishes how many it has seen.

typedef struct {
	_Atomic int64_t *seen;
} Mark;

CASTY_HANDLER(mark_receive, Mark)
{
	// Release: main's acquire load then sees a finished handler.
	atomic_fetch_add_explicit(state->seen, 1, memory_order_release);
	return casty_same();
}

static void
idle_external(casty_system *sys)
{
	static _Atomic int64_t seen;
	CounterMsg_ref         mark;
	Mark                   m = {&seen};

	casty_spawn(sys, CounterMsg, casty_receive(mark_receive, &m, sizeof m),
	    NULL, &mark);
	double t0 = bench_now();
	for (int64_t i = 1; i <= EXTERNAL_TELLS; i++) {
		casty_tell(mark, Value, i);
		while (atomic_load_explicit(&seen, memory_order_acquire) < i) {
			// Spin: a sleep would measure the sleep.
		}
	}
	double t1 = bench_now();
	bench_metric("tell_idle_external_ns", (t1 - t0) * 1e9 / EXTERNAL_TELLS,
	    "ns/msg");
}

// Busy actor: a counter that main floods, then asks for its count.

static casty_behavior counter(int64_t count);

CASTY_HANDLER(counter_receive, int64_t)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Value:
		return counter(*state + 1);
	case CounterMsg_Get:
		// Behind every Value main sent before it: the mailbox is FIFO
		// per sender.
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int, *state);
		return casty_same();
	}
	return casty_unhandled();
}

static casty_behavior
counter(int64_t count)
{
	return casty_receive(counter_receive, &count, sizeof count);
}

static void
busy_actor(casty_system *sys)
{
	CounterMsg_ref ctr;
	casty_msg     *reply;

	casty_spawn(sys, CounterMsg, counter(0), NULL, &ctr);
	double t0 = bench_now();
	for (int64_t i = 0; i < BUSY_TELLS; i++) {
		casty_tell(ctr, Value, i);
	}
	double t1 = bench_now();
	int    rc = casty_ask(sys, ctr, Get, reply_to, 600000, &reply,
	       .reply_to = CASTY_REF_NONE);
	double t2 = bench_now();
	bench_check("micro_tell", "busy ask", rc, CASTY_OK);
	bench_check("micro_tell", "busy count",
	    CASTY_AS(casty_int, reply)->value, BUSY_TELLS);
	casty_msg_free(reply);
	bench_metric(
	    "tell_busy_send_ns", (t1 - t0) * 1e9 / BUSY_TELLS, "ns/msg");
	bench_metric(
	    "tell_busy_actor_ns", (t2 - t0) * 1e9 / BUSY_TELLS, "ns/msg");
}

int
main(void)
{
	casty_system *sys;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	idle_actor(sys);
	idle_external(sys);
	busy_actor(sys);
	casty_system_destroy(sys);
	return 0;
}
