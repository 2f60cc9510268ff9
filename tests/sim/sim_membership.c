// tests/sim/sim_membership.c: clusters of cst_membership machines in the
// simulated world (sim_membership.h), a fault schedule drawn from the
// seed, a supervisor that restarts downed nodes as a process manager
// restarts casty-node (which exits when it is downed), and the
// invariants.
#include "tests/sim/sim_membership.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <casty/cluster.h>

#include "cluster/membership.h"
#include "tests/sim/sim.h"

#define PORT        2552
#define SYSTEM      "sim"
#define MAX_SEEDS   3
#define MAX_FAULTS  256
#define CHECK_EVERY 100000 // us: the convergence check after the heal
// After the heal, restarts of downed nodes must be over within this (a
// node downed on a view from just before the heal is restarted by its
// supervisor); convergence is counted from the last of them.
#define QUIET_LIMIT_US 10000000

enum timer { T_GOSSIP, T_HEARTBEAT, T_CHECK };

// What one node has seen of one member incarnation: the furthest status.
typedef struct life {
	uint64_t uid;
	uint8_t  status;
} life;

typedef struct run run;

typedef struct proc {
	run            *run;
	int             node;
	uint64_t        incarnation;
	cst_membership *m;
	bool            changed; // since the last check
	bool            out_noted;
	life           *lives;
	size_t          nlives, lives_cap;
} proc;

// A network fault: which links are cut (cut[from][to]) or how lossy.
typedef struct net_fault {
	const char *name;
	double      loss;
	uint8_t     cut[SIM_MAX_NODES][SIM_MAX_NODES];
} net_fault;

struct run {
	const sim_membership_options *o;
	sim_membership_result        *r;
	sim_world                    *w;
	int                           n;
	casty_node_address            seeds[MAX_SEEDS];
	size_t                        nseeds;
	casty_cluster_options         timing;
	casty_downing_config          downing;
	sim_net                       base_net;
	uint64_t                      heal_us, end_us, bound_us;
	bool                          healed, failed;
	uint64_t                      last_boot_us;
	uint64_t                      holds_since_us; // UINT64_MAX: not now
	net_fault                    *faults[MAX_FAULTS];
	int                           nfaults;
	uint64_t                      exit_incarnation[SIM_MAX_NODES];
};

/*
 * Reporting.
 */

static void
trace(run *r, int node, const char *fmt, ...)
{
	if (r->o->trace == NULL) {
		return;
	}
	uint64_t us = sim_now_us(r->w);
	if (node >= 0) {
		fprintf(r->o->trace, "%4llu.%06llu n%03d ",
		    (unsigned long long)(us / 1000000),
		    (unsigned long long)(us % 1000000), node);
	} else {
		fprintf(r->o->trace, "%4llu.%06llu ---- ",
		    (unsigned long long)(us / 1000000),
		    (unsigned long long)(us % 1000000));
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->o->trace, fmt, ap);
	va_end(ap);
	fputc('\n', r->o->trace);
}

static void
fail(run *r, const char *fmt, ...)
{
	if (r->failed) {
		return;
	}
	r->failed          = true;
	r->r->failed_at_ms = sim_now_ms(r->w);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->r->failure, sizeof r->r->failure, fmt, ap);
	va_end(ap);
	trace(r, -1, "FAILED: %s", r->r->failure);
}

/*
 * Nodes and their addresses: node i is SYSTEM@nIII:PORT, its uid the
 * incarnation.
 */

static void
host_of(int node, char host[8])
{
	snprintf(host, 8, "n%03d", node);
}

static int
node_of(const run *r, const char *host, uint16_t port)
{
	if (port != PORT || host[0] != 'n' || strlen(host) != 4) {
		return -1;
	}
	int node = atoi(host + 1);
	return node < r->n ? node : -1;
}

static proc *
proc_of(const run *r, int node)
{
	return sim_process(r->w, node);
}

// The index of node's current incarnation in t, or -1.
static int
find_node(const run *r, const cst_member_table *t, int node)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const cst_address *a = &t->member[i].address;
		if (node_of(r, a->host, a->port) == node &&
		    a->uid == sim_incarnation(r->w, node)) {
			return (int)i;
		}
	}
	return -1;
}

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

/*
 * The machines' outputs.
 */

