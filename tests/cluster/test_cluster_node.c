// tests/cluster/test_cluster_node.c: cluster nodes (cluster/node.c,
// node_actor.c) over loopback, each on its own casty system in this one
// process, with fast timings. Three nodes form a cluster and everyone
// sees everyone up; a graceful leave is seen as left and removed; a node
// that vanishes without leaving is found unreachable, downed and removed;
// a node with the wrong secret never joins; messages to an actor of a
// removed node are dead letters at the sender; every member sees the
// roles of every other (given in code or in casty.toml), in the member
// list and in the events, and bad roles are refused at start. Every node
// has a probe actor
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

#include "tests/support/fast_cluster.h"

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
	char     roles[CASTY_ROLES_TEXT_MAX]; // of up events
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
	// How start_node makes its options: from config (NULL: the
	// defaults), then these roles when given, then the fast timings.
	const casty_config *config;
	const char *const  *roles;
	size_t              nroles;
} node;

static node nodes[NODES];

static void
record(int who, int kind, unsigned port, const char *roles)
{
	pthread_mutex_lock(&lock);
	if (nseen[who] < MAX_SEEN) {
		seen_event *e = &seen[who][nseen[who]++];
		e->kind = kind;
		e->port = port;
		snprintf(e->roles, sizeof e->roles, "%s", roles);
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

CASTY_HANDLER(probe_receive, int)
{
	int who = *state;
	switch (MemberProbe_tag_of(msg)) {
	case MemberProbe_casty_member_up: {
		const casty_member_up *e = CASTY_AS(casty_member_up, msg);
		record(who, EV_UP, e->port, e->roles);
		break;
	}
	case MemberProbe_casty_member_left:
		record(who, EV_LEFT, CASTY_AS(casty_member_left, msg)->port,
			"");
		break;
	case MemberProbe_casty_member_removed:
		record(who, EV_REMOVED,
			CASTY_AS(casty_member_removed, msg)->port, "");
		break;
	case MemberProbe_casty_unreachable_member:
		record(who, EV_UNREACHABLE,
			CASTY_AS(casty_unreachable_member, msg)->port, "");
		break;
	case MemberProbe_casty_reachable_member:
		record(who, EV_REACHABLE,
			CASTY_AS(casty_reachable_member, msg)->port, "");
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
	casty_cluster_options_from_config(nodes[i].config, &o); // NULL: init
	if (nodes[i].roles != NULL) {
		o.roles = nodes[i].roles;
		o.nroles = nodes[i].nroles;
	}
	fast_cluster_options(&o, HOST, "good secret");
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
	size_t selves = 0;
	for (size_t k = 0; k < n; k++) {
		cr_assert(info[k].reachable);
		cr_assert(ne(u64, info[k].incarnation, 0));
		cr_assert(ge(u32, info[k].up_number, 1));
		cr_assert(eq(str, info[k].host, HOST));
		// The node's own row carries its incarnation.
		selves += info[k].port == nodes[2].port &&
		          info[k].incarnation ==
		              casty_cluster_incarnation(nodes[2].cluster);
	}
	cr_assert(eq(sz, selves, 1));
	cr_assert(ne(u64, casty_cluster_incarnation(nodes[0].cluster),
	    casty_cluster_incarnation(nodes[2].cluster)));
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
	cr_assert(eq(i32, dead.reason, CASTY_DEAD_NOT_MEMBER));
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

// The roles in the up event node who saw for the member at port ("?"
// when it saw none).
static void
up_roles(int who, unsigned port, char *out, size_t size)
{
	pthread_mutex_lock(&lock);
	snprintf(out, size, "?");
	for (unsigned i = 0; i < nseen[who]; i++) {
		if (seen[who][i].kind == EV_UP && seen[who][i].port == port) {
			snprintf(out, size, "%s", seen[who][i].roles);
		}
	}
	pthread_mutex_unlock(&lock);
}

Test(cluster_node, every_member_sees_the_roles_of_every_other,
	.init = suite_setup, .fini = suite_teardown)
{
	// Node 0 (the founder, which joins itself) and node 1 get roles in
	// code, node 2 from casty.toml.
	static const char *const founder[] = {"seed"};
	static const char *const backend[] = {"worker", "backend", "worker"};
	static const char toml[] =
		"[cluster]\nroles = [\"frontend\", \"api\"]\n";
	casty_config *config;
	cr_assert(eq(int, casty_config_parse(toml, sizeof toml - 1,
				  "casty.toml", &config, NULL), 0));
	nodes[0].roles = founder;
	nodes[0].nroles = 1;
	nodes[1].roles = backend;
	nodes[1].nroles = 3;
	nodes[2].config = config;
	form_three();
	casty_config_free(config); // roles are copied at start
	nodes[2].config = NULL;
	const char *want[3] = {"seed", "backend,worker", "api,frontend"};
	for (int who = 0; who < 3; who++) {
		casty_member_info info[8];
		size_t            n = 0;
		cr_assert(eq(int, casty_cluster_members(nodes[who].cluster,
					  info, 8, &n),
			0));
		cr_assert(eq(sz, n, 3));
		for (size_t k = 0; k < n; k++) {
			int m = 0;
			while (m < 3 && nodes[m].port != info[k].port) {
				m++;
			}
			cr_assert(lt(int, m, 3));
			char joined[CASTY_ROLES_TEXT_MAX] = "";
			for (uint32_t r = 0; r < info[k].nroles; r++) {
				strcat(joined, r > 0 ? "," : "");
				strcat(joined, info[k].roles[r]);
			}
			cr_assert(eq(str, joined, (char *)want[m]),
				"node %d sees node %d as '%s'", who, m, joined);
			char event[CASTY_ROLES_TEXT_MAX];
			up_roles(who, info[k].port, event, sizeof event);
			cr_assert(eq(str, event, (char *)want[m]),
				"node %d saw node %d up with '%s'", who, m,
				event);
		}
	}
	casty_member_info me[8];
	size_t            n = 0;
	casty_cluster_members(nodes[0].cluster, me, 8, &n);
	for (size_t k = 0; k < n; k++) {
		bool is1 = me[k].port == nodes[1].port;
		cr_assert(eq(int, casty_member_has_role(&me[k], "worker"),
			is1));
		cr_assert(not(casty_member_has_role(&me[k], "work")));
		cr_assert(not(casty_member_has_role(&me[k], "")));
	}
	cr_assert(casty_roles_contain("api,frontend", "frontend"));
	cr_assert(casty_roles_contain("api,frontend", "api"));
	cr_assert(not(casty_roles_contain("api,frontend", "front")));
	cr_assert(not(casty_roles_contain("api,frontend", "")));
	cr_assert(not(casty_roles_contain("", "api")));
}

Test(cluster_node, bad_roles_are_refused_at_start_and_leave_nothing_behind,
	.init = suite_setup, .fini = suite_teardown)
{
	int rc = casty_system_create(NULL, &nodes[0].sys);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
	const char *too_long = "0123456789012345678901234567890x"; // 32
	const char *bad[][1] = {{""}, {"a,b"}, {"a b"}, {"a\nb"}, {too_long},
		{NULL}};
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	fast_cluster_options(&o, HOST, "good secret");
	casty_cluster *c = (casty_cluster *)&o; // untouched on failure
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		o.roles = bad[k];
		o.nroles = 1;
		cr_assert(eq(int, casty_cluster_start(nodes[0].sys, &o, &c),
			-EINVAL), "case %zu", k);
		cr_assert(eq(ptr, (void *)c, (void *)&o));
	}
	o.roles = NULL; // with a count
	cr_assert(eq(int, casty_cluster_start(nodes[0].sys, &o, &c), -EINVAL));
	const char *nine[CASTY_ROLES_MAX + 1] = {"a", "b", "c", "d", "e", "f",
		"g", "h", "i"};
	o.roles = nine;
	o.nroles = CASTY_ROLES_MAX + 1;
	cr_assert(eq(int, casty_cluster_start(nodes[0].sys, &o, &c), -EINVAL));
	// Nothing was left: the node starts on the same system (its actor's
	// name, "_cluster", is free), with the most roles there may be; the
	// quorum of one returns once it is up.
	o.nroles = CASTY_ROLES_MAX;
	o.required_quorum = 1;
	o.quorum_timeout_ms = WAIT_MS;
	cr_assert(eq(int, casty_cluster_start(nodes[0].sys, &o, &c), 0));
	nodes[0].cluster = c;
	casty_member_info info;
	size_t            n = 0;
	cr_assert(eq(int, casty_cluster_members(c, &info, 1, &n), 0));
	cr_assert(eq(sz, n, 1));
	cr_assert(eq(u32, info.nroles, CASTY_ROLES_MAX));
	cr_assert(eq(str, info.roles[7], "h"));
}
