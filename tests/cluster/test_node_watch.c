// tests/cluster/test_node_watch.c: death watch across nodes
// (cluster/node_watch.c, over remote_watch.c), with three cluster nodes,
// each its own casty system in this one process, on loopback with fast
// timings and keep-majority downing. A watcher actor on node 0 watches
// actors of nodes 1 and 2 found by casty_cluster_lookup: the stop of a
// watched actor reaches it as casty_terminated with the actor's ref and
// path; a watch of an actor that is gone already, or that never was,
// ends at once the same way; after an unwatch nothing arrives; and a
// node that stops without leaving ends the watches of its actors once
// the others have downed and removed it. Every wait is on a message or
// an event, bounded by a deadline that only turns a hang into a failure.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <casty/casty.h>

#include "tests/support/fast_cluster.h"

#define HOST "127.0.0.1"
#define NODES 3
#define WAIT_MS 60000
#define MAX_SEEN 16

typedef struct {
	casty_ref target;
} WatchIt;
typedef struct {
	casty_ref target;
} UnwatchIt;
typedef struct {
	int32_t code;
} Halt;
CASTY_MESSAGE(WatchIt, target);
CASTY_MESSAGE(UnwatchIt, target);
CASTY_MESSAGE(Halt, code);

CASTY_PROTOCOL(WatcherMsg, WatchIt, UnwatchIt, casty_terminated);
CASTY_PROTOCOL(TargetMsg, Halt);
CASTY_PROTOCOL(MemberProbe, casty_member_up, casty_member_removed);

// What the watchers and the probe saw, under lock.
typedef struct seen_terminated {
	int              watcher; // the watcher's number
	casty_terminated t;
} seen_terminated;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cond;
static seen_terminated seen[MAX_SEEN];
static int             nseen;
static int             nacks; // watches and unwatches done
static int             last_rc;
static unsigned        removed_port; // of the last member removed on 0
static int             nup;          // members node 0 has seen up