static void
io_send(void *arg, const char *host, uint16_t port, uint8_t kind,
    const void *body, size_t len)
{
	proc *p  = arg;
	int   to = node_of(p->run, host, port);
	if (to < 0) {
		fail(p->run, "n%03d sent to %s:%u, which is no node", p->node,
		    host, port);
		return;
	}
	sim_send(p->run->w, p->node, to, kind, body, len);
}

static void
io_changed(void *arg, const cst_member_table *t, int leader)
{
	(void)t;
	(void)leader;
	((proc *)arg)->changed = true;
}

static void
io_event(void *arg, const cst_membership_event *e)
{
	proc *p = arg;
	run  *r = p->run;
	if (r->o->trace == NULL) {
		return;
	}
	char who[CST_ADDRESS_TEXT_MAX] = "none";
	if (e->member.address.port != 0) {
		snprintf(who, sizeof who, "%s#%04llx", e->member.address.host,
		    (unsigned long long)(e->member.address.uid & 0xffff));
	}
	trace(r, p->node, "%s %s", cst_member_event_name(e->kind), who);
}

static void
io_log(void *arg, casty_log_level level, const char *text)
{
	(void)level;
	proc *p = arg;
	run  *r = p->run;
	if (strstr(text, "split-brain resolver") != NULL) {
		for (int d = 0; d < 5; d++) {
			char name[48];
			snprintf(name, sizeof name, ": %s:",
			    cst_downing_decision_name((cst_downing_decision)d));
			if (strstr(text, name) != NULL) {
				r->r->decisions[d]++;
			}
		}
	}
	trace(r, p->node, "log: %s", text);
}

/*
 * Invariants, after every call into a machine whose view changed.
 */

static void exit_node(sim_world *w, void *arg, uint64_t node);

static void
check_lives(proc *p, const cst_member_table *t)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const cst_member *mb = &t->member[i];
		life             *l  = NULL;
		for (size_t k = 0; k < p->nlives; k++) {
			if (p->lives[k].uid == mb->address.uid) {
				l = &p->lives[k];
				break;
			}
		}
		if (l == NULL) {
			if (p->nlives == p->lives_cap) {
				p->lives_cap = p->lives_cap ? 2 * p->lives_cap : 16;
				p->lives     = realloc(p->lives,
				        p->lives_cap * sizeof(life));
				if (p->lives == NULL) {
					abort();
				}
			}
			l  = &p->lives[p->nlives++];
			*l = (life){mb->address.uid, (uint8_t)mb->status};
		} else if (mb->status < l->status) {
			fail(p->run, "n%03d sees %s#%04llx %s after %s", p->node,
			    mb->address.host,
			    (unsigned long long)(mb->address.uid & 0xffff),
			    cst_member_status_name(mb->status),
			    cst_member_status_name(l->status));
		} else {
			l->status = (uint8_t)mb->status;
		}
	}
}

static void
check_split_brain(proc *p, const cst_member_table *t)
{
	run *r = p->run;
	if (cst_membership_is_out(p->m)) {
		return;
	}
	for (int b = 0; b < r->n; b++) {
		proc *q = proc_of(r, b);
		if (b == p->node || q == NULL || q->m == NULL ||
		    cst_membership_is_out(q->m)) {
			continue;
		}
		int qi = find_node(r, t, b);
		if (qi < 0 || !is_gone(t->member[qi].status)) {
			continue;
		}
		const cst_member_table *u  = cst_membership_table(q->m);
		int                     pi = find_node(r, u, p->node);
		if (pi >= 0 && is_gone(u->member[pi].status)) {
			fail(r, "split brain: n%03d and n%03d each have the other "
			        "down while both are still in the cluster",
			    p->node, b);
		}
	}
}

