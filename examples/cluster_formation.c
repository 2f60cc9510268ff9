// examples/cluster_formation.c: the README's Cluster Formation, with two
// nodes in one process: node a founds the cluster, node b joins through
// it as its seed and starts once both are up (required_quorum). Both log
// who joined; each asks the other's greeter through a ref found by its
// URI; b leaves gracefully and a logs it. Node a listens on 127.0.0.1,
// b on 127.0.0.2 (any port), so the log names them by host.
#include <stdio.h>

#include "cluster_greeter.h"

int main(void)
{
	casty_system *sys_a, *sys_b;
	casty_cluster *a =
		start_greeter_node(&sys_a, "a", "127.0.0.1", NULL, 0);
	if (a == NULL) {
		return 1;
	}
	casty_node_address seed = {.host = "127.0.0.1",
		.port = casty_cluster_port(a)};
	casty_cluster *b =
		start_greeter_node(&sys_b, "b", "127.0.0.2", &seed, 2);
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
