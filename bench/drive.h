// bench/drive.h: the shape most peer benchmarks share: main spawns one
// root actor (the driver, counter or mall), asks it to Start, and waits
// for its result, timing from just before the spawn until the reply
// arrived, as the peers time theirs.
#ifndef CASTY_BENCH_DRIVE_H
#define CASTY_BENCH_DRIVE_H

#include <casty/casty.h>

#include "bench/bench.h"

// Start carries the ref the final result goes to.
typedef struct {
	casty_ref reply_to;
} Start;
CASTY_MESSAGE(Start, reply_to);

// bench_drive creates a default system, spawns a root actor of protocol
// proto with behavior, asks it Start and checks that the reply is of type
// result. It returns the reply (free it with casty_msg_free after reading
// it) and sets *seconds; *sys is the system, for the caller to destroy.
// Any failure ends the run with CHECK FAILED.
static casty_msg *
bench_drive(const char *bench, const casty_protocol *proto,
    casty_behavior behavior, const casty_msg_type *result, casty_system **sys,
    double *seconds)
{
	casty_ref  driver;
	casty_msg *reply = NULL;
	Start      start = {CASTY_REF_NONE};

	bench_check(bench, "system", casty_system_create(NULL, sys), CASTY_OK);
	double t0 = bench_now();
	bench_check(bench, "spawn",
	    casty_spawn_untyped(*sys, NULL, proto, behavior, NULL, &driver),
	    CASTY_OK);
	int rc   = casty_ask_msg(*sys, driver, &Start__type, CASTY_TAG_UNKNOWN,
	      &start, offsetof(Start, reply_to), 600000, &reply);
	*seconds = bench_now() - t0;
	bench_check(bench, "ask", rc, CASTY_OK);
	bench_check(bench, "reply type", casty_msg_is(reply, result), 1);
	return reply;
}

#endif // CASTY_BENCH_DRIVE_H