static void
check(proc *p)
{
	run                    *r = p->run;
	const cst_member_table *t = cst_membership_table(p->m);
	if (p->changed) {
		p->changed = false;
		for (uint32_t k = 0; k < t->nreach; k++) {
			if (t->reach[k].observer == t->reach[k].subject) {
				fail(r, "n%03d holds a row of %s unreachable to "
				        "itself",
				    p->node,
				    t->member[t->reach[k].observer].address.host);
			}
		}
		int me = find_node(r, t, p->node);
		if (me >= 0 &&
		    cst_member_table_unreachable_for(t, me, (uint32_t)me)) {
			fail(r, "n%03d finds itself unreachable", p->node);
		}
		check_lives(p, t);
		check_split_brain(p, t);
	}
	if (!p->out_noted && cst_membership_is_out(p->m)) {
		// casty-node exits when it is downed; its supervisor restarts
		// it, a moment later, as a new incarnation.
		p->out_noted = true;
		r->r->self_downed++;
		r->exit_incarnation[p->node] = p->incarnation;
		trace(r, p->node, "out: exits");
		sim_at(r->w, sim_now_us(r->w) + sim_below(r->w, 200000), exit_node,
		    r, (uint64_t)p->node);
	}
}

/*
 * The process.
 */

static void *
proc_boot(sim_world *w, int node, uint64_t incarnation, void *arg)
{
	run  *r = arg;
	proc *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		abort();
	}
	p->run         = r;
	p->node        = node;
	p->incarnation = incarnation;
	char host[8];
	host_of(node, host);
	cst_membership_config cfg = {
		.seeds            = r->seeds,
		.nseeds           = r->nseeds,
		.fanout           = r->timing.gossip.fanout,
		.failure_detector = r->timing.failure_detector,
		.downing          = r->downing,
	};
	const char *why = NULL;
	if (cst_address_init(&cfg.self, SYSTEM, host, PORT, incarnation, &why) !=
	    0) {
		fail(r, "n%03d: bad address: %s", node, why);
		return p;
	}
	cst_membership_io io = {
		.send    = io_send,
		.changed = io_changed,
		.event   = io_event,
		.log     = io_log,
		.arg     = p,
	};
	int rc = cst_membership_new(&cfg, &io, &p->m);
	if (rc != 0) {
		fail(r, "n%03d: cst_membership_new: %d", node, rc);
		return p;
	}
	r->last_boot_us = sim_now_us(w);
	trace(r, node, "boot #%04llx", (unsigned long long)(incarnation & 0xffff));
	sim_timer_every(w, node, T_GOSSIP,
	    (uint64_t)(r->timing.gossip.interval * 1e6));
	sim_timer_every(w, node, T_HEARTBEAT,
	    (uint64_t)(r->timing.heartbeat.interval * 1e6));
	sim_timer_every(w, node, T_CHECK,
	    (uint64_t)(r->timing.heartbeat.availability_check_interval * 1e6));
	cst_membership_start(p->m, sim_now_ms(w));
	check(p);
	return p;
}

static void
proc_frame(void *arg, int from, uint64_t from_incarnation, uint8_t kind,
    const uint8_t *body, size_t len)
{
	proc *p = arg;
	if (p->m == NULL) {
		return;
	}
	const char *detail = NULL;
	const char *bad    = cst_membership_check_frame(kind, body, len, &detail);
	if (bad != NULL) {
		fail(p->run, "n%03d got a frame of kind %u from n%03d: %s (%s)",
		    p->node, kind, from, bad, detail != NULL ? detail : "?");
		return;
	}
	char host[8];
	host_of(from, host);
	cst_membership_frame(p->m, sim_now_ms(p->run->w), host, PORT,
	    from_incarnation, kind, body, len);
	check(p);
}

static void
proc_timer(void *arg, int timer)
{
	proc *p = arg;
	if (p->m == NULL) {
		return;
	}
	static const cst_membership_timer which[] = {
		[T_GOSSIP]    = CST_MEMBERSHIP_GOSSIP,
		[T_HEARTBEAT] = CST_MEMBERSHIP_HEARTBEAT,
		[T_CHECK]     = CST_MEMBERSHIP_CHECK,
	};
	cst_membership_timer_fired(p->m, which[timer], sim_now_ms(p->run->w));
	check(p);
}

static void
proc_crash(void *arg)
{
	proc *p = arg;
	trace(p->run, p->node, "crash");
	cst_membership_free(p->m);
	free(p->lives);
	free(p);
}

static const sim_process_ops proc_ops = {
	.boot  = proc_boot,
	.frame = proc_frame,
	.timer = proc_timer,
	.crash = proc_crash,
};

/*
 * Faults and the supervisor: actions the world runs at their times.
 */

