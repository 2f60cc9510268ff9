// examples/quick_start.c: the README's Quick Start.
#include <casty/casty.h>
#include <stdio.h>

typedef struct { char name[32]; } Greet;
CASTY_MESSAGE(Greet, name);
CASTY_PROTOCOL(GreeterMsg, Greet);

CASTY_HANDLER(greeter_receive, void)
{
	printf("Hello, %s!\n", CASTY_AS(Greet, msg)->name);
	return casty_same();
}

static casty_behavior greeter(void)
{
	return casty_receive(greeter_receive, NULL, 0);
}

int main(void)
{
	casty_system *system;
	GreeterMsg_ref ref;
	casty_system_create(NULL, &system);
	casty_spawn(system, GreeterMsg, greeter(), "greeter", &ref);
	casty_tell(ref, Greet, "Alice");
	casty_tell(ref, Greet, "Bob");
	casty_system_destroy(system); // handles what was sent, then stops
}
