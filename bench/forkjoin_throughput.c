// bench/forkjoin_throughput.c: a driver actor sends payloads 0..12M-1
// round-robin to 60 worker actors that add them up, as forkjoin-throughput
// in ../shared/peers (CAF and Erlang). Each worker reports its count and
// sum after its 200,000th message; the driver validates nothing itself
// but hands main the total count, the total sum and the smallest
// per-worker count, which main checks as CAF does.
//
// As in CAF, the driver spawns the workers and sends all 12M messages in
// one go (CAF from its spawn function, here from the handler of the
// start message that main asks, since that carries the reply ref). The
// time runs from just before the driver's spawn until the reply arrived.
#include <casty/casty.h>

#include "bench/drive.h"

enum { WORKERS = 60 };
#define PER ((int64_t)200000)
#define TOTAL (WORKERS * PER)

typedef struct {
	int64_t value;
} Value;
typedef struct {
	int64_t count;
	int64_t sum;
} Done;
typedef struct {
	int64_t count;
	int64_t sum;
	int64_t min_count;
} Result;
CASTY_MESSAGE(Value, value);
CASTY_MESSAGE(Done, count, sum);
CASTY_MESSAGE(Result, count, sum, min_count);
CASTY_PROTOCOL(WorkerMsg, Value);
CASTY_PROTOCOL(DriverMsg, Start, Done);

typedef struct {
	int64_t count;
	int64_t sum;
} Worker;

static casty_behavior worker(Worker state);

CASTY_HANDLER(worker_receive, Worker)
{
	Worker next = {
	    state->count + 1, state->sum + CASTY_AS(Value, msg)->value};
	if (next.count == PER) {
		casty_tell(DriverMsg_ref_from(casty_ctx_parent(ctx)), Done,
		    next.count, next.sum);
		return casty_stopped();
	}
	return worker(next);
}

static casty_behavior
worker(Worker state)
{
	return casty_receive(worker_receive, &state, sizeof state);
}

typedef struct {
	casty_ref reply_to;
	int64_t   reports_left;
	int64_t   count;
	int64_t   sum;
	int64_t   min_count;
} Driver;

static casty_behavior driver(Driver state);

CASTY_HANDLER(driver_receive, Driver)
{
	switch (DriverMsg_tag_of(msg)) {
	case DriverMsg_Start: {
		WorkerMsg_ref ws[WORKERS];
		for (int w = 0; w < WORKERS; w++) {
			casty_ctx_spawn(ctx, WorkerMsg, worker((Worker){0, 0}),
			    NULL, &ws[w]);
		}
		int64_t i = 0;
		for (int64_t r = 0; r < PER; r++) {
			for (int w = 0; w < WORKERS; w++) {
				casty_tell(ws[w], Value, i++);
			}
		}
		return driver((Driver){
		    CASTY_AS(Start, msg)->reply_to, WORKERS, 0, 0, INT64_MAX});
	}
	case DriverMsg_Done: {
		const Done *d    = CASTY_AS(Done, msg);
		Driver      next = {state->reply_to, state->reports_left - 1,
		         state->count + d->count, state->sum + d->sum,
                    d->count < state->min_count ? d->count : state->min_count};
		if (next.reports_left == 0) {
			casty_send(next.reply_to, Result, next.count, next.sum,
			    next.min_count);
			return casty_stopped();
		}
		return driver(next);
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
	const char   *name = "forkjoin-throughput";
	casty_system *sys;
	double        seconds;

	casty_msg    *reply = bench_drive(name, &DriverMsg__protocol,
	       driver((Driver){CASTY_REF_NONE, 0, 0, 0, 0}), &Result__type, &sys,
	       &seconds);
	const Result *r     = CASTY_AS(Result, reply);
	bench_check(name, "count", r->count, TOTAL);
	bench_check(name, "min per-worker count", r->min_count, PER);
	bench_check(name, "sum", r->sum, TOTAL * (TOTAL - 1) / 2);
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report(name, TOTAL, seconds);
	return 0;
}
