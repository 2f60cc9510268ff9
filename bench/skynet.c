// bench/skynet.c: a 10-ary tree of actors down to 1,000,000 leaves
// (1,111,111 actors spawned), as skynet in ../shared/peers (CAF and
// Erlang). Leaves reply their number to their parent and stop; inner
// actors sum their 10 children's replies, reply to their parent and stop;
// the root's sum must be 499999500000.
//
// Every actor below the root is spawned with casty_ctx_spawn from its
// parent's setup, as CAF's skynet_fn spawns from its spawn function; the
// root does it on the start message that main asks, which carries the
// reply ref. The time runs from just before the root's spawn until the
// reply arrived at main.
//
// Memory: after the BENCH line it prints the peak RSS of the process
// (getrusage) and that peak less the RSS just before the run, divided by
// the 1,111,111 actors. Not all of them are alive at once (leaves stop as
// soon as they reply and cells are reused), so that is the memory the
// whole run needed spread over its actors, not the size of one actor;
// it is comparable with the peers' peak RSS. `skynet --idle` measures the
// cost of an idle actor instead: 1,000,000 actors that stay alive with
// no children, RSS (/proc/self/statm) after they have all started less
// RSS before.
#include <casty/casty.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"

#define LEAVES ((int64_t)1000000)
#define DIV 10
#define WANT ((int64_t)499999500000)
#define IDLE_N ((int64_t)1000000)

typedef struct {
	casty_ref reply_to;
	int64_t   num;  // first leaf number of this subtree
	int64_t   size; // leaves in this subtree
} Start;
typedef struct {
	int64_t value;
} Sum;
CASTY_MESSAGE(Start, reply_to, num, size);
CASTY_MESSAGE(Sum, value);
CASTY_PROTOCOL(SkynetMsg, Start, Sum);

typedef struct {
	casty_ref reply_to; // the parent, or main's ask for the root
	int64_t   sum;
	int64_t   pending;
} Collect;

static casty_behavior collect(Collect state);

CASTY_HANDLER(collect_receive, Collect)
{
	const Sum *s = CASTY_AS(Sum, msg);
	if (s == NULL) {
		return casty_unhandled();
	}
	Collect next = {
	    state->reply_to, state->sum + s->value, state->pending - 1};
	if (next.pending == 0) {
		casty_tell(SkynetMsg_ref_from(next.reply_to), Sum, next.sum);
		return casty_stopped();
	}
	return collect(next);
}

static casty_behavior
collect(Collect state)
{
	return casty_receive(collect_receive, &state, sizeof state);
}

typedef struct {
	int64_t num;
	int64_t size;
} Subtree;

// Declared ahead: branch spawns it, and it calls branch.
static casty_behavior subtree_setup(casty_ctx *ctx, const void *state);

// Spawns the children of the subtree (num, size) and collects their sums.
static casty_behavior
branch(casty_ctx *ctx, casty_ref reply_to, int64_t num, int64_t size)
{
	const int64_t sub = size / DIV;
	for (int64_t i = 0; i < DIV; i++) {
		Subtree       child = {num + i * sub, sub};
		SkynetMsg_ref ref;
		casty_ctx_spawn(ctx, SkynetMsg,
		    casty_setup(subtree_setup, &child, sizeof child), NULL,
		    &ref);
	}
	return collect((Collect){reply_to, 0, DIV});
}

CASTY_SETUP(subtree_setup, Subtree)
{
	casty_ref parent = casty_ctx_parent(ctx);
	if (state->size == 1) {
		casty_tell(SkynetMsg_ref_from(parent), Sum, state->num);
		return casty_stopped();
	}
	return branch(ctx, parent, state->num, state->size);
}

CASTY_HANDLER(root_receive, void)
{
	const Start *s = CASTY_AS(Start, msg);
	if (s == NULL) {
		return casty_unhandled();
	}
	return branch(ctx, s->reply_to, s->num, s->size);
}

