// examples/cluster_formation.c: the README's Cluster Formation, with two
// nodes in one process: node a founds the cluster, node b joins through
// it as its seed and starts once both are up (required_quorum). Both log
// who joined; each asks the other's greeter through a ref found by its
// URI; b leaves gracefully and a logs it. Node a listens on 127.0.0.1,
// b on 127.0.0.2 (any port), so the log names them by host.
#include <stdio.h>

#include "cluster_greeter.h"

static casty_cluster *
start_node(casty_system **sys, const char *node, const char *host,
	const casty_node_address *seed, uint32_t quorum)
{
	casty_system_config config;
	casty_system_config_init(&config);
	config.name = "task-queue";
	casty_system_create(&config, sys);
	Greeter_ref g;
	casty_spawn(*sys, Greeter, greeter(node), "greeter", &g);
	start_member_log(*sys, node, host);

	casty_cluster_options options;
	casty_cluster_options_init(&options);
	snprintf(options.host, sizeof options.host, "%s", host);
	options.seed_nodes = seed;
	options.nseed_nodes = seed != NULL;
	options.secret = "change me"; // every node of the cluster shares it
	options.secret_len = strlen(options.secret);
	options.required_quorum = quorum; // start blocks until that many are up
	casty_cluster *cluster;
	int rc = casty_cluster_start(*sys, &options, &cluster);
	if (rc != CASTY_OK) {
		fprintf(stderr, "node %s: %s\n", node, casty_strerror(rc));
		return NULL;
	}
	return cluster;
}

int main(void)
{
	casty_system *sys_a, *sys_b;
	casty_cluster *a = start_node(&sys_a, "a", "127.0.0.1", NULL, 0);
	if (a == NULL) {
		return 1;
	}
	casty_node_address seed = {.host = "127.0.0.1",
		.port = casty_cluster_port(a)};
	casty_cluster *b = start_node(&sys_b, "b", "127.0.0.2", &seed, 2);
	if (b == NULL) {
		return 1;
	}
	wait_log_lines(4); // a and b each saw a and b come up

	char uri[96];
	snprintf(uri, sizeof uri, "casty://task-queue@127.0.0.2:%u/greeter",
		casty_cluster_port(b));
	greet_remote(sys_a, a, "a", uri, "Alice");
	snprintf(uri, sizeof uri, "casty://task-queue@127.0.0.1:%u/greeter",
		casty_cluster_port(a));
	greet_remote(sys_b, b, "b", uri, "Bob");

	casty_cluster_leave(b);
	wait_log_lines(5); // a saw b leave
	casty_cluster_stop(b);
	casty_system_destroy(sys_b);
	casty_cluster_stop(a);
	casty_system_destroy(sys_a);
	return 0;
}
