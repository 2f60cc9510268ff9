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

#include "bench/bench.h"

enum { PRODUCERS = 4 };
#define PER ((int64_t)2500000)
#define TOTAL (PRODUCERS * PER)

typedef struct {
	casty_ref reply_to;
} Start;
typedef struct {
	int64_t value;
} Value;
typedef struct {
	int64_t count;
	int64_t sum;
} Result;
CASTY_MESSAGE(Start, reply_to);
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
	casty_system  *sys;
	CounterMsg_ref ctr;
	casty_msg     *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	double t0 = bench_now();
	casty_spawn(sys, CounterMsg, counter((Counter){CASTY_REF_NONE, 0, 0}),
	    NULL, &ctr);
	int    rc = casty_ask(sys, ctr, Start, reply_to, 600000, &reply,
	       .reply_to = CASTY_REF_NONE);
	double t1 = bench_now();
	bench_check("fanin", "ask", rc, CASTY_OK);
	const Result *r = CASTY_AS(Result, reply);
	bench_check("fanin", "reply type", r != NULL, 1);
	bench_check("fanin", "count", r->count, TOTAL);
	bench_check("fanin", "sum", r->sum, PRODUCERS * (PER * (PER + 1) / 2));
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("fanin", TOTAL, t1 - t0);
	return 0;
}
