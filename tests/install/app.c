// tests/install/app.c: a program outside the tree, built against the
// installed headers and library through pkg-config (see pkg_config.sh).
// It keeps a counter in an actor, adds to it and asks for the total.
#include <casty/casty.h>
#include <inttypes.h>
#include <stdio.h>

typedef struct {
	int64_t amount;
} Add;
typedef struct {
	casty_ref reply_to;
} Get;
CASTY_MESSAGE(Add, amount);
CASTY_MESSAGE(Get, reply_to);
CASTY_PROTOCOL(CounterMsg, Add, Get);

static casty_behavior counter(int64_t total);

CASTY_HANDLER(counter_receive, int64_t)
{
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Add:
		return counter(*state + CASTY_AS(Add, msg)->amount);
	case CounterMsg_Get:
		casty_send(CASTY_AS(Get, msg)->reply_to, casty_int, *state);
		return casty_same();
	}
	return casty_unhandled();
}

static casty_behavior
counter(int64_t total)
{
	return casty_receive(counter_receive, &total, sizeof total);
}

int
main(void)
{
	casty_system  *sys;
	CounterMsg_ref ref;
	casty_msg     *reply;
	int            err;

	if ((err = casty_system_create(NULL, &sys)) != CASTY_OK) {
		fprintf(stderr, "casty_system_create: %s\n", casty_strerror(err));
		return 1;
	}
	err = casty_spawn(sys, CounterMsg, counter(0), "counter", &ref);
	if (err != CASTY_OK) {
		fprintf(stderr, "casty_spawn: %s\n", casty_strerror(err));
		return 1;
	}
	casty_tell(ref, Add, 40);
	casty_tell(ref, Add, 2);
	err = casty_ask(sys, ref, Get, reply_to, 5000, &reply);
	if (err != CASTY_OK) {
		fprintf(stderr, "casty_ask: %s\n", casty_strerror(err));
		return 1;
	}
	printf("casty %s total=%" PRId64 "\n", CASTY_VERSION_STRING,
		CASTY_AS(casty_int, reply)->value);
	casty_msg_free(reply);
	casty_system_destroy(sys);
	return 0;
}