CASTY_HANDLER(watcher_receive, int)
{
	int who = *state;
	int rc = 0;
	switch (WatcherMsg_tag_of(msg)) {
	case WatcherMsg_WatchIt:
		rc = casty_ctx_watch(ctx, CASTY_AS(WatchIt, msg)->target);
		break;
	case WatcherMsg_UnwatchIt:
		rc = casty_ctx_unwatch(ctx, CASTY_AS(UnwatchIt, msg)->target);
		break;
	case WatcherMsg_casty_terminated:
		pthread_mutex_lock(&lock);
		if (nseen < MAX_SEEN) {
			seen[nseen].watcher = who;
			seen[nseen++].t = *CASTY_AS(casty_terminated, msg);
		}
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		return casty_same();
	}
	pthread_mutex_lock(&lock);
	last_rc = rc;
	nacks++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

CASTY_HANDLER(target_receive, void)
{
	return casty_stopped(); // Halt is all it gets
}

CASTY_HANDLER(probe_receive, void)
{
	pthread_mutex_lock(&lock);
	switch (MemberProbe_tag_of(msg)) {
	case MemberProbe_casty_member_up:
		nup++;
		break;
	case MemberProbe_casty_member_removed:
		removed_port = CASTY_AS(casty_member_removed, msg)->port;
		break;
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

// ---- Three nodes ----

typedef struct node {
	casty_system  *sys;
	casty_cluster *cluster;
	uint16_t       port;
} node;

static node nodes[NODES];

// Starts node i, a member of 0's cluster (i > 0) once quorum are up.
static void
start_node(int i, uint32_t quorum)
{
	int rc = casty_system_create(NULL, &nodes[i].sys);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
	if (i == 0) {
		MemberProbe_ref probe;
		cr_assert(eq(int,
			casty_spawn(nodes[0].sys, MemberProbe,
				casty_receive(probe_receive, NULL, 0), "probe",
				&probe),
			0));
		cr_assert(eq(int, casty_subscribe(nodes[0].sys, probe,
					  casty_member_up),
			0));
		cr_assert(eq(int, casty_subscribe(nodes[0].sys, probe,
					  casty_member_removed),
			0));
	}
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	fast_cluster_options(&o, HOST, "watch secret");
	casty_node_address seed;
	if (i > 0) {
		memset(&seed, 0, sizeof seed);
		strcpy(seed.host, HOST);
		seed.port = nodes[0].port;
		o.seed_nodes = &seed;
		o.nseed_nodes = 1;
	}
	o.required_quorum = quorum;
	o.quorum_timeout_ms = WAIT_MS;
	cr_assert(eq(int, casty_cluster_start(nodes[i].sys, &o,
				  &nodes[i].cluster),
		0));
	nodes[i].port = casty_cluster_port(nodes[i].cluster);
}

// Waits until cond(arg) holds, under lock.
static bool
wait_for(bool (*pred)(const void *), const void *arg)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	int rc = 0;
	while (!pred(arg) && rc != ETIMEDOUT) {
		rc = pthread_cond_timedwait(&cond, &lock, &deadline);
	}
	bool ok = pred(arg);
	pthread_mutex_unlock(&lock);
	return ok;
}

static bool
all_up(const void *arg)
{
	(void)arg;
	return nup == NODES;
}

static void
setup(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	memset(nodes, 0, sizeof nodes);
	nseen = nacks = nup = 0;
	removed_port = 0;
	casty_log_set_level(CASTY_LOG_ERROR);
	start_node(0, 1);
	start_node(1, 2);
	start_node(2, 3);
	cr_assert(wait_for(all_up, NULL), "node 0 never saw all three up");
}

static void
teardown(void)
{
	for (int i = NODES - 1; i >= 0; i--) {
		casty_cluster_stop(nodes[i].cluster);
		if (nodes[i].sys != NULL) {
			casty_system_destroy(nodes[i].sys);
		}
	}
	casty_log_set_level(CASTY_LOG_INFO);
}

TestSuite(node_watch, .init = setup, .fini = teardown, .timeout = 180);

// ---- Helpers ----

static WatcherMsg_ref
spawn_watcher(int who)
{
	WatcherMsg_ref w;
	char           name[16];
	snprintf(name, sizeof name, "watcher-%d", who);
	cr_assert(eq(int,
		casty_spawn(nodes[0].sys, WatcherMsg,
			casty_receive(watcher_receive, &who, sizeof who), name, &w),
		0));
	return w;
}

// Spawns a target called name on node i; its ref from node 0 in *remote.
static TargetMsg_ref
spawn_target(int i, const char *name, casty_ref *remote)
{
	TargetMsg_ref t;
	cr_assert(eq(int,
		casty_spawn(nodes[i].sys, TargetMsg,
			casty_receive(target_receive, NULL, 0), name, &t),
		0));
	char uri[128];
	snprintf(uri, sizeof uri, "casty://%s@%s:%u/%s",
		casty_system_name(nodes[i].sys), HOST, nodes[i].port, name);
	cr_assert(eq(int, casty_cluster_lookup(nodes[0].cluster, uri, WAIT_MS,
				  remote),
		0));
	cr_assert(ne(u32, remote->node, 0));
	return t;
}

static bool
acked(const void *n)
{
	return nacks >= *(const int *)n;
}

// Has w watch target (on) or unwatch it, and waits until it has.
static void
watch(WatcherMsg_ref w, casty_ref target, bool on)
{
	int want;
	pthread_mutex_lock(&lock);
	want = nacks + 1;
	pthread_mutex_unlock(&lock);
	if (on) {
		cr_assert(eq(int, casty_tell(w, WatchIt, target), 0));
	} else {
		cr_assert(eq(int, casty_tell(w, UnwatchIt, target), 0));
	}
	cr_assert(wait_for(acked, &want));
	pthread_mutex_lock(&lock);
	cr_assert(eq(int, last_rc, CASTY_OK));
	pthread_mutex_unlock(&lock);
}

typedef struct {
	int       watcher;
	casty_ref ref;
} which;

// Under lock: the index of watcher's casty_terminated for ref, or -1.
static int
find_seen(int watcher, casty_ref ref)
{
	for (int i = 0; i < nseen; i++) {
		if (seen[i].watcher == watcher &&
		    casty_ref_eq(seen[i].t.ref, ref)) {
			return i;
		}
	}
	return -1;
}

static bool
terminated(const void *arg)
{
	const which *w = arg;
	return find_seen(w->watcher, w->ref) >= 0;
}

// Waits for watcher's casty_terminated for ref and returns it.
static casty_terminated
wait_terminated(int watcher, casty_ref ref)
{
	which w = {watcher, ref};
	cr_assert(wait_for(terminated, &w),
		"watcher %d got no casty_terminated", watcher);
	pthread_mutex_lock(&lock);
	casty_terminated t = seen[find_seen(watcher, ref)].t;
	pthread_mutex_unlock(&lock);
	return t;
}

// Waits until the node of remote has handled every watch node 0 sent it
// so far: a watch of an actor that node never had comes back terminated
// only after those, which went before it on the one connection.
static void
sync_watches(casty_ref remote)
{
	WatcherMsg_ref b = spawn_watcher(100);
	casty_ref never = {(struct casty_cell *)(uintptr_t)(UINT64_C(1) << 40),
		1, remote.node};
	watch(b, never, true);
	wait_terminated(100, never);
}

// ---- Tests ----

Test(node_watch, the_stop_of_a_watched_remote_actor_reaches_the_watcher)
{
	WatcherMsg_ref w = spawn_watcher(1);
	casty_ref      remote;
	TargetMsg_ref  target = spawn_target(1, "target", &remote);
	watch(w, remote, true);
	watch(w, remote, true); // twice is once
	// Stopped after node 1 watches it for w, it reports its path (one
	// gone before that is reported without).
	sync_watches(remote);
	cr_assert(eq(int, casty_tell(target, Halt, 0), 0));
	casty_terminated t = wait_terminated(1, remote);
	cr_assert(eq(str, t.path, "/target"));
	pthread_mutex_lock(&lock);
	cr_assert(eq(int, nseen, 2)); // the target's and the barrier's
	pthread_mutex_unlock(&lock);
}

Test(node_watch, watching_what_is_gone_or_never_was_terminates_at_once)
{
	WatcherMsg_ref first = spawn_watcher(1), late = spawn_watcher(2);
	casty_ref      remote;
	TargetMsg_ref  target = spawn_target(1, "target", &remote);
	watch(first, remote, true);
	cr_assert(eq(int, casty_tell(target, Halt, 0), 0));
	wait_terminated(1, remote); // it is gone now
	watch(late, remote, true);
	cr_assert(eq(str, wait_terminated(2, remote).path, ""));
	// A cell id node 1 never issued.
	casty_ref never = {(struct casty_cell *)(uintptr_t)(UINT64_C(1) << 40),
		1, remote.node};
	watch(late, never, true);
	wait_terminated(2, never);
}

Test(node_watch, after_an_unwatch_nothing_arrives)
{
	WatcherMsg_ref w = spawn_watcher(1), barrier = spawn_watcher(2);
	casty_ref      rx, ry;
	TargetMsg_ref  x = spawn_target(1, "x", &rx);
	TargetMsg_ref  y = spawn_target(1, "y", &ry);
	watch(w, rx, true);
	watch(w, ry, true);
	watch(barrier, rx, true);
	watch(w, rx, false);
	cr_assert(eq(int, casty_tell(x, Halt, 0), 0));
	// Node 1 has handled x's stop: anything it sent w for x comes
	// before what it sends for y, on the one connection, in order.
	wait_terminated(2, rx);
	cr_assert(eq(int, casty_tell(y, Halt, 0), 0));
	wait_terminated(1, ry);
	pthread_mutex_lock(&lock);
	cr_assert(eq(int, find_seen(1, rx), -1));
	cr_assert(eq(int, nseen, 2));
	pthread_mutex_unlock(&lock);
}

static bool
removed(const void *port)
{
	return removed_port == *(const unsigned *)port;
}

Test(node_watch, a_node_that_stops_ends_the_watches_of_its_actors)
{
	WatcherMsg_ref w = spawn_watcher(1);
	casty_ref      rz, rx;
	spawn_target(2, "z", &rz);
	spawn_target(2, "x", &rx);
	watch(w, rz, true);
	watch(w, rx, true);
	// No leave: the others find node 2 unreachable, down and remove it.
	unsigned port = nodes[2].port;
	casty_cluster_stop(nodes[2].cluster);
	nodes[2].cluster = NULL;
	casty_system_destroy(nodes[2].sys);
	nodes[2].sys = NULL;
	cr_assert(eq(str, wait_terminated(1, rz).path, ""));
	cr_assert(eq(str, wait_terminated(1, rx).path, ""));
	cr_assert(wait_for(removed, &port));
	// Now that it is removed, a new watch ends at once.
	WatcherMsg_ref late = spawn_watcher(2);
	watch(late, rz, true);
	wait_terminated(2, rz);
}