static void
boot_node(sim_world *w, void *arg, uint64_t node)
{
	(void)arg;
	sim_boot(w, (int)node);
}

static void
exit_node(sim_world *w, void *arg, uint64_t node)
{
	run *r = arg;
	int  i = (int)node;
	if (!sim_alive(w, i) || sim_incarnation(w, i) != r->exit_incarnation[i]) {
		return;
	}
	sim_crash(w, i);
	r->r->restarts++;
	sim_at(w, sim_now_us(w) + 500000 + sim_below(w, 2500000), boot_node, r,
	    node);
}

static void
crash_node(sim_world *w, void *arg, uint64_t value)
{
	run *r = arg;
	int  i = (int)(value & 0xff);
	if (r->healed || !sim_alive(w, i)) {
		return;
	}
	r->r->crashes++;
	sim_crash(w, i);
	uint64_t down_us = value >> 8; // 0: down until the heal
	if (down_us != 0) {
		r->r->restarts++;
		sim_at(w, sim_now_us(w) + down_us, boot_node, r, (uint64_t)i);
	}
}

static void
pause_node(sim_world *w, void *arg, uint64_t node)
{
	run *r = arg;
	if (r->healed || !sim_alive(w, (int)node) || sim_paused(w, (int)node)) {
		return;
	}
	r->r->pauses++;
	trace(r, (int)node, "pause");
	sim_pause(w, (int)node);
}

static void
resume_node(sim_world *w, void *arg, uint64_t node)
{
	run *r = arg;
	if (sim_paused(w, (int)node)) {
		trace(r, (int)node, "resume");
	}
	sim_resume(w, (int)node);
}

static void
apply_net_fault(sim_world *w, void *arg, uint64_t index)
{
	run       *r = arg;
	net_fault *f = r->faults[index];
	if (r->healed) {
		return;
	}
	if (f->loss > 0) {
		sim_net net = r->base_net;
		net.loss    = f->loss;
		sim_set_net(w, &net);
	}
	for (int a = 0; a < r->n; a++) {
		for (int b = 0; b < r->n; b++) {
			sim_cut(w, a, b, f->cut[a][b]);
		}
	}
	r->r->partitions += f->loss == 0;
	trace(r, -1, "fault: %s", f->name);
}

static void
end_net_fault(sim_world *w, void *arg, uint64_t index)
{
	run *r = arg;
	if (r->healed) {
		return;
	}
	sim_heal(w);
	sim_set_net(w, &r->base_net);
	trace(r, -1, "fault over: %s", r->faults[index]->name);
}

/*
 * Convergence after the heal: every node is up in one view that every
 * node holds, with nobody unreachable and the same leader.
 */

static bool
converged(run *r, char *why, size_t cap)
{
	const cst_address *leader = NULL;
	for (int i = 0; i < r->n; i++) {
		proc *p = proc_of(r, i);
		if (p == NULL || p->m == NULL || sim_paused(r->w, i)) {
			snprintf(why, cap, "n%03d is not running", i);
			return false;
		}
		if (!cst_membership_joined(p->m) || cst_membership_is_out(p->m)) {
			snprintf(why, cap, "n%03d is %s", i,
			    cst_membership_joined(p->m) ? "out" : "not a member");
			return false;
		}
		const cst_member_table *t  = cst_membership_table(p->m);
		int                     in = 0;
		for (uint32_t k = 0; k < t->nmembers; k++) {
			const cst_member *mb = &t->member[k];
			if (mb->status == CST_MEMBER_REMOVED) {
				continue;
			}
			int j = node_of(r, mb->address.host, mb->address.port);
			if (j < 0 || mb->address.uid != sim_incarnation(r->w, j)) {
				snprintf(why, cap, "n%03d still has %s#%04llx %s", i,
				    mb->address.host,
				    (unsigned long long)(mb->address.uid & 0xffff),
				    cst_member_status_name(mb->status));
				return false;
			}
			if (mb->status != CST_MEMBER_UP ||
			    cst_member_table_is_unreachable(t, k)) {
				snprintf(why, cap, "n%03d sees %s %s%s", i,
				    mb->address.host,
				    cst_member_status_name(mb->status),
				    cst_member_table_is_unreachable(t, k)
				        ? " and unreachable"
				        : "");
				return false;
			}
			in++;
		}
		if (in != r->n) {
			snprintf(why, cap, "n%03d has %d of the %d nodes", i, in,
			    r->n);
			return false;
		}
		int l = cst_membership_leader(p->m);
		if (l < 0) {
			snprintf(why, cap, "n%03d has no leader", i);
			return false;
		}
		if (leader == NULL) {
			leader = &t->member[l].address;
		} else if (!cst_address_equal(leader, &t->member[l].address)) {
			snprintf(why, cap, "n%03d has %.16s for leader, n000 %.16s", i,
			    t->member[l].address.host, leader->host);
			return false;
		}
	}
	return true;
}

