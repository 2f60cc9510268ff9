// examples/lifecycle_hooks.c: the README's Lifecycle Hooks: pre_start and
// post_stop log through the actor's context. The Python logs at INFO
// through a logger configured to print; here the sink prints to stdout.
#include <stdio.h>

#include <casty/casty.h>

typedef struct { char text[32]; } Text;
CASTY_MESSAGE(Text, text);
CASTY_PROTOCOL(TextMsg, Text);

static int pre_start(casty_ctx *ctx)
{
	casty_log_info(ctx, "Actor starting");
	return CASTY_OK;
}

static int post_stop(casty_ctx *ctx)
{
	casty_log_info(ctx, "Actor stopped");
	return CASTY_OK;
}

CASTY_HANDLER(my_receive, void)
{
	return casty_same();
}

static casty_behavior my_actor(void)
{
	return casty_with_lifecycle(casty_receive(my_receive, NULL, 0),
		(casty_lifecycle){.pre_start = pre_start, .post_stop = post_stop});
}

static void print_line(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	printf("%s:%s:%s\n", casty_log_level_name(level), path, message);
}

int main(void)
{
	casty_system *system;
	TextMsg_ref ref;

	casty_log_set_sink(print_line, NULL);
	casty_system_create(NULL, &system);
	casty_spawn(system, TextMsg, my_actor(), "my-actor", &ref);
	casty_tell(ref, Text, "hi");
	casty_system_destroy(system);
}
