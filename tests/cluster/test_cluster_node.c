// tests/cluster/test_cluster_node.c: cluster nodes (cluster/node.c,
// node_actor.c) over loopback, each on its own casty system in this one
// process, with fast timings. Three nodes form a cluster and everyone
// sees everyone up; a graceful leave is seen as left and removed; a node
// that vanishes without leaving is found unreachable, downed and removed;
// a node with the wrong secret never joins; messages to an actor of a
// removed node are dead letters at the sender. Every node has a probe actor
// subscribed to the membership events; tests wait on what the probes
// saw, each wait bounded by a generous deadline that only turns a hang
// into a failure. Nothing asserts on how long anything took.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <casty/casty.h>

TestSuite(cluster_node, .timeout = 180);

#define HOST "127.0.0.1"
#define NODES 4
#define WAIT_MS 60000
#define MAX_SEEN 128

enum { EV_UP, EV_LEFT, EV_REMOVED, EV_UNREACHABLE, EV_REACHABLE, EV_KINDS };

CASTY_PROTOCOL(MemberProbe, casty_member_up, casty_member_left,
	casty_member_removed, casty_unreachable_member, casty_reachable_member);

// What each node's probe saw, under lock (written by the probes).
typedef struct seen_event {
	int      kind;
	unsigned port;
} seen_event;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cond;
static seen_event      seen[NODES][MAX_SEEN];
static unsigned        nseen[NODES];
static casty_dead_letter dead; // the last dead letter seen on node 0
static int               ndead;

typedef struct node {
	casty_system  *sys;
	casty_cluster *cluster;
	uint16_t       port;
} node;

static node nodes[NODES];