static void
check_convergence(sim_world *w, void *arg, uint64_t value)
{
	(void)value;
	run  *r = arg;
	char  why[160];
	bool  holds = converged(r, why, sizeof why);
	if (holds && r->holds_since_us == UINT64_MAX) {
		r->holds_since_us = sim_now_us(w);
		trace(r, -1, "converged");
	} else if (!holds && r->holds_since_us != UINT64_MAX) {
		r->holds_since_us = UINT64_MAX;
		trace(r, -1, "no longer converged: %s", why);
	} else if (!holds && sim_now_us(w) % 1000000 < CHECK_EVERY) {
		trace(r, -1, "not converged: %s", why); // once a second
	}
	if (sim_now_us(w) + CHECK_EVERY <= r->end_us) {
		sim_at(w, sim_now_us(w) + CHECK_EVERY, check_convergence, r, 0);
	}
}

static void
heal(sim_world *w, void *arg, uint64_t value)
{
	(void)value;
	run *r    = arg;
	r->healed = true;
	trace(r, -1, "heal");
	sim_heal(w);
	sim_net net = r->base_net;
	net.loss    = 0;
	sim_set_net(w, &net);
	for (int i = 0; i < r->n; i++) {
		resume_node(w, r, (uint64_t)i);
		sim_boot(w, i);
	}
	check_convergence(w, r, 0);
}

/*
 * The schedule, drawn from the seed.
 */

static void
shuffle(sim_world *w, int *order, int n)
{
	for (int i = 0; i < n; i++) {
		order[i] = i;
	}
	for (int i = n - 1; i > 0; i--) {
		int j    = (int)sim_below(w, (uint64_t)i + 1);
		int t    = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static void
cut_between(net_fault *f, const int *side, int n, int a, int b)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			if (side[i] == a && side[j] == b) {
				f->cut[i][j] = f->cut[j][i] = 1;
			}
		}
	}
}

// One network fault of a kind drawn from the seed.
static net_fault *
draw_net_fault(run *r)
{
	sim_world *w = r->w;
	int        n = r->n;
	net_fault *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		abort();
	}
	int order[SIM_MAX_NODES], side[SIM_MAX_NODES];
	shuffle(w, order, n);
	switch (sim_below(w, 7)) {
	case 0: { // two sides, of any sizes
		int k = 1 + (int)sim_below(w, (uint64_t)n - 1);
		for (int i = 0; i < n; i++) {
			side[order[i]] = i < k;
		}
		cut_between(f, side, n, 0, 1);
		f->name = "partition in two";
		break;
	}
	case 1: // one node alone
		for (int i = 0; i < n; i++) {
			side[order[i]] = i == 0;
		}
		cut_between(f, side, n, 0, 1);
		f->name = "one node isolated";
		break;
	case 2: { // majorities ring: each hears a majority, no two the same
		int reach = ((n + 1) / 2) / 2;
		for (int i = 0; i < n; i++) {
			for (int j = 0; j < n; j++) {
				int d = abs(i - j);
				d     = d < n - d ? d : n - d;
				f->cut[order[i]][order[j]] = d > reach;
			}
		}
		f->name = "majorities ring";
		break;
	}
	case 3: { // a bridge: two sides that only one node hears both of
		if (n < 3) {
			f->loss = 0.2;
			f->name = "loss";
			break;
		}
		int k = 1 + (int)sim_below(w, (uint64_t)n - 2);
		for (int i = 0; i < n; i++) {
			side[order[i]] = i == n - 1 ? 2 : i < k;
		}
		cut_between(f, side, n, 0, 1);
		f->name = "bridge";
		break;
	}
	case 4: { // one way: a node is heard by nobody, or hears nobody
		bool out = sim_chance(w, 0.5);
		for (int j = 0; j < n; j++) {
			if (j != order[0]) {
				f->cut[out ? order[0] : j][out ? j : order[0]] = 1;
			}
		}
		f->name = out ? "one way: a node unheard" : "one way: a deaf node";
		break;
	}
	case 5: // links cut one way at random
		for (int i = 0; i < n; i++) {
			for (int j = 0; j < n; j++) {
				f->cut[i][j] = i != j && sim_chance(w, 0.25);
			}
		}
		f->name = "random one-way links";
		break;
	default:
		f->loss = 0.05 + 0.35 * (double)sim_below(w, 1000) / 1000.0;
		f->name = "loss";
		break;
	}
	return f;
}

