// bench/cluster_remote.c: messages between two cluster nodes in two
// processes over loopback. The program forks: the child is node B with a
// sink actor (counts and sums what it gets) and an echo actor; the parent
// is node A, which finds both by URI and measures
//   BENCH remote-tell   tells from A's main thread to B's sink, in
//                       windows of WINDOW closed by an ask (one sender's
//                       messages arrive in order, so the answer comes
//                       after the window's last message); the count and
//                       the sum are checked;
//   remote_ask_p50_us   the round trip of one ask to B's echo, median
//   remote_ask_p99_us   and 99th percentile over ASKS asks.
//
//   cluster_remote [MESSAGES]     (default 2,000,000)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <casty/casty.h>

#include "bench/bench.h"

#define WINDOW 100000
#define ASKS 20000
#define TIMEOUT_MS 60000

typedef struct {
	int64_t n;
} Add;
typedef struct {
	casty_ref reply_to;
} GetStats;
typedef struct {
	int64_t count, sum;
} Stats;
typedef struct {
	int64_t   n;
	casty_ref reply_to;
} Ping;
CASTY_MESSAGE(Add, n);
CASTY_MESSAGE(GetStats, reply_to);
CASTY_MESSAGE(Stats, count, sum);
CASTY_MESSAGE(Ping, n, reply_to);
CASTY_PROTOCOL(SinkMsg, Add, GetStats);
CASTY_PROTOCOL(EchoMsg, Ping);

static casty_behavior sink(Stats s);

CASTY_HANDLER(sink_receive, Stats)
{
	switch (SinkMsg_tag_of(msg)) {
	case SinkMsg_Add:
		return sink((Stats){state->count + 1,
			state->sum + CASTY_AS(Add, msg)->n});
	case SinkMsg_GetStats:
		casty_send(CASTY_AS(GetStats, msg)->reply_to, Stats,
			state->count, state->sum);
		return casty_same();
	}
	return casty_unhandled();
}

static casty_behavior
sink(Stats s)
{
	return casty_receive(sink_receive, &s, sizeof s);
}

CASTY_HANDLER(echo_receive, void)
{
	const Ping *p = CASTY_AS(Ping, msg);
	casty_send(p->reply_to, casty_int, p->n);
	return casty_same();
}

// seed_port 0: the node founds the cluster; else it joins the node
// there and returns once both are up (only members are reached).
static casty_system *
start_node(casty_cluster **c, uint16_t seed_port)
{
	casty_system_config sc;
	casty_system_config_init(&sc);
	sc.name = "bench";
	casty_system *sys;
	if (casty_system_create(&sc, &sys) != CASTY_OK) {
		fprintf(stderr, "cluster_remote: cannot create a system\n");
		exit(1);
	}
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	casty_node_address seed = {.host = "127.0.0.1", .port = seed_port};
	if (seed_port != 0) {
		o.seed_nodes = &seed;
		o.nseed_nodes = 1;
		o.required_quorum = 2;
	}
	if (casty_cluster_start(sys, &o, c) != CASTY_OK) {
		fprintf(stderr, "cluster_remote: cannot start the node\n");
		exit(1);
	}
	return sys;
}

// Node B: serves until its parent closes the pipe.
static void
run_child(int port_fd, int quit_fd)
{
	casty_cluster *c;
	casty_system  *sys = start_node(&c, 0);
	SinkMsg_ref    s;
	EchoMsg_ref    e;
	if (casty_spawn(sys, SinkMsg, sink((Stats){0, 0}), "sink", &s) != 0 ||
	    casty_spawn(sys, EchoMsg, casty_receive(echo_receive, NULL, 0),
		    "echo", &e) != 0) {
		exit(1);
	}
	uint16_t port = casty_cluster_port(c);
	if (write(port_fd, &port, sizeof port) != (ssize_t)sizeof port) {
		exit(1);
	}
	char byte;
	while (read(quit_fd, &byte, 1) < 0 && errno == EINTR) {
	}
	casty_cluster_stop(c);
	casty_system_destroy(sys);
	exit(0);
}

static Stats
ask_stats(casty_system *sys, SinkMsg_ref s)
{
	casty_msg *reply;
	int rc = casty_ask(sys, s, GetStats, reply_to, TIMEOUT_MS, &reply);
	bench_check("remote-tell", "ask", rc, CASTY_OK);
	Stats st = *CASTY_AS(Stats, reply);
	casty_msg_free(reply);
	return st;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int64_t n = argc > 1 ? atoll(argv[1]) : 2000000;
	int     port_pipe[2], quit_pipe[2];
	if (n <= 0 || pipe(port_pipe) != 0 || pipe(quit_pipe) != 0) {
		fprintf(stderr, "usage: cluster_remote [MESSAGES]\n");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		close(quit_pipe[1]);
		run_child(port_pipe[1], quit_pipe[0]);
	}
	close(quit_pipe[0]);
	uint16_t port;
	if (read(port_pipe[0], &port, sizeof port) != (ssize_t)sizeof port) {
		fprintf(stderr, "cluster_remote: node B did not start\n");
		return 1;
	}

	casty_register(Stats);
	casty_cluster *c;
	casty_system  *sys = start_node(&c, port);
	char           uri[128];
	SinkMsg_ref    s;
	EchoMsg_ref    e;
	snprintf(uri, sizeof uri, "casty://bench@127.0.0.1:%u/sink", port);
	bench_check("remote-tell", "lookup sink",
		casty_cluster_lookup(c, uri, TIMEOUT_MS, &s.ref), CASTY_OK);
	snprintf(uri, sizeof uri, "casty://bench@127.0.0.1:%u/echo", port);
	bench_check("remote-tell", "lookup echo",
		casty_cluster_lookup(c, uri, TIMEOUT_MS, &e.ref), CASTY_OK);

	double t0 = bench_now();
	for (int64_t i = 1; i <= n; i++) {
		bench_check("remote-tell", "tell", casty_tell(s, Add, i), 0);
		if (i % WINDOW == 0) {
			ask_stats(sys, s);
		}
	}
	Stats st = ask_stats(sys, s);
	double t1 = bench_now();
	bench_check("remote-tell", "count", st.count, n);
	bench_check("remote-tell", "sum", st.sum, n * (n + 1) / 2);
	bench_report("remote-tell", n, t1 - t0);

	static double lat[ASKS];
	for (int i = 0; i < ASKS; i++) {
		casty_msg *reply;
		double     a0 = bench_now();
		int rc = casty_ask(sys, e, Ping, reply_to, TIMEOUT_MS, &reply,
			i, CASTY_REF_NONE);
		lat[i] = (bench_now() - a0) * 1e6;
		bench_check("remote-ask", "ask", rc, CASTY_OK);
		bench_check("remote-ask", "reply", CASTY_AS(casty_int, reply)->value,
			i);
		casty_msg_free(reply);
	}
	qsort(lat, ASKS, sizeof lat[0], cmp_double);
	bench_metric("remote_ask_p50_us", lat[ASKS / 2], "us");
	bench_metric("remote_ask_p99_us", lat[ASKS * 99 / 100], "us");

	casty_cluster_stop(c);
	casty_system_destroy(sys);
	close(quit_pipe[1]);
	int status;
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
