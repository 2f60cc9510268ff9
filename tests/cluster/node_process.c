// tests/cluster/node_process.c: see node_process.h.
#include "node_process.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The children whose output is still open: a wait reads them all.
static node_proc *reading[NP_MAX];

const char *
np_node_binary(void)
{
	const char *bin = getenv("CASTY_NODE");
	cr_assert(bin != NULL && bin[0] != '\0',
		"CASTY_NODE is not set: run through meson test");
	return bin;
}

static void
watch(node_proc *p)
{
	for (int i = 0; i < NP_MAX; i++) {
		if (reading[i] == NULL) {
			reading[i] = p;
			return;
		}
	}
	cr_assert_fail("more than %d children at once", NP_MAX);
}

static void
unwatch(node_proc *p)
{
	for (int i = 0; i < NP_MAX; i++) {
		if (reading[i] == p) {
			reading[i] = NULL;
		}
	}
}

void
np_start(node_proc *p, char *const argv[], bool merge_stderr)
{
	np_start_as(p, argv, merge_stderr, false);
}

void
np_start_as(node_proc *p, char *const argv[], bool merge_stderr, bool stamped)
{
	int to_child[2], from_child[2];
	memset(p, 0, sizeof(*p));
	p->in = p->out = -1;
	p->stamped = stamped;
	// A child that writes to a pipe whose reader is gone gets EPIPE;
	// so does this process when a child has died.
	signal(SIGPIPE, SIG_IGN);
	// Close-on-exec: no child inherits another child's pipes (which
	// would keep their ends open past that child's exit).
	cr_assert(pipe2(to_child, O_CLOEXEC) == 0);
	cr_assert(pipe2(from_child, O_CLOEXEC) == 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		// Only async-signal-safe calls until exec. A test that dies
		// (a timeout, a crash) takes its children with it.
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			_exit(127);
		}
		dup2(to_child[0], STDIN_FILENO);
		dup2(from_child[1], STDOUT_FILENO);
		if (merge_stderr) {
			dup2(from_child[1], STDERR_FILENO);
		}
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	p->pid = pid;
	p->in = to_child[1];
	p->out = from_child[0];
	watch(p);
}

// A stamped child's lines start with "<ms> ": the time goes to p->ms,
// the rest is the line.
static void
add_line(node_proc *p, const char *s, size_t len)
{
	if (p->nlines == p->cap) {
		p->cap = p->cap != 0 ? p->cap * 2 : 64;
		p->line = realloc(p->line, p->cap * sizeof(*p->line));
		p->ms   = realloc(p->ms, p->cap * sizeof(*p->ms));
		cr_assert(p->line != NULL && p->ms != NULL);
	}
	p->ms[p->nlines] = -1;
	if (p->stamped) {
		int64_t ms = 0;
		size_t  i  = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			ms = ms * 10 + (s[i++] - '0');
		}
		if (i > 0 && i < len && s[i] == ' ') {
			p->ms[p->nlines] = ms;
			s += i + 1;
			len -= i + 1;
		}
	}
	char *l = malloc(len + 1);
	cr_assert(l != NULL);
	memcpy(l, s, len);
	l[len] = '\0';
	p->line[p->nlines++] = l;
}

