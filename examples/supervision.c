// examples/supervision.c: the README's Supervision: a worker that fails
// on "crash" is restarted by its one-for-one strategy and handles the
// next message.
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

typedef struct { char text[32]; } Job;
CASTY_MESSAGE(Job, text);
CASTY_PROTOCOL(WorkerMsg, Job);

CASTY_HANDLER(worker_receive, void)
{
	const Job *job = CASTY_AS(Job, msg);
	if (strcmp(job->text, "crash") == 0) {
		return casty_failed(1, "something went wrong");
	}
	printf("Processed: %s\n", job->text);
	return casty_same();
}

static casty_behavior unreliable_worker(void)
{
	return casty_receive(worker_receive, NULL, 0);
}

static casty_directive always_restart(const casty_failure *failure)
{
	(void)failure;
	return CASTY_RESTART;
}

int main(void)
{
	casty_system *system;
	WorkerMsg_ref ref;
	casty_strategy strategy = {
		.max_restarts = 3, .within_ms = 60000, .decider = always_restart};

	casty_system_create(NULL, &system);
	casty_spawn(system, WorkerMsg,
		casty_supervise(unreliable_worker(), strategy), "worker", &ref);
	casty_tell(ref, Job, "crash"); // fails, supervisor restarts
	casty_tell(ref, Job, "hello"); // succeeds: actor recovered
	casty_system_destroy(system);
}
