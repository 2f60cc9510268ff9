// tests/cluster/test_cluster_processes.c: cluster nodes as real processes
// (casty-node, tools/casty_node.c) on 127.0.0.1, each a casty system of
// its own, driven over stdin and stdout. Three nodes form a cluster; a
// node killed with SIGKILL is found unreachable and removed, and rejoins
// with a new incarnation when restarted on its port; a graceful leave is
// seen as left and removed; a node with the wrong secret is refused;
// roles given with --role are seen by every node; and bytes that are not
// the protocol (a bad join request among them), sent by the test itself,
// close only their own connection. Every wait is for a line a node
// prints, bounded by a generous deadline that only turns a hang into a
// failure; nothing asserts how long anything took. Every child is killed
// and reaped in the teardown, whatever happened.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/node.h"
#include "node_process.h"

TestSuite(cluster_processes, .timeout = 300);

#define HOST "127.0.0.1"
#define CLUSTER "proc-cluster"
#define SECRET "the process tests' secret"
#define NODES 5

static node_proc node[NODES];
// Each node's roles as it prints them (sorted, comma-separated).
static const char *node_roles[NODES];

static void
setup(void)
{
	memset(node, 0, sizeof node);
	for (int i = 0; i < NODES; i++) {
		node_roles[i] = "";
	}
}

static void
teardown(void)
{
	np_cleanup(node, NODES);
}

// Fast timings, with a failure detector generous enough for sanitizer
// builds on a busy machine: a false suspicion would stall convergence,
// and with downing remove a live node.
#define FAST_TIMINGS                                                          \
	"--gossip-ms", "100", "--heartbeat-ms", "100", "--check-ms", "100",   \
	    "--min-std-ms", "100", "--first-estimate-ms", "200",              \
	    "--pause-ms", "1500"

// Starts node i with --role for each of roles (NULL-terminated, NULL:
// none), and waits for its PORT line. seed < 0: it founds the cluster;
// else node seed is its seed, at the port that node printed. port 0:
// any. stable_after_ms 0: no downing, else keep-majority once the view
// has been stable that long.
static void
start_with_roles(int i, int seed, const char *secret, unsigned port,
	unsigned stable_after_ms, char *const *roles)
{
	char port_arg[16], seed_arg[64], stable_arg[16];
	snprintf(port_arg, sizeof port_arg, "%u", port);
	snprintf(stable_arg, sizeof stable_arg, "%u", stable_after_ms);
	char *argv[48] = {(char *)np_node_binary(), "--name", CLUSTER, "--host",
		HOST, "--port", port_arg, "--secret", (char *)secret,
		FAST_TIMINGS};
	size_t n = 0;
	while (argv[n] != NULL) {
		n++;
	}
	if (stable_after_ms != 0) {
		argv[n++] = "--downing";
		argv[n++] = "keep-majority";
		argv[n++] = "--stable-after-ms";
		argv[n++] = stable_arg;
	}
	if (seed >= 0) {
		snprintf(seed_arg, sizeof seed_arg, "%s:%u", HOST, node[seed].port);
		argv[n++] = "--seed";
		argv[n++] = seed_arg;
	}
	for (size_t r = 0; roles != NULL && roles[r] != NULL; r++) {
		cr_assert(lt(sz, n + 2, sizeof argv / sizeof argv[0]));
		argv[n++] = "--role";
		argv[n++] = roles[r];
	}
	np_start(&node[i], argv, false);
	np_wait_port(&node[i]);
}

static void
start(int i, int seed, const char *secret, unsigned port,
	unsigned stable_after_ms)
{
	start_with_roles(i, seed, secret, port, stable_after_ms, NULL);
}

// Waits until node who has printed the event kind about the member
// `about` (its current run); returns the line's index.
static long
expect_event(int who, const char *kind, int about)
{
	char line[384];
	snprintf(line, sizeof line, "EVENT %s %s:%u inc=%" PRIu64 " roles=%s",
		kind, HOST, node[about].port, node[about].incarnation,
		node_roles[about]);
	long at = np_wait_line(&node[who], 0, line);
	cr_assert(at >= 0, "node %d never printed '%s'", who, line);
	return at;
}

