// tests/chaos/chaos.c: see chaos.h.
#include "tests/chaos/chaos.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBNET "10.201.0."
#define SECRET "the fault-injection suite's secret"

int64_t
chaos_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned
chaos_all(const chaos *c)
{
	return (1u << c->n) - 1;
}

static int
nft(chaos *c, int i, bool quiet, const char *const *words)
{
	const char *argv[32] = {"ip", "netns", "exec", c->net.node[i], "nft"};
	int         n        = 5;
	for (; words[n - 5] != NULL && n < 31; n++) {
		argv[n] = words[n - 5];
	}
	argv[n] = NULL;
	return netns_run(quiet, argv);
}

void
chaos_open(chaos *c, const char *scenario, int n, const char *downing)
{
	memset(c, 0, sizeof(*c));
	cr_assert(n >= 1 && n <= CHAOS_NODES);
	c->scenario = scenario;
	c->n        = n;
	c->downing  = downing;
	const char *why = netns_make(&c->net, n, SUBNET, "c");
	if (why != NULL) {
		c->n = 0; // nothing to close
		cr_skip("%s", why);
	}
	for (int i = 0; i < n; i++) {
		netns_address(&c->net, i, c->ip[i], sizeof c->ip[i]);
		static const char *const table[] = {
		    "add", "table", "inet", "chaos", NULL};
		static const char *const chain[] = {"add", "chain", "inet",
		    "chaos", "input",
		    "{ type filter hook input priority 0; policy accept; }", NULL};
		if (nft(c, i, true, table) != 0 || nft(c, i, true, chain) != 0) {
			netns_destroy(&c->net);
			c->n = 0;
			cr_skip("nftables does not work here (install nftables: "
			        "tools/setup.sh does)");
		}
	}
}

chaos_run *
chaos_current(chaos *c, int i)
{
	cr_assert(c->nruns[i] > 0, "node %d never started", i);
	return &c->run[i][c->nruns[i] - 1];
}

void
chaos_start(chaos *c, int i)
{
	cr_assert(lt(int, c->nruns[i], CHAOS_RUNS));
	chaos_run *r = &c->run[i][c->nruns[i]++];
	memset(r, 0, sizeof(*r));
	char  seeds[3][32];
	char *argv[48] = {"ip", "netns", "exec", c->net.node[i],
	    (char *)np_node_binary(), "--name", "chaos", "--host", c->ip[i],
	    "--port", "2552", "--secret", SECRET, "--downing",
	    (char *)c->downing, "--stamp", "--log", "warn"};
	size_t n = 0;
	while (argv[n] != NULL) {
		n++;
	}
	for (int s = 0; s < 3 && s < c->n; s++) {
		snprintf(seeds[s], sizeof seeds[s], "%s:%d", c->ip[s], CHAOS_PORT);
		argv[n++] = "--seed";
		argv[n++] = seeds[s];
	}
	char pause[16];
	if (c->pause_ms > 0) {
		snprintf(pause, sizeof pause, "%d", c->pause_ms);
		argv[n++] = "--pause-ms";
		argv[n++] = pause;
	}
	argv[n] = NULL;
	np_start_as(&r->proc, argv, true, true);
}

void
chaos_wait_member(chaos *c, int i)
{
	chaos_run *r  = chaos_current(c, i);
	long       at = np_wait_substring_from(
	          &r->proc, 0, "INCARNATION ", CHAOS_WAIT_MS);
	cr_assert(ge(long, at, 0), "node %d (run %d) never became a member", i,
	    c->nruns[i]);
	cr_assert(sscanf(r->proc.line[at], "INCARNATION %" SCNu64,
	              &r->incarnation) == 1);
}

void
chaos_start_all(chaos *c)
{
	for (int i = 0; i < c->n; i++) {
		chaos_start(c, i);
	}
	for (int i = 0; i < c->n; i++) {
		chaos_wait_member(c, i);
	}
}

void
chaos_kill(chaos *c, int i)
{
	chaos_run *r = chaos_current(c, i);
	np_kill(&r->proc);
	r->ended_by_harness = true;
	c->stopped[i]       = false;
}

