// bench/pingpong.c: two actors; each reply triggers the next send.
// 2,000,000 messages in total, as in ../shared/peers (CAF and Erlang).
// The driver is main, which asks the ping actor to play and waits for
// the final count; the time runs from just before the first spawn until
// that reply arrives.
#include <casty/casty.h>

#include "bench/bench.h"

typedef struct {
	int64_t   k;
	casty_ref reply_to;
} Ball;
typedef struct {
	int64_t   rounds;
	casty_ref reply_to;
} Play;
CASTY_MESSAGE(Ball, k, reply_to);
CASTY_MESSAGE(Play, rounds, reply_to);
CASTY_PROTOCOL(PongMsg, Ball);
CASTY_PROTOCOL(PingMsg, Play, Ball);

CASTY_HANDLER(pong_receive, void)
{
	const Ball *b = CASTY_AS(Ball, msg);
	casty_send(b->reply_to, Ball, b->k, casty_self(ctx));
	return casty_same();
}

typedef struct {
	PongMsg_ref pong;
	int64_t     rounds;
	casty_ref   main;
} Ping;

static casty_behavior ping(Ping state);

CASTY_HANDLER(ping_receive, Ping)
{
	switch (PingMsg_tag_of(msg)) {
	case PingMsg_Play: {
		const Play *p = CASTY_AS(Play, msg);
		casty_tell(state->pong, Ball, 1, casty_self(ctx));
		return ping((Ping){state->pong, p->rounds, p->reply_to});
	}
	case PingMsg_Ball: {
		int64_t k = CASTY_AS(Ball, msg)->k;
		if (k == state->rounds) {
			casty_send(state->main, casty_int, k);
		} else {
			casty_tell(state->pong, Ball, k + 1, casty_self(ctx));
		}
		return casty_same();
	}
	}
	return casty_unhandled();
}

static casty_behavior
ping(Ping state)
{
	return casty_receive(ping_receive, &state, sizeof state);
}

int
main(void)
{
	const int64_t msgs = 2000000, rounds = msgs / 2;
	casty_system *sys;
	PongMsg_ref   pong;
	PingMsg_ref   pinger;
	casty_msg    *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	double t0 = bench_now();
	casty_spawn(sys, PongMsg, casty_receive(pong_receive, NULL, 0), "pong",
		&pong);
	casty_spawn(sys, PingMsg, ping((Ping){pong, 0, CASTY_REF_NONE}),
		"ping", &pinger);
	int rc = casty_ask(sys, pinger, Play, reply_to, 600000, &reply,
	    .rounds = rounds);
	double t1 = bench_now();
	bench_check("pingpong", "ask", rc, CASTY_OK);
	bench_check("pingpong", "replies", CASTY_AS(casty_int, reply)->value,
		rounds);
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("pingpong", msgs, t1 - t0);
	return 0;
}