// Nodes 0, 1 and 2, node 0 the seed of the others, each seeing all three
// up.
static void
form_three(unsigned stable_after_ms)
{
	start(0, -1, SECRET, 0, stable_after_ms);
	np_wait_incarnation(&node[0]);
	start(1, 0, SECRET, 0, stable_after_ms);
	start(2, 0, SECRET, 0, stable_after_ms);
	np_wait_incarnation(&node[1]);
	np_wait_incarnation(&node[2]);
	for (int who = 0; who < 3; who++) {
		for (int m = 0; m < 3; m++) {
			expect_event(who, "up", m);
		}
	}
}

// Checks that node who lists exactly the nodes of `which` (a bit per
// node), each up and in its current incarnation.
static void
expect_members_up(int who, unsigned which)
{
	np_member m[NODES + 2];
	size_t    n = np_members(&node[who], m, NODES + 2);
	cr_assert(eq(sz, n, (size_t)__builtin_popcount(which)),
		"node %d lists %zu members", who, n);
	for (size_t k = 0; k < n; k++) {
		int i = 0;
		while (i < NODES && !((which >> i & 1u) && node[i].port == m[k].port)) {
			i++;
		}
		cr_assert(lt(int, i, NODES), "node %d lists port %u", who,
			m[k].port);
		cr_assert(eq(str, m[k].host, HOST));
		cr_assert(eq(str, m[k].status, "up"), "node %d: %u is %s", who,
			m[k].port, m[k].status);
		cr_assert(eq(u64, m[k].incarnation, node[i].incarnation));
	}
}

static void
quit_all(unsigned which)
{
	for (int i = 0; i < NODES; i++) {
		if (which >> i & 1u) {
			np_send(&node[i], "quit");
		}
	}
	for (int i = 0; i < NODES; i++) {
		if (which >> i & 1u) {
			cr_assert(eq(int, np_wait_exit(&node[i]), 0),
				"node %d did not exit cleanly", i);
		}
	}
}

Test(cluster_processes, three_nodes_form_a_cluster, .init = setup,
	.fini = teardown)
{
	form_three(0);
	for (int who = 0; who < 3; who++) {
		expect_members_up(who, 07);
	}
	np_member m[4];
	cr_assert(eq(sz, np_members(&node[1], m, 4), 3));
	for (int k = 0; k < 3; k++) {
		cr_assert(m[k].reachable);
	}
	cr_assert(ne(u64, node[0].incarnation, node[1].incarnation));
	cr_assert(ne(u64, node[1].incarnation, node[2].incarnation));
	// The three ways to stop one: quit, end of input, SIGTERM.
	np_send(&node[0], "quit");
	close(node[1].in);
	node[1].in = -1;
	cr_assert(eq(int, kill(node[2].pid, SIGTERM), 0));
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, np_wait_exit(&node[i]), 0), "node %d", i);
	}
}

Test(cluster_processes, roles_given_with_role_are_seen_by_every_node,
	.init = setup, .fini = teardown)
{
	char *front[] = {"frontend", NULL};
	char *back[] = {"worker", "backend", "worker", NULL};
	node_roles[0] = "frontend";
	node_roles[1] = "backend,worker"; // sorted, once each
	start_with_roles(0, -1, SECRET, 0, 0, front);
	np_wait_incarnation(&node[0]);
	start_with_roles(1, 0, SECRET, 0, 0, back);
	start(2, 0, SECRET, 0, 0); // no roles
	np_wait_incarnation(&node[1]);
	np_wait_incarnation(&node[2]);
	// Each up event names the member's roles (expect_event's line).
	for (int who = 0; who < 3; who++) {
		for (int m = 0; m < 3; m++) {
			expect_event(who, "up", m);
		}
	}
	// So does every member list.
	for (int who = 0; who < 3; who++) {
		np_member m[4];
		size_t    n = np_members(&node[who], m, 4);
		cr_assert(eq(sz, n, 3));
		for (size_t k = 0; k < n; k++) {
			int i = 0;
			while (i < 3 && node[i].port != m[k].port) {
				i++;
			}
			cr_assert(lt(int, i, 3), "node %d lists port %u", who,
				m[k].port);
			cr_assert(eq(str, m[k].roles, (char *)node_roles[i]),
				"node %d sees node %d with roles '%s'", who, i,
				m[k].roles);
		}
	}
	quit_all(07);
}