void
chaos_stop(chaos *c, int i)
{
	cr_assert(eq(int, kill(chaos_current(c, i)->proc.pid, SIGSTOP), 0));
	c->stopped[i] = true;
}

void
chaos_cont(chaos *c, int i)
{
	cr_assert(eq(int, kill(chaos_current(c, i)->proc.pid, SIGCONT), 0));
	c->stopped[i] = false;
}

void
chaos_quit(chaos *c, int i)
{
	chaos_run *r = chaos_current(c, i);
	r->ended_by_harness = true;
	np_send(&r->proc, "quit");
	cr_assert(eq(int, np_wait_exit(&r->proc), 0), "node %d", i);
}

int64_t
chaos_wait_downed(chaos *c, int i)
{
	chaos_run *r  = chaos_current(c, i);
	long       at = np_wait_substring_from(&r->proc, 0, "DOWNED", CHAOS_WAIT_MS);
	cr_assert(ge(long, at, 0), "node %d was never downed", i);
	cr_assert(eq(int, np_wait_exit(&r->proc), 3), "node %d", i);
	return r->proc.ms[at];
}

void
chaos_leader(chaos *c, int i, char *buf, size_t size)
{
	chaos_run *r    = chaos_current(c, i);
	size_t     from = r->proc.nlines;
	np_send(&r->proc, "leader");
	long at = np_wait_prefix(&r->proc, from, "LEADER ");
	cr_assert(ge(long, at, 0), "node %d did not name a leader", i);
	const char *l = r->proc.line[at] + strlen("LEADER ");
	size_t      k = 0;
	while (l[k] != '\0' && l[k] != ':' && l[k] != ' ' && k + 1 < size) {
		buf[k] = l[k];
		k++;
	}
	buf[k] = '\0';
}

/*
 * Faults.
 */

static void
rule(chaos *c, int i, const char *const *match)
{
	const char *words[24] = {"add", "rule", "inet", "chaos", "input"};
	int         n         = 5;
	for (int k = 0; match[k] != NULL && n < 22; k++) {
		words[n++] = match[k];
	}
	words[n++] = "drop";
	words[n]   = NULL;
	cr_assert(eq(int, nft(c, i, false, words), 0), "nft on node %d", i);
}

void
chaos_cut(chaos *c, int from, int to)
{
	const char *match[] = {"ip", "saddr", c->ip[from], NULL};
	rule(c, to, match);
}

void
chaos_split(chaos *c, unsigned a, unsigned b)
{
	for (int i = 0; i < c->n; i++) {
		for (int j = 0; j < c->n; j++) {
			if (((a >> i) & 1) && ((b >> j) & 1)) {
				chaos_cut(c, i, j);
				chaos_cut(c, j, i);
			}
		}
	}
}

void
chaos_loss(chaos *c, int i, int percent)
{
	char pct[8];
	snprintf(pct, sizeof pct, "%d", percent);
	const char *match[] = {"numgen", "random", "mod", "100", "<", pct, NULL};
	rule(c, i, match);
}

void
chaos_cap(chaos *c, int i, int kbytes)
{
	char rate[16];
	snprintf(rate, sizeof rate, "%d", kbytes);
	const char *match[] = {
	    "limit", "rate", "over", rate, "kbytes/second", NULL};
	rule(c, i, match);
}

void
chaos_heal(chaos *c)
{
	static const char *const flush[] = {
	    "flush", "chain", "inet", "chaos", "input", NULL};
	for (int i = 0; i < c->n; i++) {
		cr_assert(eq(int, nft(c, i, false, flush), 0));
	}
}

/*
 * Events.
 */

// Whether line is "EVENT <kind> <ip>:<port> inc=<inc> ..." (any inc
// when inc is 0).
static bool
is_event(const char *line, const char *kind, const char *ip, uint64_t inc)
{
	char want[128];
	int  n = snprintf(want, sizeof want, "EVENT %s %s:%d inc=", kind, ip,
	     CHAOS_PORT);
	if (strncmp(line, want, (size_t)n) != 0) {
		return false;
	}
	return inc == 0 || strtoull(line + n, NULL, 10) == inc;
}