static void
record(int who, int kind, unsigned port)
{
	pthread_mutex_lock(&lock);
	if (nseen[who] < MAX_SEEN) {
		seen[who][nseen[who]++] = (seen_event){kind, port};
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

CASTY_HANDLER(probe_receive, int)
{
	int who = *state;
	switch (MemberProbe_tag_of(msg)) {
	case MemberProbe_casty_member_up:
		record(who, EV_UP, CASTY_AS(casty_member_up, msg)->port);
		break;
	case MemberProbe_casty_member_left:
		record(who, EV_LEFT, CASTY_AS(casty_member_left, msg)->port);
		break;
	case MemberProbe_casty_member_removed:
		record(who, EV_REMOVED,
			CASTY_AS(casty_member_removed, msg)->port);
		break;
	case MemberProbe_casty_unreachable_member:
		record(who, EV_UNREACHABLE,
			CASTY_AS(casty_unreachable_member, msg)->port);
		break;
	case MemberProbe_casty_reachable_member:
		record(who, EV_REACHABLE,
			CASTY_AS(casty_reachable_member, msg)->port);
		break;
	}
	return casty_same();
}

static bool
has_seen_locked(int who, int kind, unsigned port)
{
	for (unsigned i = 0; i < nseen[who]; i++) {
		if (seen[who][i].kind == kind && seen[who][i].port == port) {
			return true;
		}
	}
	return false;
}

// Waits until node who's probe has seen kind for the member at port.
static bool
wait_seen(int who, int kind, unsigned port)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	int rc = 0;
	while (!has_seen_locked(who, kind, port) && rc != ETIMEDOUT) {
		rc = pthread_cond_timedwait(&cond, &lock, &deadline);
	}
	bool ok = has_seen_locked(who, kind, port);
	pthread_mutex_unlock(&lock);
	return ok;
}

static void
suite_setup(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	memset(nodes, 0, sizeof(nodes));
	memset(nseen, 0, sizeof(nseen));
	ndead = 0;
	casty_log_set_level(CASTY_LOG_ERROR); // refused handshakes warn
}

static void
suite_teardown(void)
{
	for (int i = 0; i < NODES; i++) {
		casty_cluster_stop(nodes[i].cluster);
		if (nodes[i].sys != NULL) {
			casty_system_destroy(nodes[i].sys);
		}
	}
	casty_log_set_level(CASTY_LOG_INFO);
}

static void
fast_options(casty_cluster_options *o)
{
	casty_cluster_options_init(o);
	strcpy(o->host, HOST);
	o->gossip.interval = 0.05;
	o->heartbeat.interval = 0.05;
	o->heartbeat.availability_check_interval = 0.05;
	o->failure_detector.min_std_deviation_ms = 50;
	o->failure_detector.first_heartbeat_estimate_ms = 100;
	// Generous for sanitizer builds on a busy machine: a false suspicion
	// would stall convergence, and auto-down would then remove a live
	// node.
	o->failure_detector.acceptable_heartbeat_pause_ms = 500;
	o->down_after_ms = 1000;
	o->secret = "good secret";
	o->secret_len = strlen("good secret");
}

// Starts node i: a system, its probe, its cluster node. seed < 0: i
// founds the cluster. Returns casty_cluster_start's result.
static int
start_node(int i, int seed, const char *secret, uint32_t quorum,
	uint64_t quorum_timeout_ms)
{
	int rc = casty_system_create(NULL, &nodes[i].sys);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
	MemberProbe_ref probe;
	int             who = i;
	cr_assert(eq(int,
		casty_spawn(nodes[i].sys, MemberProbe,
			casty_receive(probe_receive, &who, sizeof who), "probe",
			&probe),
		0));
	cr_assert(eq(int, casty_subscribe(nodes[i].sys, probe, casty_member_up), 0));
	cr_assert(eq(int, casty_subscribe(nodes[i].sys, probe, casty_member_left), 0));
	cr_assert(eq(int,
		casty_subscribe(nodes[i].sys, probe, casty_member_removed), 0));
	cr_assert(eq(int,
		casty_subscribe(nodes[i].sys, probe, casty_unreachable_member),
		0));
	cr_assert(eq(int,
		casty_subscribe(nodes[i].sys, probe, casty_reachable_member),
		0));

	casty_cluster_options o;
	fast_options(&o);
	casty_node_address seed_addr;
	if (seed >= 0) {
		memset(&seed_addr, 0, sizeof seed_addr);
		strcpy(seed_addr.host, HOST);
		seed_addr.port = nodes[seed].port;
		o.seed_nodes = &seed_addr;
		o.nseed_nodes = 1;
	}
	if (secret != NULL) {
		o.secret = secret;
		o.secret_len = strlen(secret);
	}
	o.required_quorum = quorum;
	o.quorum_timeout_ms = quorum_timeout_ms;
	rc = casty_cluster_start(nodes[i].sys, &o, &nodes[i].cluster);
	if (rc == 0) {
		nodes[i].port = casty_cluster_port(nodes[i].cluster);
		cr_assert(ne(u16, nodes[i].port, 0));
	} else {
		nodes[i].cluster = NULL;
	}
	return rc;
}

// Three nodes, 0 the seed of 1 and 2, every one seeing all three up.
static void
form_three(void)
{
	cr_assert(eq(int, start_node(0, -1, NULL, 1, 0), 0));
	// Node 1 also checks the quorum wait: it returns with two up.
	cr_assert(eq(int, start_node(1, 0, NULL, 2, WAIT_MS), 0));
	cr_assert(eq(int, start_node(2, 0, NULL, 0, 0), 0));
	for (int who = 0; who < 3; who++) {
		for (int m = 0; m < 3; m++) {
			cr_assert(wait_seen(who, EV_UP, nodes[m].port),
				"node %d never saw node %d up", who, m);
		}
	}
}

static size_t
members_with(int who, casty_member_status status)
{
	casty_member_info info[8];
	size_t            n = 0, count = 0;
	cr_assert(eq(int, casty_cluster_members(nodes[who].cluster, info, 8, &n),
		0));
	for (size_t k = 0; k < n && k < 8; k++) {
		count += info[k].status == status;
	}
	return count;
}


Test(cluster_node, three_nodes_form_a_cluster, .init = suite_setup,
	.fini = suite_teardown)
{
	form_three();
	for (int who = 0; who < 3; who++) {
		cr_assert(eq(sz, members_with(who, CASTY_MEMBER_UP), 3));
	}
	casty_member_info info[8];
	size_t            n = 0;
	cr_assert(eq(int, casty_cluster_members(nodes[2].cluster, info, 8, &n), 0));
	cr_assert(eq(sz, n, 3));
	for (size_t k = 0; k < n; k++) {
		cr_assert(info[k].reachable);
		cr_assert(ne(u64, info[k].incarnation, 0));
		cr_assert(ge(u32, info[k].up_number, 1));
		cr_assert(eq(str, info[k].host, HOST));
	}
}

Test(cluster_node, a_graceful_leave_is_seen_as_left_and_removed,
	.init = suite_setup, .fini = suite_teardown)
{
	form_three();
	cr_assert(eq(int, casty_cluster_leave(nodes[1].cluster), 0));
	for (int who = 0; who < 3; who += 2) {
		cr_assert(wait_seen(who, EV_LEFT, nodes[1].port));
		cr_assert(wait_seen(who, EV_REMOVED, nodes[1].port));
	}
	// The leaver saw itself exit: the leader removes an exiting member
	// only once it has seen that.
	cr_assert(wait_seen(1, EV_LEFT, nodes[1].port));
	// The two that stay are both up, and nobody was thought dead.
	cr_assert(eq(sz, members_with(0, CASTY_MEMBER_UP), 2));
	pthread_mutex_lock(&lock);
	cr_assert(not(has_seen_locked(0, EV_UNREACHABLE, nodes[1].port)));
	pthread_mutex_unlock(&lock);
}

Test(cluster_node, a_vanished_node_is_unreachable_then_removed,
	.init = suite_setup, .fini = suite_teardown)
{
	form_three();
	casty_cluster_stop(nodes[2].cluster);
	nodes[2].cluster = NULL;
	casty_system_destroy(nodes[2].sys);
	nodes[2].sys = NULL;
	for (int who = 0; who < 2; who++) {
		cr_assert(wait_seen(who, EV_UNREACHABLE, nodes[2].port));
		cr_assert(wait_seen(who, EV_REMOVED, nodes[2].port));
	}
	cr_assert(eq(sz, members_with(0, CASTY_MEMBER_UP), 2));
	cr_assert(eq(sz, members_with(1, CASTY_MEMBER_UP), 2));
}

CASTY_PROTOCOL(DeadProbe, casty_dead_letter);
CASTY_PROTOCOL(SinkMsg, casty_int);

CASTY_HANDLER(dead_receive, void)
{
	pthread_mutex_lock(&lock);
	dead = *CASTY_AS(casty_dead_letter, msg);
	ndead++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

CASTY_HANDLER(sink_receive, void) { return casty_same(); }

Test(cluster_node, messages_to_a_removed_node_are_dead_letters_here,
	.init = suite_setup, .fini = suite_teardown)
{
	form_three();
	SinkMsg_ref sink;
	cr_assert(eq(int,
		casty_spawn(nodes[2].sys, SinkMsg,
			casty_receive(sink_receive, NULL, 0), "sink", &sink),
		0));
	char uri[96];
	snprintf(uri, sizeof uri, "casty://%s@%s:%u/sink",
		casty_system_name(nodes[2].sys), HOST, nodes[2].port);
	casty_ref remote;
	cr_assert(eq(int,
		casty_cluster_lookup(nodes[0].cluster, uri, WAIT_MS, &remote), 0));
	DeadProbe_ref probe;
	cr_assert(eq(int,
		casty_spawn(nodes[0].sys, DeadProbe,
			casty_receive(dead_receive, NULL, 0), "dead", &probe),
		0));
	cr_assert(eq(int, casty_subscribe(nodes[0].sys, probe, casty_dead_letter),
		0));

	casty_cluster_stop(nodes[2].cluster);
	nodes[2].cluster = NULL;
	casty_system_destroy(nodes[2].sys);
	nodes[2].sys = NULL;
	cr_assert(wait_seen(0, EV_REMOVED, nodes[2].port));

	// Removed before the send: the message never leaves node 0.
	cr_assert(eq(int, casty_send(remote, casty_int, 42), CASTY_OK));
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	while (ndead == 0 &&
	       pthread_cond_timedwait(&cond, &lock, &deadline) != ETIMEDOUT) {
	}
	cr_assert(eq(int, ndead, 1));
	cr_assert(eq(i32, dead.reason, CASTY_DEAD_STOPPED));
	cr_assert(eq(str, dead.message_type, "casty_int"));
	cr_assert(casty_ref_eq(dead.recipient, remote));
	pthread_mutex_unlock(&lock);
}

Test(cluster_node, a_node_with_the_wrong_secret_never_joins,
	.init = suite_setup, .fini = suite_teardown)
{
	cr_assert(eq(int, start_node(0, -1, NULL, 1, 0), 0));
	// It asks to join for a while, and gives up waiting for a quorum.
	cr_assert(eq(int, start_node(3, 0, "bad secret", 2, 1500), -ETIMEDOUT));
	cr_assert(eq(sz, members_with(0, CASTY_MEMBER_UP), 1));
	size_t n = 0;
	cr_assert(eq(int, casty_cluster_members(nodes[0].cluster, NULL, 0, &n), 0));
	cr_assert(eq(sz, n, 1));
}
