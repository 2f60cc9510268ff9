// examples/actor_hierarchies.c: the README's Actor Hierarchies: a manager
// spawns and watches workers and hands them tasks, finding them by name.
#include <casty/casty.h>
#include <stdio.h>
#include <string.h>

typedef struct { char description[64]; } Task;
typedef struct { char name[32]; } Hire;
typedef struct { char worker[32]; char task[64]; } Assign;
CASTY_MESSAGE(Task, description);
CASTY_MESSAGE(Hire, name);
CASTY_MESSAGE(Assign, worker, task);
CASTY_PROTOCOL(WorkerMsg, Task);
CASTY_PROTOCOL(ManagerMsg, Hire, Assign, casty_terminated);

CASTY_HANDLER(worker_receive, char)
{
	printf("[%s] working on: %s\n", state, CASTY_AS(Task, msg)->description);
	return casty_same();
}

static casty_behavior worker(const char *name)
{
	return casty_receive(worker_receive, name, strlen(name) + 1);
}

CASTY_HANDLER(manager_receive, void)
{
	WorkerMsg_ref ref;
	switch (ManagerMsg_tag_of(msg)) {
	case ManagerMsg_Hire: {
		const char *name = CASTY_AS(Hire, msg)->name;
		if (casty_ctx_spawn(ctx, WorkerMsg, worker(name), name, &ref) == CASTY_OK)
			casty_ctx_watch(ctx, ref.ref);
		return casty_same();
	}
	case ManagerMsg_Assign: {
		const Assign *a = CASTY_AS(Assign, msg);
		Task task;
		snprintf(task.description, sizeof task.description, "%s", a->task);
		if (casty_ctx_child(ctx, a->worker, &ref.ref) == CASTY_OK)
			casty_tell_copy(ref, Task, &task);
		return casty_same();
	}
	case ManagerMsg_casty_terminated:
		printf("Worker stopped: %s\n", CASTY_AS(casty_terminated, msg)->path);
		return casty_same();
	}
	return casty_unhandled();
}

int main(void)
{
	casty_system *system;
	ManagerMsg_ref mgr;
	casty_system_create(NULL, &system);
	casty_spawn(system, ManagerMsg, casty_receive(manager_receive, NULL, 0), "manager", &mgr);
	casty_tell(mgr, Hire, "alice");
	casty_tell(mgr, Hire, "bob");
	casty_tell(mgr, Assign, "alice", "implement login");
	casty_tell(mgr, Assign, "bob", "write tests");
	casty_system_destroy(system);
}