static int64_t
find_event(const chaos_run *r, const char *kind, const char *ip, uint64_t inc,
    int64_t since)
{
	for (size_t k = 0; k < r->proc.nlines; k++) {
		if (r->proc.ms[k] >= since &&
		    is_event(r->proc.line[k], kind, ip, inc)) {
			return r->proc.ms[k];
		}
	}
	return -1;
}

int64_t
chaos_wait_event(
    chaos *c, int i, const char *kind, int j, uint64_t inc, int64_t since)
{
	chaos_run *r        = chaos_current(c, i);
	int64_t    deadline = chaos_now() + CHAOS_WAIT_MS;
	for (;;) {
		int64_t at = find_event(r, kind, c->ip[j], inc, since);
		if (at >= 0 || r->proc.out < 0 || chaos_now() >= deadline) {
			return at;
		}
		np_pump(deadline - chaos_now());
	}
}

bool
chaos_saw_event(const chaos *c, int i, const char *kind, int j, uint64_t inc,
    int64_t since)
{
	for (int k = 0; k < c->nruns[i]; k++) {
		if (find_event(&c->run[i][k], kind, c->ip[j], inc, since) >= 0) {
			return true;
		}
	}
	return false;
}

bool
chaos_converged_now(chaos *c, unsigned mask, char *why, size_t size)
{
	char first_leader[32] = "";
	int  want             = __builtin_popcount(mask);
	for (int i = 0; i < c->n; i++) {
		if (!((mask >> i) & 1)) {
			continue;
		}
		chaos_run *r = chaos_current(c, i);
		if (r->incarnation == 0 || r->proc.out < 0) {
			snprintf(why, size, "node %d is not running as a member", i);
			return false;
		}
		np_member m[CHAOS_NODES * CHAOS_RUNS];
		size_t    got = np_members(&r->proc, m, CHAOS_NODES * CHAOS_RUNS);
		if ((int)got != want) {
			snprintf(why, size, "node %d has %zu members, not %d", i, got,
			    want);
			return false;
		}
		for (size_t k = 0; k < got; k++) {
			int j = -1;
			for (int x = 0; x < c->n; x++) {
				if (strcmp(m[k].host, c->ip[x]) == 0) {
					j = x;
				}
			}
			if (j < 0 || !((mask >> j) & 1) ||
			    m[k].incarnation != chaos_current(c, j)->incarnation ||
			    strcmp(m[k].status, "up") != 0 || !m[k].reachable) {
				snprintf(why, size, "node %d sees %s %s %s", i,
				    m[k].host, m[k].status,
				    m[k].reachable ? "reachable" : "unreachable");
				return false;
			}
		}
		char leader[32];
		chaos_leader(c, i, leader, sizeof leader);
		if (first_leader[0] == '\0') {
			snprintf(first_leader, sizeof first_leader, "%s", leader);
		} else if (strcmp(first_leader, leader) != 0) {
			snprintf(why, size, "node %d names %s leader, not %s", i,
			    leader, first_leader);
			return false;
		}
	}
	return true;
}

int64_t
chaos_recover(chaos *c)
{
	int64_t deadline = chaos_now() + CHAOS_WAIT_MS;
	char    why[160] = "";
	while (chaos_now() < deadline) {
		for (int i = 0; i < c->n; i++) {
			chaos_run *r = chaos_current(c, i);
			if (r->proc.out < 0) { // it ended: downed
				if (r->proc.pid != 0) {
					np_wait_exit(&r->proc);
				}
				chaos_start(c, i);
			}
			if (chaos_current(c, i)->incarnation == 0 &&
			    np_find_prefix(&chaos_current(c, i)->proc, 0,
			        "INCARNATION ") >= 0) {
				chaos_wait_member(c, i);
			}
		}
		if (chaos_converged_now(c, chaos_all(c), why, sizeof why)) {
			return chaos_now();
		}
		np_pump(250);
	}
	cr_log_error("%s: not converged: %s", c->scenario, why);
	return -1;
}

int64_t
chaos_wait_converged(chaos *c, unsigned mask)
{
	int64_t deadline = chaos_now() + CHAOS_WAIT_MS;
	char    why[160] = "";
	while (chaos_now() < deadline) {
		if (chaos_converged_now(c, mask, why, sizeof why)) {
			return chaos_now();
		}
		np_pump(250); // reads what comes meanwhile: no busy wait
	}
	cr_log_error("%s: not converged: %s", c->scenario, why);
	return -1;
}