Test(cluster_processes, a_killed_node_is_removed_and_rejoins_with_a_new_incarnation,
	.init = setup, .fini = teardown)
{
	const unsigned stable_after_ms = 2000;
	form_three(stable_after_ms);
	unsigned port = node[2].port;
	uint64_t old = node[2].incarnation;
	np_kill(&node[2]);
	for (int who = 0; who < 2; who++) {
		long unreachable = expect_event(who, "unreachable", 2);
		long removed = expect_event(who, "removed", 2);
		cr_assert(lt(long, unreachable, removed));
	}
	expect_members_up(0, 03);
	expect_members_up(1, 03);

	// The same port again: a new incarnation, up everywhere.
	np_cleanup(&node[2], 1);
	start(2, 0, SECRET, port, stable_after_ms);
	cr_assert(eq(u32, node[2].port, port));
	np_wait_incarnation(&node[2]);
	cr_assert(ne(u64, node[2].incarnation, old));
	for (int who = 0; who < 3; who++) {
		expect_event(who, "up", 2);
	}
	for (int who = 0; who < 3; who++) {
		expect_members_up(who, 07);
	}
	quit_all(07);
}

Test(cluster_processes, a_graceful_leave_is_seen_as_left_and_removed,
	.init = setup, .fini = teardown)
{
	form_three(0);
	size_t from = node[1].nlines;
	np_send(&node[1], "leave");
	cr_assert(np_wait_prefix(&node[1], from, "OK leave") >= 0);
	for (int who = 0; who < 3; who += 2) {
		long left = expect_event(who, "left", 1);
		long removed = expect_event(who, "removed", 1);
		cr_assert(lt(long, left, removed));
	}
	// The leaver saw itself exit.
	expect_event(1, "left", 1);
	expect_members_up(0, 05);
	expect_members_up(2, 05);
	quit_all(07);
}

Test(cluster_processes, a_node_with_the_wrong_secret_is_refused,
	.init = setup, .fini = teardown)
{
	form_three(0);
	start(3, 0, "not the secret", 0, 0);
	// It dials the seed, and the seed's proof does not check out.
	cr_assert(np_wait_substring(&node[3], "handshake: wrong secret") >= 0,
		"the node with the wrong secret logged no refusal");
	// A good node that comes later joins, while the bad one is still
	// out: every node sees the newcomer up, and none ever saw node 3.
	start(4, 0, SECRET, 0, 0);
	np_wait_incarnation(&node[4]);
	char refused[64];
	snprintf(refused, sizeof refused, "EVENT up %s:%u ", HOST, node[3].port);
	for (int who = 0; who < 5; who++) {
		if (who != 3) {
			expect_event(who, "up", 4);
			cr_assert(lt(long, np_find_prefix(&node[who], 0, refused), 0));
			expect_members_up(who, 027);
		}
	}
	cr_assert(lt(long, np_find_prefix(&node[3], 0, "INCARNATION"), 0));
	np_member m[4];
	cr_assert(eq(sz, np_members(&node[3], m, 4), 0));
	quit_all(037);
}

// ---- Bytes that are not the protocol ----

static int
dial(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof sa), 0),
		"connect: %s", strerror(errno));
	return fd;
}

static unsigned
local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof sa;
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	return ntohs(sa.sin_port);
}

