// bench/pingpong_actors.h: the two actors of pingpong (each reply
// triggers the next send), shared by bench/pingpong.c and the
// microbenchmarks that time a message between two idle actors.
#ifndef CASTY_BENCH_PINGPONG_ACTORS_H
#define CASTY_BENCH_PINGPONG_ACTORS_H

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

// pingpong_play spawns the two actors in sys, plays rounds exchanges
// (2 * rounds messages) and returns the seconds from just before the first
// spawn until the final count arrived; a wrong count fails the run.
static double
pingpong_play(casty_system *sys, const char *bench, int64_t rounds)
{
	PongMsg_ref pong;
	PingMsg_ref pinger;
	casty_msg  *reply;

	double t0 = bench_now();
	casty_spawn(sys, PongMsg, casty_receive(pong_receive, NULL, 0), NULL,
		&pong);
	casty_spawn(sys, PingMsg, ping((Ping){pong, 0, CASTY_REF_NONE}), NULL,
		&pinger);
	int rc = casty_ask(sys, pinger, Play, reply_to, 600000, &reply,
	    .rounds = rounds);
	double t1 = bench_now();
	bench_check(bench, "ask", rc, CASTY_OK);
	bench_check(bench, "replies", CASTY_AS(casty_int, reply)->value, rounds);
	casty_msg_free(reply);
	return t1 - t0;
}

#endif // CASTY_BENCH_PINGPONG_ACTORS_H
