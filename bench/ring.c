// bench/ring.c: 503 actors in a ring pass one token 10,000,000 times, as
// ring in ../shared/peers (CAF and Erlang). The token carries the number
// of hops still to go; the actor that receives the hop count 1 reports how
// many times it has seen the token, which must be its number of laps.
//
// Like CAF, main spawns the ring as root actors and links each to the next
// with a message. main cannot receive, so where CAF's token goes to main's
// scoped actor at the end, ours carries the ask's reply ref round the ring
// (16 bytes more per hop, copied with the payload). The time runs from
// just before the first spawn until the reply arrived at main.
#include <casty/casty.h>

#include "bench/bench.h"

typedef struct {
	casty_ref next;
} Link;
typedef struct {
	int64_t   hops; // still to go, this one included
	casty_ref reply_to;
} Token;
CASTY_MESSAGE(Link, next);
CASTY_MESSAGE(Token, hops, reply_to);
CASTY_PROTOCOL(RingMsg, Link, Token);

typedef struct {
	RingMsg_ref next;
	int64_t     seen;
} Node;

static casty_behavior node(Node state);

CASTY_HANDLER(node_receive, Node)
{
	switch (RingMsg_tag_of(msg)) {
	case RingMsg_Link:
		return node((Node){
		    RingMsg_ref_from(CASTY_AS(Link, msg)->next), state->seen});
	case RingMsg_Token: {
		const Token *t    = CASTY_AS(Token, msg);
		int64_t      seen = state->seen + 1;
		if (t->hops == 1) {
			casty_send(t->reply_to, casty_int, seen);
		} else {
			casty_tell(
			    state->next, Token, t->hops - 1, t->reply_to);
		}
		return node((Node){state->next, seen});
	}
	}
	return casty_unhandled();
}

static casty_behavior
node(Node state)
{
	return casty_receive(node_receive, &state, sizeof state);
}

int
main(void)
{
	enum { NODES = 503 };
	const int64_t      hops = 10000000;
	static RingMsg_ref ring[NODES];
	casty_system      *sys;
	casty_msg         *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	double t0 = bench_now();
	for (int i = 0; i < NODES; i++) {
		int rc = casty_spawn(sys, RingMsg,
		    node((Node){{CASTY_REF_NONE}, 0}), NULL, &ring[i]);
		bench_check("ring", "spawn", rc, CASTY_OK);
	}
	for (int i = 0; i < NODES; i++) {
		casty_tell(ring[i], Link, ring[(i + 1) % NODES].ref);
	}
	int rc = casty_ask(
	    sys, ring[0], Token, reply_to, 600000, &reply, .hops = hops);
	double t1 = bench_now();
	bench_check("ring", "ask", rc, CASTY_OK);
	// The final hop lands on actor (hops-1) % NODES; it has seen the
	// token once per lap up to and including this one.
	const int64_t last = (hops - 1) % NODES;
	bench_check("ring", "visits of final actor",
	    CASTY_AS(casty_int, reply)->value, (hops - 1 - last) / NODES + 1);
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("ring", hops, t1 - t0);
	return 0;
}
