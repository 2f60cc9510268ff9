// bench/cluster_membership.c: how fast a cluster of separate processes
// forms and notices a crash, with the default settings (gossip 1 s,
// heartbeat 0.5 s, availability checks every 0.5 s, phi threshold 8,
// acceptable pause 1.5 s). For
// N nodes on loopback (each a forked process; node 0 founds the cluster,
// the others join through it):
//   cluster_N_nodes_all_up_ms                  from the first fork until
//                                              every node has seen N up
//   cluster_N_nodes_kill_to_unreachable_first_ms  from kill -9 of the last
//   cluster_N_nodes_kill_to_unreachable_all_ms    node until the first /
//                                                  every survivor marks it
//                                                  unreachable
// Nodes report with timestamps of CLOCK_MONOTONIC, which all processes of
// the machine share, through one pipe (records below PIPE_BUF are written
// whole).
//
//   cluster_membership [N ...]     (default 3 5)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <casty/casty.h>

#include "bench/bench.h"

#define MAX_NODES 16

enum { REC_PORT, REC_ALL_UP, REC_UNREACHABLE };

typedef struct report {
	int32_t  node;
	int32_t  kind;
	uint32_t port; // REC_PORT: the node's; REC_UNREACHABLE: the member's
	int64_t  ns;
} report;

static int     report_fd;
static int     node_index, nodes_total;
static int32_t up_seen;

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
send_report(int32_t kind, uint32_t port)
{
	report r = {node_index, kind, port, now_ns()};
	if (write(report_fd, &r, sizeof r) != (ssize_t)sizeof r) {
		_exit(1);
	}
}

CASTY_PROTOCOL(Watcher, casty_member_up, casty_unreachable_member);

CASTY_HANDLER(watcher_receive, void)
{
	switch (Watcher_tag_of(msg)) {
	case Watcher_casty_member_up:
		// Only this actor counts: no lock needed.
		if (++up_seen == nodes_total) {
			send_report(REC_ALL_UP, 0);
		}
		break;
	case Watcher_casty_unreachable_member:
		send_report(REC_UNREACHABLE,
			CASTY_AS(casty_unreachable_member, msg)->port);
		break;
	}
	return casty_same();
}

// A node process: reports its port, then what it sees, until killed or
// until the parent closes quit_fd.
static void
run_node(uint16_t seed_port, int quit_fd)
{
	casty_system_config sc;
	casty_system_config_init(&sc);
	sc.name = "bench";
	casty_system *sys;
	if (casty_system_create(&sc, &sys) != CASTY_OK) {
		_exit(1);
	}
	Watcher_ref w;
	casty_spawn(sys, Watcher, casty_receive(watcher_receive, NULL, 0),
		"watcher", &w);
	casty_subscribe(sys, w, casty_member_up);
	casty_subscribe(sys, w, casty_unreachable_member);
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	casty_node_address seed = {.host = "127.0.0.1", .port = seed_port};
	o.seed_nodes = &seed;
	o.nseed_nodes = seed_port != 0;
	casty_cluster *c;
	if (casty_cluster_start(sys, &o, &c) != CASTY_OK) {
		_exit(1);
	}
	send_report(REC_PORT, casty_cluster_port(c));
	char byte;
	while (read(quit_fd, &byte, 1) < 0 && errno == EINTR) {
	}
	casty_cluster_stop(c);
	casty_system_destroy(sys);
	_exit(0);
}

static void
read_report(int fd, report *r)
{
	ssize_t got;
	while ((got = read(fd, r, sizeof *r)) < 0 && errno == EINTR) {
	}
	if (got != (ssize_t)sizeof *r) {
		fprintf(stderr, "cluster_membership: a node died\n");
		exit(1);
	}
}

static void
run(int n)
{
	int   reports[2], quit[2];
	pid_t pids[MAX_NODES];
	if (pipe(reports) != 0 || pipe(quit) != 0) {
		exit(1);
	}
	report_fd = reports[1];
	nodes_total = n;
	int64_t  t0 = now_ns();
	uint16_t ports[MAX_NODES] = {0};
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			node_index = i;
			close(reports[0]);
			close(quit[1]);
			run_node(ports[0], quit[0]);
		}
		if (i == 0) { // the others need the founder's port
			report r;
			read_report(reports[0], &r);
			bench_check("cluster_membership", "port report",
				r.kind, REC_PORT);
			ports[0] = (uint16_t)r.port;
		}
	}
	int     all_up = 0, nports = 1;
	int64_t t_up = 0;
	while (all_up < n || nports < n) {
		report r;
		read_report(reports[0], &r);
		if (r.kind == REC_ALL_UP) {
			all_up++;
			t_up = r.ns > t_up ? r.ns : t_up;
		} else if (r.kind == REC_PORT) {
			ports[r.node] = (uint16_t)r.port;
			nports++;
		}
	}
	char name[96];
	snprintf(name, sizeof name, "cluster_%d_nodes_all_up_ms", n);
	bench_metric(name, (double)(t_up - t0) / 1e6, "ms");

	int     victim = n - 1;
	int64_t t_kill = now_ns();
	kill(pids[victim], SIGKILL);
	int     seen = 0;
	int64_t first = 0, last = 0;
	bool    saw[MAX_NODES] = {false};
	while (seen < n - 1) {
		report r;
		read_report(reports[0], &r);
		if (r.kind == REC_UNREACHABLE && r.port == ports[victim] &&
		    !saw[r.node]) {
			saw[r.node] = true;
			first = seen == 0 ? r.ns : first;
			last = r.ns;
			seen++;
		}
	}
	snprintf(name, sizeof name,
		"cluster_%d_nodes_kill_to_unreachable_first_ms", n);
	bench_metric(name, (double)(first - t_kill) / 1e6, "ms");
	snprintf(name, sizeof name,
		"cluster_%d_nodes_kill_to_unreachable_all_ms", n);
	bench_metric(name, (double)(last - t_kill) / 1e6, "ms");

	close(quit[1]);
	for (int i = 0; i < n; i++) {
		waitpid(pids[i], NULL, 0);
	}
	close(reports[0]);
	close(reports[1]);
	close(quit[0]);
}

int
main(int argc, char **argv)
{
	int sizes[8] = {3, 5}, nsizes = 2;
	if (argc > 1) {
		nsizes = 0;
		for (int i = 1; i < argc && nsizes < 8; i++) {
			int n = atoi(argv[i]);
			if (n < 2 || n > MAX_NODES) {
				fprintf(stderr, "usage: cluster_membership "
						"[N ...] (2 <= N <= %d)\n",
					MAX_NODES);
				return 2;
			}
			sizes[nsizes++] = n;
		}
	}
	casty_log_set_level(CASTY_LOG_WARN);
	for (int i = 0; i < nsizes; i++) {
		run(sizes[i]);
	}
	return 0;
}
