// bench/micro_spawn.c: what an actor's whole life costs: spawn, start,
// one message, stop, and the parent's bookkeeping when the child is gone.
// A driver actor spawns 1,000,000 children in batches of 1,000 and tells
// each one Go; a child answers Go with an Ack to its parent and stops.
// The next batch starts when the last one has acked, so cells and
// envelopes are reused as they would be in a long-running program
// (skynet's pattern, without the tree). Prints `name value unit` lines:
//
//   spawn_stop_ns   wall time per actor, from the first spawn until the
//                   last ack (both workers busy: not CPU time)
//   spawn_call_ns   time inside casty_ctx_spawn per actor, on the driver
//
// Public API only, default configuration.
#include <casty/casty.h>

#include "bench/bench.h"

#define ACTORS ((int64_t)1000000)
#define BATCH ((int64_t)1000)

typedef struct {
	casty_ref reply_to;
} Start;
typedef struct {
	int32_t unused;
} Go;
typedef struct {
	int32_t unused;
} Ack;
typedef struct {
	int64_t actors;
	int64_t spawn_ns;
} Result;
CASTY_MESSAGE(Start, reply_to);
CASTY_MESSAGE(Go, unused);
CASTY_MESSAGE(Ack, unused);
CASTY_MESSAGE(Result, actors, spawn_ns);
CASTY_PROTOCOL(ChildMsg, Go);
CASTY_PROTOCOL(DriverMsg, Start, Ack);

CASTY_HANDLER(child_receive, void)
{
	casty_tell(DriverMsg_ref_from(casty_ctx_parent(ctx)), Ack, 0);
	return casty_stopped();
}

typedef struct {
	casty_ref reply_to;
	int64_t   spawned;
	int64_t   acks; // of the current batch
	int64_t   spawn_ns;
} Driver;

static casty_behavior driver(Driver state);

// Spawns the next batch and tells each child Go.
static Driver
spawn_batch(casty_ctx *ctx, Driver d)
{
	double t0 = bench_now();
	for (int64_t i = 0; i < BATCH; i++) {
		ChildMsg_ref c;
		int          rc = casty_ctx_spawn(ctx, ChildMsg,
		             casty_receive(child_receive, NULL, 0), NULL, &c);
		bench_check("micro_spawn", "spawn", rc, CASTY_OK);
		casty_tell(c, Go, 0);
	}
	// The tells are in the sum too; they are a fraction of the spawn.
	d.spawn_ns += (int64_t)((bench_now() - t0) * 1e9);
	d.spawned += BATCH;
	d.acks = 0;
	return d;
}

CASTY_HANDLER(driver_receive, Driver)
{
	switch (DriverMsg_tag_of(msg)) {
	case DriverMsg_Start:
		return driver(spawn_batch(
		    ctx, (Driver){CASTY_AS(Start, msg)->reply_to, 0, 0, 0}));
	case DriverMsg_Ack: {
		Driver next = *state;
		if (++next.acks < BATCH) {
			return driver(next);
		}
		if (next.spawned == ACTORS) {
			casty_send(
			    next.reply_to, Result, next.spawned, next.spawn_ns);
			return casty_same();
		}
		return driver(spawn_batch(ctx, next));
	}
	}
	return casty_unhandled();
}

static casty_behavior
driver(Driver state)
{
	return casty_receive(driver_receive, &state, sizeof state);
}

int
main(void)
{
	casty_system *sys;
	DriverMsg_ref drv;
	casty_msg    *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	casty_spawn(sys, DriverMsg, driver((Driver){CASTY_REF_NONE, 0, 0, 0}),
	    NULL, &drv);
	double t0 = bench_now();
	int    rc = casty_ask(sys, drv, Start, reply_to, 600000, &reply,
	       .reply_to = CASTY_REF_NONE);
	double t1 = bench_now();
	bench_check("micro_spawn", "ask", rc, CASTY_OK);
	const Result *r = CASTY_AS(Result, reply);
	bench_check("micro_spawn", "reply type", r != NULL, 1);
	bench_check("micro_spawn", "actors", r->actors, ACTORS);
	bench_metric("spawn_stop_ns", (t1 - t0) * 1e9 / ACTORS, "ns/actor");
	bench_metric("spawn_call_ns", (double)r->spawn_ns / ACTORS, "ns/actor");
	casty_msg_free(reply);
	casty_system_destroy(sys);
	return 0;
}
