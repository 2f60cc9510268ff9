// bench/fanin.c: 4 producers each send 1..2,500,000 to one counter, as
// fanin in ../shared/peers (CAF and Erlang): 10,000,000 messages, and the
// counter's count and sum are validated.
//
// Producers are actors whose setup sends the whole sequence and stops, as
// CAF's producer_fn sends from its spawn function. main asks the counter
// to start; the counter keeps the reply ref and spawns the producers as
// its children (main cannot hand them a ref to itself the way CAF's
// scoped actor can). The time runs from just before the first spawn until
// the counter's reply arrived at main.
#include <casty/casty.h>

#include "bench/drive.h"

enum { PRODUCERS = 4 };
#define PER ((int64_t)2500000)
#define TOTAL (PRODUCERS * PER)

typedef struct {
	int64_t value;
} Value;
typedef struct {
	int64_t count;
	int64_t sum;
} Result;
CASTY_MESSAGE(Value, value);
CASTY_MESSAGE(Result, count, sum);
CASTY_PROTOCOL(CounterMsg, Start, Value);
CASTY_PROTOCOL(ProducerMsg, Start); // receives nothing: it stops in setup

CASTY_SETUP(producer_setup, CounterMsg_ref)
{
	for (int64_t i = 1; i <= PER; i++) {
		casty_tell(*state, Value, i);
	}
	return casty_stopped();
}

typedef struct {
	casty_ref reply_to;
	int64_t   count;
	int64_t   sum;
} Counter;

static casty_behavior counter(Counter state);

CASTY_HANDLER(counter_receive, Counter)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Start: {
		CounterMsg_ref me = CounterMsg_ref_from(casty_self(ctx));
		for (int i = 0; i < PRODUCERS; i++) {
			ProducerMsg_ref p;
			casty_ctx_spawn(ctx, ProducerMsg,
			    casty_setup(producer_setup, &me, sizeof me), NULL,
			    &p);
		}
		return counter((Counter){CASTY_AS(Start, msg)->reply_to, 0, 0});
	}
	case CounterMsg_Value: {
		Counter next = {state->reply_to, state->count + 1,
		    state->sum + CASTY_AS(Value, msg)->value};
		if (next.count == TOTAL) {
			casty_send(next.reply_to, Result, next.count, next.sum);
			return casty_stopped();
		}
		return counter(next);
	}
	}
	return casty_unhandled();
}

static casty_behavior
counter(Counter state)
{
	return casty_receive(counter_receive, &state, sizeof state);
}

int
main(void)
{
	casty_system *sys;
	double        seconds;

	casty_msg    *reply = bench_drive("fanin", &CounterMsg__protocol,
	       counter((Counter){CASTY_REF_NONE, 0, 0}), &Result__type, &sys,
	       &seconds);
	const Result *r     = CASTY_AS(Result, reply);
	bench_check("fanin", "count", r->count, TOTAL);
	bench_check("fanin", "sum", r->sum, PRODUCERS * (PER * (PER + 1) / 2));
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("fanin", TOTAL, seconds);
	return 0;
}
