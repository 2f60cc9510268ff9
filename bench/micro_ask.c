// bench/micro_ask.c: the round trip of casty_ask from a thread outside
// the runtime: main asks an echo actor 50,000 times, one after the
// other, and each reply is freed before the next ask. Per ask that is a
// promise cell taken and released, one envelope each way, the echo's
// schedule/run/park, and main's futex sleep and wake-up (or a spin when
// the reply is quick). Prints `ask_roundtrip_ns <v> ns/ask`.
//
// Public API only, default configuration.
#include <casty/casty.h>

#include "bench/bench.h"

#define ASKS ((int64_t)50000)

typedef struct {
	int64_t   k;
	casty_ref reply_to;
} Echo;
CASTY_MESSAGE(Echo, k, reply_to);
CASTY_PROTOCOL(EchoMsg, Echo);

CASTY_HANDLER(echo_receive, void)
{
	const Echo *e = CASTY_AS(Echo, msg);
	casty_send(e->reply_to, casty_int, e->k);
	return casty_same();
}

int
main(void)
{
	casty_system *sys;
	EchoMsg_ref   echo;
	casty_msg    *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	casty_spawn(
	    sys, EchoMsg, casty_receive(echo_receive, NULL, 0), NULL, &echo);
	double t0 = bench_now();
	for (int64_t i = 0; i < ASKS; i++) {
		int rc =
		    casty_ask(sys, echo, Echo, reply_to, 60000, &reply, .k = i);
		bench_check("micro_ask", "ask", rc, CASTY_OK);
		bench_check(
		    "micro_ask", "reply", CASTY_AS(casty_int, reply)->value, i);
		casty_msg_free(reply);
	}
	double t1 = bench_now();
	bench_metric("ask_roundtrip_ns", (t1 - t0) * 1e9 / ASKS, "ns/ask");
	casty_system_destroy(sys);
	return 0;
}
