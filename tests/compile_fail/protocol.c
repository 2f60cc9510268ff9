// tests/compile_fail/protocol.c: what a typed protocol must reject at
// compile time. check.sh compiles it once per case (-DCASE_name) and
// expects the good cases to compile and the bad ones to fail with the
// error it names.
#include <casty/casty.h>

typedef struct {
	char name[32];
} Greet;
typedef struct {
	int code;
} Bye;
typedef struct {
	int volume;
} Shout; // in no protocol of a greeter
CASTY_MESSAGE(Greet, name);
CASTY_MESSAGE(Bye, code);
CASTY_MESSAGE(Shout, volume);
CASTY_PROTOCOL(GreeterMsg, Greet, Bye);
CASTY_PROTOCOL(LoudMsg, Shout);

CASTY_HANDLER(greeter_receive, void)
{
	switch (GreeterMsg_tag_of(msg)) {
	case GreeterMsg_Greet:
		return casty_same();
#ifndef CASE_switch_missing
	case GreeterMsg_Bye:
		return casty_stopped();
#endif
	}
	return casty_unhandled();
}

int
tell(GreeterMsg_ref ref)
{
#ifdef CASE_bad_tell
	return casty_tell(ref, Shout, 11); // Shout is not a GreeterMsg
#else
	return casty_tell(ref, Greet, "Alice") + casty_tell(ref, Bye, 0);
#endif
}

int
spawn(casty_system *sys)
{
#ifdef CASE_bad_spawn
	LoudMsg_ref ref; // a ref of another protocol
#else
	GreeterMsg_ref ref;
#endif
	return casty_spawn(sys, GreeterMsg,
		casty_receive(greeter_receive, NULL, 0), "greeter", &ref);
}

// An event subscription checks the subscriber's protocol like a tell.
CASTY_PROTOCOL(WatcherMsg, casty_dead_letter);

int
subscribe(casty_system *sys, WatcherMsg_ref watcher)
{
#ifdef CASE_bad_subscribe
	return casty_subscribe(sys, watcher, casty_actor_stopped);
#else
	return casty_subscribe(sys, watcher, casty_dead_letter);
#endif
}