/*
 * The history.
 */

static bool
printed(const chaos_run *r, const char *what)
{
	for (size_t k = 0; k < r->proc.nlines; k++) {
		if (strcmp(r->proc.line[k], what) == 0) {
			return true;
		}
	}
	return false;
}

void
chaos_check_no_split_brain(const chaos *c)
{
	for (int i = 0; i < c->n; i++) {
		for (int j = i + 1; j < c->n; j++) {
			for (int a = 0; a < c->nruns[i]; a++) {
				for (int b = 0; b < c->nruns[j]; b++) {
					const chaos_run *ra = &c->run[i][a];
					const chaos_run *rb = &c->run[j][b];
					if (ra->incarnation == 0 || rb->incarnation == 0 ||
					    ra->ended_by_harness || rb->ended_by_harness ||
					    printed(ra, "DOWNED") || printed(rb, "DOWNED")) {
						continue;
					}
					bool a_downed_b = find_event(ra, "downed", c->ip[j],
					                      rb->incarnation, 0) >= 0;
					bool b_downed_a = find_event(rb, "downed", c->ip[i],
					                      ra->incarnation, 0) >= 0;
					cr_expect(not(a_downed_b && b_downed_a),
					    "%s: split brain: node %d (run %d) and node %d "
					    "(run %d) each downed the other and both went on",
					    c->scenario, i, a + 1, j, b + 1);
				}
			}
		}
	}
}

void
chaos_figure(const chaos *c, const char *name, int64_t ms)
{
	printf("FIGURE %s %s %" PRId64 "\n", c->scenario, name, ms);
	fflush(stdout);
	const char *path = getenv("CASTY_CHAOS_FIGURES");
	FILE       *f    = path != NULL ? fopen(path, "a") : NULL;
	if (f != NULL) {
		fprintf(f, "%s %s %" PRId64 "\n", c->scenario, name, ms);
		fclose(f);
	}
}

typedef struct entry {
	int64_t     ms;
	int         node, run;
	const char *text;
} entry;

static int
by_time(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	return x->ms < y->ms ? -1 : x->ms > y->ms;
}

// Every line of every run, in time order, to <CASTY_CHAOS_LOGS or .>/
// chaos-<scenario>.log: what to read when a scenario fails.
static void
write_history(const chaos *c)
{
	size_t total = 0;
	for (int i = 0; i < c->n; i++) {
		for (int k = 0; k < c->nruns[i]; k++) {
			total += c->run[i][k].proc.nlines;
		}
	}
	entry *e = calloc(total + 1, sizeof(*e));
	if (e == NULL) {
		return;
	}
	size_t n = 0;
	for (int i = 0; i < c->n; i++) {
		for (int k = 0; k < c->nruns[i]; k++) {
			const node_proc *p = &c->run[i][k].proc;
			for (size_t l = 0; l < p->nlines; l++) {
				e[n++] = (entry){p->ms[l], i, k + 1, p->line[l]};
			}
		}
	}
	qsort(e, n, sizeof(*e), by_time);
	const char *dir = getenv("CASTY_CHAOS_LOGS");
	char        path[512];
	snprintf(path, sizeof path, "%s/chaos-%s.log", dir ? dir : ".",
	    c->scenario);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		for (size_t k = 0; k < n; k++) {
			fprintf(f, "%" PRId64 " n%d.%d %s\n", e[k].ms, e[k].node,
			    e[k].run, e[k].text);
		}
		fclose(f);
	}
	free(e);
}

void
chaos_close(chaos *c)
{
	if (c->n == 0) {
		return;
	}
	for (int i = 0; i < c->n; i++) {
		if (c->nruns[i] > 0 && c->stopped[i]) {
			chaos_cont(c, i); // so that the kill below is reaped
		}
		for (int k = 0; k < c->nruns[i]; k++) {
			np_kill(&c->run[i][k].proc);
		}
	}
	write_history(c);
	for (int i = 0; i < c->n; i++) {
		for (int k = 0; k < c->nruns[i]; k++) {
			np_cleanup(&c->run[i][k].proc, 1);
		}
	}
	netns_destroy(&c->net);
	c->n = 0;
}