static void
schedule_faults(run *r)
{
	sim_world *w     = r->w;
	uint64_t   start = 500000 + sim_below(w, 8000000);
	// The network's track: one fault at a time.
	for (uint64_t t = start; t + 1000000 < r->heal_us && r->nfaults < MAX_FAULTS;) {
		uint64_t len = 1000000 + sim_below(w, 14000000);
		uint64_t end = t + len < r->heal_us ? t + len : r->heal_us;
		int      k   = r->nfaults++;
		r->faults[k] = draw_net_fault(r);
		sim_at(w, t, apply_net_fault, r, (uint64_t)k);
		sim_at(w, end, end_net_fault, r, (uint64_t)k);
		t = end + sim_below(w, 4000000);
	}
	// The processes' track: crashes and pauses, one at a time.
	for (uint64_t t = start + sim_below(w, 5000000); t + 500000 < r->heal_us;) {
		uint64_t node = sim_below(w, (uint64_t)r->n);
		uint64_t len  = 0;
		if (sim_chance(w, 0.5)) {
			len = 200000 + sim_below(w, 9800000);
			uint64_t down = sim_chance(w, 0.3) ? 0 : len;
			sim_at(w, t, crash_node, r, node | down << 8);
		} else {
			len = sim_chance(w, 0.5) ? 200000 + sim_below(w, 1800000)
			                         : 2000000 + sim_below(w, 28000000);
			sim_at(w, t, pause_node, r, node);
			sim_at(w, t + len, resume_node, r, node);
		}
		t += len + 1000000 + sim_below(w, 9000000);
	}
}

static void
draw_downing(run *r)
{
	sim_world *w = r->w;
	if (r->o->fixed_strategy) {
		r->downing = r->o->downing;
		if (r->downing.quorum_size == 0) { // a majority of the cluster
			r->downing.quorum_size = (uint32_t)r->n / 2 + 1;
		}
		return;
	}
	casty_downing_config d = r->timing.downing;
	uint64_t             k = sim_below(w, 100);
	d.strategy             = k < 20   ? CASTY_DOWNING_OFF
	                         : k < 55 ? CASTY_DOWNING_KEEP_MAJORITY
	                         : k < 65 ? CASTY_DOWNING_STATIC_QUORUM
	                         : k < 80 ? CASTY_DOWNING_KEEP_OLDEST
	                                  : CASTY_DOWNING_DOWN_ALL;
	d.quorum_size            = (uint32_t)r->n / 2 + 1;
	d.down_if_alone          = sim_chance(w, 0.5);
	d.down_all_when_unstable = sim_chance(w, 0.7);
	// Akka's default for the size, or one drawn from 5 to 10 s. Below
	// the time it takes to notice a partition (about 3.5 s with the
	// default detector) plus a gossip round, a side can act on a view
	// the other side has not seen yet: seeds drew 2 s and split.
	d.stable_after =
	    sim_chance(w, 0.5) ? 0 : (5000 + (double)sim_below(w, 5000)) / 1000;
	r->downing = d;
}

