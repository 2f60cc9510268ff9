// tests/cluster/test_cluster_netns.c: three casty-node processes, each in
// a network namespace of its own, on a private /24 behind a bridge: the
// cluster forms over real interfaces rather than loopback. The bridge
// lives in a fourth namespace, so nothing is added to the machine's own
// network; every namespace is named after this process and deleted in
// the teardown. Needs root and iproute2's `ip` with working `ip netns`;
// skipped otherwise.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node_process.h"
#include "tests/support/netns.h"

TestSuite(cluster_netns, .timeout = 300);

#define CLUSTER "netns-cluster"
#define SECRET "the netns test's secret"
#define SUBNET "10.200.7."
#define NODES 3

static netns_net net;
static node_proc node[NODES];

static void
teardown(void)
{
	np_cleanup(node, NODES); // before their namespaces go
	netns_destroy(&net);
}

static void
address_of(int i, char *buf, size_t size)
{
	netns_address(&net, i, buf, size);
}

// The namespaces and their links, or a skip when this machine cannot
// (Criterion does not run .fini after a skip: netns_make undid it all).
static void
make_network(void)
{
	const char *why = netns_make(&net, NODES, SUBNET, "n");
	if (why != NULL) {
		cr_skip("%s", why);
	}
}

// Starts node i in its namespace, node 0 the seed of the others.
static void
start(int i)
{
	char host[32], seed[64];
	address_of(i, host, sizeof host);
	char *argv[40] = {"ip", "netns", "exec", net.node[i],
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
