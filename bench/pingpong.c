// bench/pingpong.c: two actors; each reply triggers the next send.
// 2,000,000 messages in total, as in ../shared/peers (CAF and Erlang).
// The driver is main, which asks the ping actor to play and waits for
// the final count; the time runs from just before the first spawn until
// that reply arrives.
#include <casty/casty.h>

#include "bench/pingpong_actors.h"

int
main(void)
{
	const int64_t msgs = 2000000;
	casty_system *sys;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	double seconds = pingpong_play(sys, "pingpong", msgs / 2);
	casty_system_destroy(sys);
	bench_report("pingpong", msgs, seconds);
	return 0;
}
