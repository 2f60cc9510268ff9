// examples/event_stream.c: the README's Event Stream: a listener actor
// subscribes to ActorStarted, ActorStopped and DeadLetter and prints them.
#include <stdio.h>

#include <casty/casty.h>

typedef struct { char name[32]; } Greet;
typedef struct { int32_t unused; } Stop;
CASTY_MESSAGE(Greet, name);
CASTY_MESSAGE(Stop, unused);
CASTY_PROTOCOL(GreeterMsg, Greet, Stop);

CASTY_HANDLER(greeter_receive, void)
{
	if (GreeterMsg_tag_of(msg) == GreeterMsg_Stop) {
		return casty_stopped();
	}
	return casty_same();
}

// The listener prints each event; Await answers once n events were seen.
typedef struct { int64_t n; casty_ref reply_to; } Await;
CASTY_MESSAGE(Await, n, reply_to);
CASTY_PROTOCOL(ListenerMsg, casty_actor_started, casty_actor_stopped,
	casty_dead_letter, Await);

typedef struct { int64_t seen; Await waiting; } Listener;

static casty_behavior listener(Listener s);

static Listener answer_if_due(Listener s)
{
	if (!casty_ref_is_none(s.waiting.reply_to) && s.seen >= s.waiting.n) {
		casty_send(s.waiting.reply_to, casty_int, s.seen);
		s.waiting.reply_to = CASTY_REF_NONE;
	}
	return s;
}

static Listener seen_one(Listener s)
{
	s.seen++;
	return answer_if_due(s);
}

CASTY_HANDLER(listener_receive, Listener)
{
	Listener s = *state;
	switch (ListenerMsg_tag_of(msg)) {
	case ListenerMsg_casty_actor_started:
		printf("Started: %s\n", CASTY_AS(casty_actor_started, msg)->path);
		return listener(seen_one(s));
	case ListenerMsg_casty_actor_stopped:
		printf("Stopped: %s\n", CASTY_AS(casty_actor_stopped, msg)->path);
		return listener(seen_one(s));
	case ListenerMsg_casty_dead_letter:
		printf("Dead letter: %s\n", CASTY_AS(casty_dead_letter, msg)->message);
		return listener(seen_one(s));
	case ListenerMsg_Await:
		s.waiting = *CASTY_AS(Await, msg);
		return listener(answer_if_due(s));
	}
	return casty_unhandled();
}

static casty_behavior listener(Listener s)
{
	return casty_receive(listener_receive, &s, sizeof s);
}

static void await_events(casty_system *system, ListenerMsg_ref l, int64_t n)
{
	casty_msg *reply;
	casty_ask(system, l, Await, reply_to, 5000, &reply, .n = n);
	casty_msg_free(reply);
}

int main(void)
{
	casty_system *system;
	ListenerMsg_ref events;
	GreeterMsg_ref greeter;

	casty_system_create(NULL, &system);
	casty_spawn(system, ListenerMsg, listener((Listener){0}), "listener", &events);
	await_events(system, events, 0); // it has started: not an event for itself
	casty_subscribe(system, events, casty_actor_started);
	casty_subscribe(system, events, casty_actor_stopped);
	casty_subscribe(system, events, casty_dead_letter);

	casty_spawn(system, GreeterMsg, casty_receive(greeter_receive, NULL, 0),
		"greeter", &greeter);
	casty_tell(greeter, Greet, "Alice");
	casty_tell(greeter, Stop, 0);
	await_events(system, events, 2); // started, stopped
	casty_tell(greeter, Greet, "Bob"); // the greeter has stopped
	await_events(system, events, 3);
	casty_unsubscribe(system, events, casty_actor_stopped);
	casty_system_destroy(system);
}