static int
run_tree(void)
{
	casty_system *sys;
	SkynetMsg_ref root;
	casty_msg    *reply;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	int64_t rss0 = bench_rss_bytes();
	double  t0   = bench_now();
	casty_spawn(
	    sys, SkynetMsg, casty_receive(root_receive, NULL, 0), NULL, &root);
	int rc = casty_ask(sys, root, Start, reply_to, 600000, &reply, .num = 0,
	    .size = LEAVES);
	double  t1   = bench_now();
	int64_t peak = bench_peak_rss_bytes();
	bench_check("skynet", "ask", rc, CASTY_OK);
	const Sum *s = CASTY_AS(Sum, reply);
	bench_check("skynet", "reply type", s != NULL, 1);
	bench_check("skynet", "sum", s->value, WANT);
	casty_msg_free(reply);
	casty_system_destroy(sys);

	int64_t actors = 0;
	for (int64_t level = LEAVES; level >= 1; level /= DIV) {
		actors += level;
	}
	bench_report("skynet", actors, t1 - t0);
	printf("skynet_peak_rss_bytes %" PRId64 "\n", peak);
	printf("skynet_bytes_per_actor %" PRId64 "\n", (peak - rss0) / actors);
	return 0;
}

// --idle: the parent spawns IDLE_N children that never get a message.

typedef struct {
	casty_ref reply_to;
	int64_t   n;
} SpawnIdle;
CASTY_MESSAGE(SpawnIdle, reply_to, n);
CASTY_PROTOCOL(ParentMsg, SpawnIdle);
CASTY_PROTOCOL(IdleMsg, Sum);

CASTY_HANDLER(idle_receive, void) { return casty_same(); }

CASTY_HANDLER(parent_receive, void)
{
	const SpawnIdle *s       = CASTY_AS(SpawnIdle, msg);
	int64_t          spawned = 0;
	for (int64_t i = 0; i < s->n; i++) {
		IdleMsg_ref ref;
		if (casty_ctx_spawn(ctx, IdleMsg,
		        casty_receive(idle_receive, NULL, 0), NULL,
		        &ref) == CASTY_OK) {
			spawned++;
		}
	}
	casty_send(s->reply_to, casty_int, spawned);
	return casty_same();
}

static int
run_idle(void)
{
	casty_system      *sys;
	ParentMsg_ref      parent;
	casty_msg         *reply;
	casty_system_stats st;

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	casty_spawn(sys, ParentMsg, casty_receive(parent_receive, NULL, 0),
	    NULL, &parent);
	// The parent has started once it answers; its own cost is not ours.
	int rc =
	    casty_ask(sys, parent, SpawnIdle, reply_to, 600000, &reply, .n = 0);
	bench_check("skynet --idle", "ask", rc, CASTY_OK);
	casty_msg_free(reply);

	int64_t rss0 = bench_rss_bytes();
	double  t0   = bench_now();

	rc = casty_ask(sys, parent, SpawnIdle, reply_to, 600000, &reply,
	    .n = IDLE_N);
	bench_check("skynet --idle", "ask", rc, CASTY_OK);
	bench_check("skynet --idle", "spawned",
	    CASTY_AS(casty_int, reply)->value, IDLE_N);
	casty_msg_free(reply);
	// Spawned is not started: the start messages may still be queued.
	// Wait until every child has run its start (live counts started
	// actors), so the RSS holds idle actors only, not pending work.
	for (;;) {
		casty_system_stats_get(sys, &st);
		if (st.live_actors >= (uint64_t)IDLE_N + 1) {
			break;
		}
		bench_check(
		    "skynet --idle", "timeout", bench_now() - t0 > 120, 0);
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	double  t1   = bench_now();
	int64_t rss1 = bench_rss_bytes();
	casty_system_destroy(sys);
	printf("idle_actor_bytes %" PRId64 "\n", (rss1 - rss0) / IDLE_N);
	bench_metric(
	    "idle_actor_spawn_start_ns", (t1 - t0) * 1e9 / IDLE_N, "ns");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--idle") == 0) {
		return run_idle();
	}
	if (argc > 1) {
		fprintf(stderr, "usage: skynet [--idle]\n");
		return 2;
	}
	return run_tree();
}