// Reads what p has to give (its fd was reported readable).
static void
read_some(node_proc *p)
{
	char    buf[4096];
	ssize_t r = read(p->out, buf, sizeof buf);
	if (r < 0 && errno == EINTR) {
		return;
	}
	if (r <= 0) {
		if (p->npartial != 0) {
			add_line(p, p->partial, p->npartial);
			p->npartial = 0;
		}
		close(p->out);
		p->out = -1;
		unwatch(p);
		return;
	}
	for (ssize_t i = 0; i < r; i++) {
		if (buf[i] == '\n') {
			add_line(p, p->partial, p->npartial);
			p->npartial = 0;
		} else if (p->npartial < sizeof p->partial - 1) {
			p->partial[p->npartial++] = buf[i];
		}
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Reads every watched child for up to timeout_ms; returns once
// something was read (or the time is up).
static void
pump(int64_t timeout_ms)
{
	struct pollfd pfd[NP_MAX];
	node_proc    *who[NP_MAX];
	nfds_t        n = 0;
	for (int i = 0; i < NP_MAX; i++) {
		if (reading[i] != NULL) {
			pfd[n] = (struct pollfd){.fd = reading[i]->out,
				.events = POLLIN};
			who[n++] = reading[i];
		}
	}
	if (n == 0) {
		return;
	}
	int rc = poll(pfd, n, (int)timeout_ms);
	for (nfds_t i = 0; rc > 0 && i < n; i++) {
		if (pfd[i].revents != 0) {
			read_some(who[i]);
		}
	}
}

long
np_find_prefix(const node_proc *p, size_t from, const char *prefix)
{
	size_t len = strlen(prefix);
	for (size_t i = from; i < p->nlines; i++) {
		if (strncmp(p->line[i], prefix, len) == 0) {
			return (long)i;
		}
	}
	return -1;
}

long
np_find_substring(const node_proc *p, const char *s)
{
	for (size_t i = 0; i < p->nlines; i++) {
		if (strstr(p->line[i], s) != NULL) {
			return (long)i;
		}
	}
	return -1;
}

size_t
np_count_prefix(const node_proc *p, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (size_t i = 0; i < p->nlines; i++) {
		n += strncmp(p->line[i], prefix, len) == 0;
	}
	return n;
}

long
np_wait_prefix(node_proc *p, size_t from, const char *prefix)
{
	int64_t deadline = now_ms() + NP_WAIT_MS;
	for (;;) {
		long at = np_find_prefix(p, from, prefix);
		int64_t left = deadline - now_ms();
		if (at >= 0 || p->out < 0 || left <= 0) {
			return at;
		}
		pump(left);
	}
}

long
np_wait_line(node_proc *p, size_t from, const char *line)
{
	size_t len = strlen(line);
	for (;;) {
		long at = np_wait_prefix(p, from, line);
		if (at < 0 || p->line[at][len] == '\0') {
			return at;
		}
		from = (size_t)at + 1;
	}
}

long
np_wait_substring_from(
    node_proc *p, size_t from, const char *s, int64_t timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		long at = -1;
		for (size_t i = from; at < 0 && i < p->nlines; i++) {
			if (strstr(p->line[i], s) != NULL) {
				at = (long)i;
			}
		}
		int64_t left = deadline - now_ms();
		if (at >= 0 || p->out < 0 || left <= 0) {
			return at;
		}
		pump(left);
	}
}

void
np_pump(int64_t timeout_ms)
{
	pump(timeout_ms);
}

long
np_wait_substring(node_proc *p, const char *s)
{
	int64_t deadline = now_ms() + NP_WAIT_MS;
	for (;;) {
		long at = np_find_substring(p, s);
		int64_t left = deadline - now_ms();
		if (at >= 0 || p->out < 0 || left <= 0) {
			return at;
		}
		pump(left);
	}
}

void
np_wait_port(node_proc *p)
{
	long at = np_wait_prefix(p, 0, "PORT ");
	cr_assert(at >= 0, "pid %d printed no PORT line", (int)p->pid);
	cr_assert(sscanf(p->line[at], "PORT %u", &p->port) == 1);
	cr_assert(p->port > 0 && p->port < 65536);
}

void
np_wait_incarnation(node_proc *p)
{
	long at = np_wait_prefix(p, 0, "INCARNATION ");
	cr_assert(at >= 0, "the node on port %u never became a member",
		p->port);
	cr_assert(sscanf(p->line[at], "INCARNATION %" SCNu64,
			  &p->incarnation) == 1);
	cr_assert(p->incarnation != 0);
}

void
np_send(node_proc *p, const char *command)
{
	char   buf[256];
	int    n = snprintf(buf, sizeof buf, "%s\n", command);
	cr_assert(p->in >= 0 && n > 0 && (size_t)n < sizeof buf);
	cr_assert(write(p->in, buf, (size_t)n) == n, "write to pid %d: %s",
		(int)p->pid, strerror(errno));
}

size_t
np_members(node_proc *p, np_member *out, size_t cap)
{
	size_t from = p->nlines;
	np_send(p, "members");
	long end = np_wait_prefix(p, from, "END");
	cr_assert(end >= 0, "no END after members from port %u", p->port);
	size_t n = 0;
	for (size_t i = from; i < (size_t)end; i++) {
		np_member m;
		char      hostport[96], reach[16];
		if (sscanf(p->line[i], "MEMBER %95s %15s %" SCNu64 " %15s",
			    hostport, m.status, &m.incarnation, reach) != 4) {
			continue; // an EVENT or LOG line that came before
		}
		char *colon = strrchr(hostport, ':');
		cr_assert(colon != NULL, "%s", p->line[i]);
		*colon = '\0';
		snprintf(m.host, sizeof m.host, "%s", hostport);
		m.port = (unsigned)strtoul(colon + 1, NULL, 10);
		m.reachable = strcmp(reach, "reachable") == 0;
		const char *roles = strstr(p->line[i], " roles=");
		cr_assert(roles != NULL, "%s", p->line[i]);
		snprintf(m.roles, sizeof m.roles, "%s",
			roles + strlen(" roles="));
		if (n < cap) {
			out[n] = m;
		}
		n++;
	}
	return n;
}

int
np_wait_exit(node_proc *p)
{
	int64_t deadline = now_ms() + NP_WAIT_MS;
	while (p->out >= 0 && now_ms() < deadline) {
		pump(deadline - now_ms());
	}
	if (p->out >= 0) {
		np_kill(p); // a hang: the caller's assert reports it
		return -1;
	}
	// Its output ended: it has exited (or is about to).
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR) {
	}
	p->pid = 0;
	if (p->in >= 0) {
		close(p->in);
		p->in = -1;
	}
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

void
np_kill(node_proc *p)
{
	if (p->pid <= 0) {
		return;
	}
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR) {
	}
	p->pid = 0;
	if (p->in >= 0) {
		close(p->in);
		p->in = -1;
	}
	if (p->out >= 0) {
		close(p->out);
		p->out = -1;
	}
	unwatch(p);
}

void
np_cleanup(node_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		node_proc *p = &procs[i];
		np_kill(p);
		for (size_t k = 0; k < p->nlines; k++) {
			free(p->line[k]);
		}
		free(p->line);
		free(p->ms);
		memset(p, 0, sizeof(*p));
	}
}