static void
write_all(int fd, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		cr_assert(lt(long, 0, (long)w), "send: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

// Reads up to size bytes, waiting up to NP_WAIT_MS: > 0 bytes read, 0 end
// of stream, -1 a reset; a hang fails.
static ssize_t
read_within(int fd, void *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	cr_assert(lt(int, 0, poll(&p, 1, NP_WAIT_MS)),
		"the node neither answered nor closed");
	ssize_t r = recv(fd, buf, size, 0);
	if (r < 0) {
		cr_assert(eq(int, errno, ECONNRESET), "recv: %s", strerror(errno));
		return -1;
	}
	return r;
}

// Waits until the node closes fd (end of stream or a reset), and for
// the node's log line that says why (a positive sign that it was this
// rule, not the handshake timeout, that closed it).
static void
expect_closed(int who, int fd, const char *why)
{
	char buf[512];
	while (read_within(fd, buf, sizeof buf) > 0) {
		// whatever the node sent before it gave up
	}
	char line[160];
	snprintf(line, sizeof line, "transport: closing %s:%u (inbound): %s",
		HOST, local_port(fd), why);
	cr_assert(np_wait_substring(&node[who], line) >= 0,
		"node %d never logged '%s'", who, line);
	close(fd);
}

static void
send_garbage(int who, const void *bytes, size_t len, const char *why)
{
	int fd = dial(node[who].port);
	write_all(fd, bytes, len);
	expect_closed(who, fd, why);
}

// A real handshake with node who (the test acts as a node that claims
// its own socket's port); returns the open connection.
static int
handshake_with(int who)
{
	int           fd = dial(node[who].port);
	cst_hs_config cfg = {
		.cluster = CLUSTER,
		.host = HOST,
		.port = (uint16_t)local_port(fd),
		.incarnation = 42,
		.secret = (const uint8_t *)SECRET,
		.secret_len = strlen(SECRET),
	};
	cst_handshake     hs;
	cst_frame_buf     out = {0};
	cst_frame_decoder dec;
	cst_frame_decoder_init(&dec, 0);
	cr_assert(eq(int, cst_handshake_start(&hs, &cfg, CST_HS_INITIATOR, &out),
		0));
	int rc = 0;
	while (rc == 0) {
		write_all(fd, out.data, out.len);
		out.len = 0;
		uint8_t buf[1024];
		ssize_t r = read_within(fd, buf, sizeof buf);
		cr_assert(lt(long, 0, (long)r), "the node closed the handshake");
		const uint8_t *p = buf;
		size_t         left = (size_t)r;
		while (rc == 0 && left > 0) {
			cst_frame f;
			size_t    used;
			int       d = cst_frame_decode(&dec, p, left, &used, &f);
			cr_assert(ge(int, d, 0));
			p += used;
			left -= used;
			if (d == CST_FRAME_READY) {
				rc = cst_handshake_on_frame(&hs, &f, &out, NULL, NULL);
				cr_assert(ge(int, rc, 0), "handshake: %s",
					cst_hs_strerror(rc));
			}
		}
	}
	write_all(fd, out.data, out.len); // our proof: the connection opens
	cst_frame_buf_fini(&out);
	cst_frame_decoder_fini(&dec);
	return fd;
}

// A frame header above the maximum of an open connection.
static void
oversized_after_handshake(int who)
{
	int fd = handshake_with(who);
	// u32 big-endian length (kind + body), kind: one byte over the
	// maximum of an open connection.
	uint32_t len = CST_FRAME_DEFAULT_MAX + 1;
	uint8_t  head[CST_FRAME_HEADER] = {(uint8_t)(len >> 24),
		 (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
		 CST_FRAME_KIND_USER};
	write_all(fd, head, sizeof head);
	expect_closed(who, fd, "frame above the maximum");
}

// A join request whose roles are not in order: [1, ["b", "a"]].
static void
bad_join_after_handshake(int who)
{
	int           fd = handshake_with(who);
	unsigned      port = local_port(fd); // the name the test gave itself
	const uint8_t body[] = {0x92, 0x01, 0x92, 0xa1, 'b', 0xa1, 'a'};
	uint8_t       frame[CST_FRAME_HEADER + sizeof body];
	cst_frame_head(frame, CST_KIND_JOIN, sizeof body);
	memcpy(frame + CST_FRAME_HEADER, body, sizeof body);
	write_all(fd, frame, sizeof frame);
	expect_closed(who, fd, "bad join request");
	char line[128];
	snprintf(line, sizeof line, "cluster: bad join request from %s:%u: "
				    "roles not sorted or duplicated",
		HOST, port);
	cr_assert(np_wait_substring(&node[who], line) >= 0,
		"node %d never logged '%s'", who, line);
}

Test(cluster_processes, garbage_and_oversized_frames_close_only_their_connection,
	.init = setup, .fini = teardown)
{
	form_three(0);
	// Text: its first four bytes read as a length far above the maximum.
	static const char text[] = "GET / HTTP/1.1\r\nHost: casty\r\n\r\n";
	send_garbage(0, text, sizeof text - 1, "frame above the maximum");
	// A length of 0, which no frame has.
	static const uint8_t zero[] = {0, 0, 0, 0, 16, 1, 2, 3};
	send_garbage(1, zero, sizeof zero, "malformed frame");
	// A small HELLO frame whose body is not a hello.
	static const uint8_t hello[] = {0, 0, 0, 9, CST_FRAME_KIND_HELLO, 'n',
		'o', 't', ' ', 'c', 's', 't', 'y'};
	send_garbage(2, hello, sizeof hello, "handshake: not a casty peer");
	// The largest length a header can say, before any handshake.
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff,
		CST_FRAME_KIND_USER};
	send_garbage(0, huge, sizeof huge, "frame above the maximum");
	oversized_after_handshake(1);
	bad_join_after_handshake(2);

	// Nothing else changed: three members up everywhere, and a later
	// change of membership still goes round.
	for (int who = 0; who < 3; who++) {
		expect_members_up(who, 07);
	}
	np_send(&node[2], "leave");
	for (int who = 0; who < 2; who++) {
		expect_event(who, "left", 2);
		expect_event(who, "removed", 2);
	}
	expect_members_up(0, 03);
	quit_all(07);
}

Test(cluster_processes, bad_arguments_exit_2_with_one_line, .init = setup,
	.fini = teardown)
{
	char *bad[][4] = {
		{"--port", "not-a-port", NULL},
		{"--seed", "no-port-here", NULL},
		{"--no-such-option", NULL},
		{"--gossip-ms", NULL},
		{"--heartbeat-ms", "-5", NULL},
		{"--secret-file", "/nonexistent/casty-secret", NULL},
		{"stray", NULL},
		{"--host", "not-an-address", NULL}, // refused at start
		{"--role", "a,b", NULL},            // so are bad roles
		{"--role", "", NULL},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char *argv[6] = {(char *)np_node_binary()};
		for (int a = 0; bad[k][a] != NULL; a++) {
			argv[a + 1] = bad[k][a];
		}
		np_start(&node[0], argv, true); // stderr into the pipe
		cr_assert(eq(int, np_wait_exit(&node[0]), 2), "%s", bad[k][0]);
		cr_assert(eq(sz, node[0].nlines, 1), "%s", bad[k][0]);
		cr_assert(eq(int, strncmp(node[0].line[0], "casty-node: ", 12), 0),
			"%s", node[0].line[0]);
		np_cleanup(node, 1);
	}
	char *help[] = {(char *)np_node_binary(), "--help", NULL};
	np_start(&node[0], help, false);
	cr_assert(eq(int, np_wait_exit(&node[0]), 0));
	cr_assert(ge(long, np_find_prefix(&node[0], 0, "usage: casty-node"), 0));
}
