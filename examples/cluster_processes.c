// examples/cluster_processes.c: the same cluster as cluster_formation.c,
// but each node is its own process, talking TCP over loopback. The
// program forks before anything starts: the parent is node a (it founds
// the cluster on 127.0.0.1), the child is node b (127.0.0.2), which
// learns a's port through a pipe and joins through it. Each waits for
// both to be up, asks the other's greeter, and then b leaves; a logs it
// and tells b it may go. Lines of the two processes interleave.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_greeter.h"

// Node b: joins a, greets through it, leaves when a says so.
static int
node_b(int from_a)
{
	uint16_t port;
	if (read(from_a, &port, sizeof port) != (ssize_t)sizeof port) {
		return 1;
	}
	casty_node_address seed = {.host = "127.0.0.1", .port = port};
	casty_system      *sys;

	casty_cluster *b =
		start_greeter_node(&sys, "b", "127.0.0.2", &seed, 0);
	if (b == NULL) {
		return 1;
	}
	wait_log_lines(2); // b saw a and b come up
	char uri[96];
	snprintf(uri, sizeof uri, "casty://task-queue@127.0.0.1:%u/greeter",
		port);
	greet_remote(sys, b, "b", uri, "Bob");
	char byte = 0;
	if (read(from_a, &byte, 1) != 1) { // a has greeted us too
		return 1;
	}
	casty_cluster_leave(b);
	if (read(from_a, &byte, 1) != 1) { // a has seen us leave
		return 1;
	}
	casty_cluster_stop(b);
	casty_system_destroy(sys);
	return 0;
}

int main(void)
{
	int to_b[2];
	if (pipe(to_b) != 0) {
		return 1;
	}
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		close(to_b[1]);
		return node_b(to_b[0]);
	}
	close(to_b[0]);

	casty_system  *sys;
	casty_cluster *a = start_greeter_node(&sys, "a", "127.0.0.1", NULL, 0);
	if (a == NULL) {
		return 1;
	}
	uint16_t port = casty_cluster_port(a);
	if (write(to_b[1], &port, sizeof port) != (ssize_t)sizeof port) {
		return 1;
	}
	wait_log_lines(2); // a saw a and b come up
	// b's port: the member up event gave only its host; the member list
	// has the rest.
	casty_member_info members[2];
	size_t            n;
	casty_cluster_members(a, members, 2, &n);
	for (size_t i = 0; i < n && i < 2; i++) {
		if (strcmp(members[i].host, "127.0.0.2") == 0) {
			char uri[96];
			snprintf(uri, sizeof uri,
				"casty://task-queue@127.0.0.2:%u/greeter",
				members[i].port);
			greet_remote(sys, a, "a", uri, "Alice");
		}
	}
	char byte = 1;
	if (write(to_b[1], &byte, 1) != 1) { // b may leave
		return 1;
	}
	wait_log_lines(3); // a saw b leave
	if (write(to_b[1], &byte, 1) != 1) { // b may stop
		return 1;
	}
	int status;
	waitpid(child, &status, 0);
	casty_cluster_stop(a);
	casty_system_destroy(sys);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
