// bench/mailbox_many.c: a driver sends 100 rounds of one message to each
// of 10,000 actors, as mailbox-many in ../shared/peers (CAF and Erlang):
// round r sends r to every actor, r = 1..100, so 1,000,000 messages;
// each actor acks with the sum of its payloads after its 100th and
// stops. Validated: 10,000 acks whose sums add up to 10,000 * 5050.
//
// As in CAF, the driver is an actor that spawns the 10,000 as children
// and sends every round in one go, here from the handler of the start
// message that main asks (it carries the reply ref). The time runs from
// just before the driver's spawn until the reply arrived at main.
#include <casty/casty.h>

#include "bench/drive.h"

#define N ((int64_t)10000)
#define PER ((int64_t)100)

typedef struct {
	int64_t value;
} Value;
typedef struct {
	int64_t sum;
} Ack;
typedef struct {
	int64_t acks;
	int64_t sum;
} Result;
CASTY_MESSAGE(Value, value);
CASTY_MESSAGE(Ack, sum);
CASTY_MESSAGE(Result, acks, sum);
CASTY_PROTOCOL(BoxMsg, Value);
CASTY_PROTOCOL(DriverMsg, Start, Ack);

typedef struct {
	int64_t left;
	int64_t sum;
} Box;

static casty_behavior box(Box state);

CASTY_HANDLER(box_receive, Box)
{
	Box next = {state->left - 1, state->sum + CASTY_AS(Value, msg)->value};
	if (next.left == 0) {
		casty_tell(
		    DriverMsg_ref_from(casty_ctx_parent(ctx)), Ack, next.sum);
		return casty_stopped();
	}
	return box(next);
}

static casty_behavior
box(Box state)
{
	return casty_receive(box_receive, &state, sizeof state);
}

typedef struct {
	casty_ref reply_to;
	int64_t   acks;
	int64_t   sum;
} Driver;

static casty_behavior driver(Driver state);

CASTY_HANDLER(driver_receive, Driver)
{
	switch (DriverMsg_tag_of(msg)) {
	case DriverMsg_Start: {
		// Too big for a worker's stack: 160 KB of refs.
		BoxMsg_ref *xs = malloc(N * sizeof *xs);
		bench_check("mailbox-many", "malloc", xs != NULL, 1);
		for (int64_t i = 0; i < N; i++) {
			casty_ctx_spawn(
			    ctx, BoxMsg, box((Box){PER, 0}), NULL, &xs[i]);
		}
		for (int64_t r = 1; r <= PER; r++) {
			for (int64_t i = 0; i < N; i++) {
				casty_tell(xs[i], Value, r);
			}
		}
		free(xs);
		return driver((Driver){CASTY_AS(Start, msg)->reply_to, 0, 0});
	}
	case DriverMsg_Ack: {
		Driver next = {state->reply_to, state->acks + 1,
		    state->sum + CASTY_AS(Ack, msg)->sum};
		if (next.acks == N) {
			casty_send(next.reply_to, Result, next.acks, next.sum);
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
	casty_system *sys;
	double        seconds;

	casty_msg    *reply = bench_drive("mailbox-many", &DriverMsg__protocol,
	       driver((Driver){CASTY_REF_NONE, 0, 0}), &Result__type, &sys,
	       &seconds);
	const Result *r     = CASTY_AS(Result, reply);
	bench_check("mailbox-many", "acks", r->acks, N);
	bench_check("mailbox-many", "sum", r->sum, N * (PER * (PER + 1) / 2));
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("mailbox-many", N * PER, seconds);
	return 0;
}
