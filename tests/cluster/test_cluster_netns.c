// tests/cluster/test_cluster_netns.c: three casty-node processes, each in
// a network namespace of its own, on a private /24 behind a bridge: the
// cluster forms over real interfaces rather than loopback. The bridge
// lives in a fourth namespace, so nothing is added to the machine's own
// network; every namespace is named after this process and deleted in
// the teardown. Needs root and iproute2's `ip` with working `ip netns`;
// skipped otherwise.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node_process.h"

TestSuite(cluster_netns, .timeout = 300);

#define CLUSTER "netns-cluster"
#define SECRET "the netns test's secret"
#define SUBNET "10.200.7."
#define NODES 3

extern char **environ;

// Namespaces 0..NODES-1 hold a node each, NODES the bridge.
static char       ns[NODES + 1][32];
static bool       ns_made[NODES + 1];
static node_proc  node[NODES];

// Runs `ip ARGS...` (NULL-terminated), its stderr dropped when quiet;
// returns its exit status, or -1.
static int
ip(bool quiet, const char *first, ...)
{
	char   *argv[24] = {"ip", (char *)first};
	int     n = 2;
	va_list ap;
	va_start(ap, first);
	while (n < 23 && (argv[n] = va_arg(ap, char *)) != NULL) {
		n++;
	}
	va_end(ap);
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
		O_WRONLY, 0);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
			"/dev/null", O_WRONLY, 0);
	}
	pid_t pid;
	int   rc = posix_spawnp(&pid, "ip", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
teardown(void)
{
	np_cleanup(node, NODES); // before their namespaces go
	for (int i = 0; i <= NODES; i++) {
		if (ns_made[i]) {
			ip(true, "netns", "del", ns[i], NULL);
			ns_made[i] = false;
		}
	}
}

static void
address_of(int i, char *buf, size_t size)
{
	snprintf(buf, size, SUBNET "%d", i + 1);
}

// Criterion does not run .fini after a skip: undo what was made first.
#define SKIP(why)                                                             \
	do {                                                                  \
		teardown();                                                   \
		cr_skip(why);                                                 \
	} while (0)

// The namespaces and their links, or a skip when this machine cannot.
static void
make_network(void)
{
	if (geteuid() != 0) {
		SKIP("network namespaces need root");
	}
	if (ip(true, "-V", NULL) != 0) {
		SKIP("no iproute2 `ip` here");
	}
	for (int i = 0; i <= NODES; i++) {
		snprintf(ns[i], sizeof ns[i], "casty%d%s%d", (int)getpid(),
			i < NODES ? "n" : "sw", i);
	}
	const char *sw = ns[NODES];
	if (ip(true, "netns", "add", sw, NULL) != 0) {
		SKIP("cannot create a network namespace");
	}
	ns_made[NODES] = true;
	if (ip(true, "netns", "exec", sw, "true", NULL) != 0) {
		SKIP("`ip netns exec` does not work here");
	}
	if (ip(true, "-n", sw, "link", "add", "br0", "type", "bridge", NULL) !=
		0) {
		SKIP("cannot create a bridge");
	}
	cr_assert(eq(int, ip(false, "-n", sw, "link", "set", "br0", "up", NULL),
		0));
	for (int i = 0; i < NODES; i++) {
		char veth[8], addr[32];
		snprintf(veth, sizeof veth, "v%d", i);
		address_of(i, addr, sizeof addr);
		strcat(addr, "/24");
		cr_assert(eq(int, ip(false, "netns", "add", ns[i], NULL), 0));
		ns_made[i] = true;
		if (ip(true, "-n", sw, "link", "add", veth, "type", "veth", "peer",
			    "name", "eth0", "netns", ns[i], NULL) != 0) {
			SKIP("cannot create veth pairs");
		}
		cr_assert(eq(int, ip(false, "-n", sw, "link", "set", veth,
			"master", "br0", "up", NULL), 0));
		cr_assert(eq(int, ip(false, "-n", ns[i], "addr", "add", addr,
			"dev", "eth0", NULL), 0));
		cr_assert(eq(int, ip(false, "-n", ns[i], "link", "set", "eth0",
			"up", NULL), 0));
		cr_assert(eq(int, ip(false, "-n", ns[i], "link", "set", "lo", "up",
			NULL), 0));
	}
}

// Starts node i in its namespace, node 0 the seed of the others.
static void
start(int i)
{
	char host[32], seed[64];
	address_of(i, host, sizeof host);
	char *argv[40] = {"ip", "netns", "exec", ns[i],
		(char *)np_node_binary(), "--name", CLUSTER, "--host", host,
		"--port", "0", "--secret", SECRET, "--gossip-ms", "100",
		"--heartbeat-ms", "100", "--check-ms", "100", "--min-std-ms",
		"100", "--first-estimate-ms", "200", "--pause-ms", "1500"};
	size_t n = 0;
	while (argv[n] != NULL) {
		n++;
	}
	if (i > 0) {
		address_of(0, seed, sizeof seed);
		snprintf(seed + strlen(seed), sizeof seed - strlen(seed), ":%u",
			node[0].port);
		argv[n++] = "--seed";
		argv[n++] = seed;
	}
	np_start(&node[i], argv, false);
	np_wait_port(&node[i]);
	np_wait_incarnation(&node[i]);
}

Test(cluster_netns, three_nodes_in_namespaces_form_a_cluster,
	.fini = teardown)
{
	make_network();
	for (int i = 0; i < NODES; i++) {
		start(i);
	}
	for (int who = 0; who < NODES; who++) {
		for (int m = 0; m < NODES; m++) {
			char host[32], line[128];
			address_of(m, host, sizeof host);
			snprintf(line, sizeof line,
				"EVENT up %s:%u inc=%" PRIu64 " roles=", host,
				node[m].port, node[m].incarnation);
			cr_assert(ge(long, np_wait_line(&node[who], 0, line), 0),
				"node %d never printed '%s'", who, line);
		}
		np_member m[NODES + 1];
		cr_assert(eq(sz, np_members(&node[who], m, NODES + 1), NODES));
		for (int k = 0; k < NODES; k++) {
			cr_assert(eq(str, m[k].status, "up"));
		}
	}
	for (int i = 0; i < NODES; i++) {
		np_send(&node[i], "quit");
	}
	for (int i = 0; i < NODES; i++) {
		cr_assert(eq(int, np_wait_exit(&node[i]), 0), "node %d", i);
	}
}