bool
sim_membership_run(const sim_membership_options *o, sim_membership_result *res)
{
	memset(res, 0, sizeof(*res));
	res->converged_ms = UINT64_MAX;
	run *r            = calloc(1, sizeof(*r));
	if (r == NULL) {
		abort();
	}
	r->o = o;
	r->r = res;
	casty_cluster_options_init(&r->timing);

	// The cluster's shape comes first from the seed, then the world.
	uint64_t rng   = o->seed;
	int      lo    = o->min_nodes > 0 ? o->min_nodes : 3;
	int      hi    = o->max_nodes > 0 ? o->max_nodes : 9;
	uint64_t shape = rng * 0x9e3779b97f4a7c15ull ^ 0x5eed;
	shape ^= shape >> 29;
	r->n = lo + (int)(shape % (uint64_t)(hi - lo + 1));
	r->w = sim_new(o->seed, r->n, &proc_ops, r);
	res->nodes = r->n;
	r->nseeds  = (size_t)(r->n < MAX_SEEDS ? r->n : MAX_SEEDS);
	for (size_t i = 0; i < r->nseeds; i++) {
		host_of((int)i, r->seeds[i].host);
		r->seeds[i].port = PORT;
	}
	r->end_us   = (o->duration_ms ? o->duration_ms : 60000) * 1000;
	r->heal_us  = (o->heal_at_ms ? o->heal_at_ms : 35000) * 1000;
	r->bound_us = (o->converge_bound_ms ? o->converge_bound_ms : 10000) * 1000;
	r->holds_since_us = UINT64_MAX;
	if (o->no_faults) {
		r->heal_us = 0;
	}
	draw_downing(r);
	r->base_net = (sim_net){
		.loss          = sim_chance(r->w, 0.3) ? 0.01 : 0,
		.duplicate     = sim_chance(r->w, 0.3) ? 0.02 : 0,
		.delay_min_us  = 100,
		.delay_mean_us = 200 + sim_below(r->w, 2000),
	};
	if (o->no_faults) {
		r->base_net.loss = 0;
	}
	sim_set_net(r->w, &r->base_net);
	snprintf(res->setup, sizeof res->setup,
	    "seed=%llu nodes=%d downing=%s stable-after=%.1fs quorum=%u "
	    "down-if-alone=%s down-all-when-unstable=%s loss=%.2f dup=%.2f "
	    "delay-mean=%lluus",
	    (unsigned long long)o->seed, r->n,
	    casty_downing_strategy_name(r->downing.strategy),
	    r->downing.stable_after, r->downing.quorum_size,
	    r->downing.down_if_alone ? "on" : "off",
	    r->downing.down_all_when_unstable ? "on" : "off", r->base_net.loss,
	    r->base_net.duplicate, (unsigned long long)r->base_net.delay_mean_us);
	trace(r, -1, "%s", res->setup);

	// Every node starts within the first second, in any order.
	for (int i = 0; i < r->n; i++) {
		sim_at(r->w, sim_below(r->w, 1000000), boot_node, r, (uint64_t)i);
	}
	if (!o->no_faults) {
		schedule_faults(r);
	}
	sim_at(r->w, r->heal_us, heal, r, 0);
	while (!r->failed && sim_step(r->w, r->end_us) != -2) {
	}

	if (!r->failed) {
		char     why[160];
		uint64_t quiet =
		    r->last_boot_us > r->heal_us ? r->last_boot_us : r->heal_us;
		if (quiet > r->heal_us + QUIET_LIMIT_US) {
			fail(r, "nodes were still being restarted %llu ms after the "
			        "heal",
			    (unsigned long long)((quiet - r->heal_us) / 1000));
		} else if (!converged(r, why, sizeof why)) {
			fail(r, "not converged %llu ms after the heal: %s",
			    (unsigned long long)((r->end_us - r->heal_us) / 1000),
			    why);
		} else if (r->holds_since_us > quiet + r->bound_us) {
			fail(r, "converged only %llu ms after the heal (%llu ms "
			        "after the last restart)",
			    (unsigned long long)((r->holds_since_us - r->heal_us) /
			                         1000),
			    (unsigned long long)((r->holds_since_us - quiet) / 1000));
		}
	}
	if (r->holds_since_us != UINT64_MAX) {
		res->converged_ms = (r->holds_since_us - r->heal_us) / 1000;
	}
	res->ok         = !r->failed;
	res->trace_hash = sim_trace_hash(r->w);
	res->events     = sim_events_run(r->w);
	sim_free(r->w);
	for (int k = 0; k < r->nfaults; k++) {
		free(r->faults[k]);
	}
	free(r);
	return res->ok;
}
