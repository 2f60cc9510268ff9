// tests/cluster/test_membership_sim.c: a small cluster simulated in
// memory on a fake clock. Each node has a member table and a phi
// registry; heartbeats, gossip (push-pull, through the wire codec) and
// leader actions are function calls driven by one loop, so every run is
// the same run. Scenarios: formation converges with everyone up; a node
// that stops is found unreachable, downed, removed, and the rest
// converge; it rejoins as a new incarnation; a quick restart replaces the
// old incarnation before the failure detector notices; the leader itself
// crashing.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "cluster/gossip_codec.h"
#include "cluster/phi.h"
#include "tests/support/members.h"

#define MAXN 5
#define TICK_MS 100
#define HEARTBEAT_MS 200 // the fast-test timings of the cluster reference
#define GOSSIP_MS 200
#define DOWN_AFTER_MS 2000

typedef struct sim_node {
	bool             alive;
	cst_address      self;
	cst_member_table table;
	cst_member_table before; // at the start of the tick, for events
	cst_phi_registry fd;
	unsigned         next_peer; // round-robin gossip target
	// Events this node published, per (kind, member number).
	unsigned event[CST_EVENT_REACHABLE_MEMBER + 1][MAXN];
} sim_node;

static sim_node          node[MAXN];
static unsigned          nnodes;
static uint64_t          now;
static uint8_t           wire[1 << 16];
static cst_member_table  inbox;
static cst_member_events events;

static const cst_leader_policy policy = {.down_after_ms = DOWN_AFTER_MS};

static const casty_failure_detector_config fd_config = {
    .threshold                     = 8.0,
    .max_sample_size               = 100,
    .min_std_deviation_ms          = 50.0,
    .acceptable_heartbeat_pause_ms = 800.0,
    .first_heartbeat_estimate_ms   = 200.0,
};

// The member number of an address: hosts are n<number>.
static unsigned
number_of(const cst_address *a)
{
	return (unsigned)(a->host[1] - '0') * 10 + (unsigned)(a->host[2] - '0');
}

static void
start(unsigned i, uint64_t uid)
{
	sim_node *n = &node[i];
	if (n->fd.watch != NULL || n->fd.len > 0) {
		cst_phi_registry_fini(&n->fd);
	}
	memset(n->event, 0, sizeof(n->event));
	n->alive = true;
	n->self  = member_addr(i, uid);
	cst_member_table_init(&n->table);
	cr_assert(eq(int, cst_phi_registry_init(&n->fd, &fd_config), 0));
	n->next_peer = 0;
}

static void
stop(unsigned i)
{
	node[i].alive = false; // it simply goes silent, like kill -9
}

// i asks the seed (node 0) to join, as a JoinRequest would.
static void
join(unsigned i)
{
	cr_assert(node[0].alive);
	cr_assert(eq(int,
	    cst_member_table_join(
	        &node[0].table, &node[0].self, &node[i].self, NULL, 0),
	    0));
}

// Sends from's table to to through the codec; returns the order the
// receiver saw (-1: lost).
static int
send_gossip(unsigned from, unsigned to)
{
	if (!node[to].alive) {
		return -1;
	}
	int64_t n = cst_gossip_encode(&node[from].table, wire, sizeof(wire));
	cr_assert(lt(i64, 0, n));
	cr_assert(
	    eq(int, cst_gossip_decode(wire, (size_t)n, now, &inbox, NULL), 0));
	int order =
	    cst_member_table_receive(&node[to].table, &inbox, &node[to].self);
	cr_assert(ge(int, order, 0));
	return order;
}

static int
node_of(const cst_address *a)
{
	for (unsigned k = 0; k < nnodes; k++) {
		if (node[k].alive && cst_address_equal(&node[k].self, a)) {
			return (int)k;
		}
	}
	return -1; // dead, or an older incarnation
}

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

static void
heartbeats_and_reachability(unsigned i)
{
	sim_node *n = &node[i];
	for (uint32_t k = 0; k < n->table.nmembers; k++) {
		const cst_member *m = &n->table.member[k];
		if (cst_address_equal(&m->address, &n->self)) {
			continue;
		}
		if (is_gone(m->status)) {
			cst_phi_registry_unwatch(&n->fd, &m->address);
			continue;
		}
		cr_assert(eq(
		    int, cst_phi_registry_watch(&n->fd, &m->address, now), 0));
		if (now % HEARTBEAT_MS == 0 && node_of(&m->address) >= 0) {
			cst_phi_registry_heartbeat(&n->fd, &m->address, now);
		}
		bool ok =
		    cst_phi_registry_is_available(&n->fd, &m->address, now);
		cst_address subject = m->address; // m moves if the table does
		if (!ok) {
			cst_member_table_mark_unreachable(
			    &n->table, &n->self, &subject, now);
		} else {
			cst_member_table_mark_reachable(
			    &n->table, &n->self, &subject);
		}
	}
}

static void
gossip(unsigned i)
{
	sim_node *n     = &node[i];
	uint32_t  count = n->table.nmembers;
	for (uint32_t step = 0; step < count; step++) {
		uint32_t          k = (n->next_peer++) % count;
		const cst_member *m = &n->table.member[k];
		if (cst_address_equal(&m->address, &n->self) ||
		    is_gone(m->status) ||
		    cst_member_table_is_unreachable(&n->table, k)) {
			continue;
		}
		int to = node_of(&m->address);
		if (to < 0) {
			return; // sent to a dead node: lost
		}
		int order = send_gossip(i, (unsigned)to);
		if (order != CST_VCLOCK_SAME) {
			send_gossip((unsigned)to, i); // push-pull reply
		}
		return;
	}
}

static void
publish(unsigned i)
{
	cst_member_events_diff(&node[i].before, &node[i].table, &events);
	for (uint32_t e = 0; e < events.len; e++) {
		node[i].event[events.event[e].kind]
		             [number_of(&events.event[e].member.address)]++;
	}
}

static void
tick(void)
{
	now += TICK_MS;
	for (unsigned i = 0; i < nnodes; i++) {
		if (node[i].alive) {
			node[i].before = node[i].table;
		}
	}
	for (unsigned i = 0; i < nnodes; i++) {
		if (node[i].alive) {
			heartbeats_and_reachability(i);
		}
	}
	if (now % GOSSIP_MS == 0) {
		for (unsigned i = 0; i < nnodes; i++) {
			if (node[i].alive) {
				gossip(i);
			}
		}
	}
	for (unsigned i = 0; i < nnodes; i++) {
		if (node[i].alive) {
			cr_assert(ge(int,
			    cst_member_table_leader_actions(
			        &node[i].table, &node[i].self, now, &policy),
			    0));
			publish(i);
		}
	}
}

// Every live node: converged, and every member it knows is either one of
// the live nodes, up, or a removed tombstone.
static bool
settled(void)
{
	unsigned alive = 0;
	for (unsigned i = 0; i < nnodes; i++) {
		alive += node[i].alive;
	}
	for (unsigned i = 0; i < nnodes; i++) {
		sim_node *n = &node[i];
		if (!n->alive) {
			continue;
		}
		if (!cst_member_table_converged(&n->table, &n->self)) {
			return false;
		}
		unsigned up = 0;
		for (uint32_t k = 0; k < n->table.nmembers; k++) {
			const cst_member *m    = &n->table.member[k];
			bool              live = node_of(&m->address) >= 0;
			if (live && m->status == CST_MEMBER_UP) {
				up++;
			} else if (!(m->status == CST_MEMBER_REMOVED &&
			               !live)) {
				return false;
			}
		}
		if (up != alive) {
			return false;
		}
	}
	return true;
}

// Runs until settled; returns the simulated milliseconds it took.
static uint64_t
run_until_settled(uint64_t limit_ms)
{
	uint64_t from = now;
	while (!settled()) {
		cr_assert(lt(u64, now - from, limit_ms),
		    "not settled after %lu ms", (unsigned long)limit_ms);
		tick();
	}
	return now - from;
}

static void
form(unsigned n)
{
	nnodes = n;
	now    = 0;
	for (unsigned i = 0; i < n; i++) {
		start(i, 1);
	}
	// The first seed joins itself; the others join through it.
	cr_assert(eq(int,
	    cst_member_table_join(
	        &node[0].table, &node[0].self, &node[0].self, NULL, 0),
	    0));
	for (unsigned i = 1; i < n; i++) {
		join(i);
	}
	uint64_t took = run_until_settled(10000);
	cr_log_info("%u nodes settled in %lu ms", n, (unsigned long)took);
	cr_assert(le(u64, took, 3000)); // the reference's goal for N <= 5
}

static void
teardown(void)
{
	for (unsigned i = 0; i < MAXN; i++) {
		cst_phi_registry_fini(&node[i].fd);
	}
}

TestSuite(membership_sim, .fini = teardown, .timeout = 60);

Test(membership_sim, three_nodes_form_a_cluster_with_everyone_up)
{
	form(3);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert(eq(u32, node[i].table.nmembers, 3));
		cr_assert(eq(int, cst_member_table_leader(&node[i].table), 0));
		// Every node saw every member come up, once.
		for (unsigned k = 0; k < 3; k++) {
			cr_assert(
			    eq(u32, node[i].event[CST_EVENT_MEMBER_UP][k], 1));
		}
	}
}

Test(membership_sim, a_silent_node_is_downed_removed_and_the_rest_converge)
{
	form(5);
	stop(2);
	uint64_t took = run_until_settled(20000);
	cr_log_info("crash to removal everywhere: %lu ms", (unsigned long)took);
	// Detection (~1.3 s at these timings) + down_after + a few rounds.
	cr_assert(ge(u64, took, DOWN_AFTER_MS));
	cr_assert(le(u64, took, 6000));
	for (unsigned i = 0; i < 5; i++) {
		if (i == 2) {
			continue;
		}
		const cst_address *dead = &node[2].self;
		cr_assert(eq(
		    int, status_of(&node[i].table, dead), CST_MEMBER_REMOVED));
		cr_assert(
		    eq(u32, node[i].event[CST_EVENT_MEMBER_DOWNED][2], 1));
		cr_assert(
		    eq(u32, node[i].event[CST_EVENT_MEMBER_REMOVED][2], 1));
		cr_assert(eq(u32, node[i].table.nreach, 0));
	}
	// The first observer marked it unreachable, and said so.
	unsigned unreachable_events = 0;
	for (unsigned i = 0; i < 5; i++) {
		unreachable_events +=
		    node[i].event[CST_EVENT_UNREACHABLE_MEMBER][2];
	}
	cr_assert(ge(u32, unreachable_events, 1));
}

Test(membership_sim, a_removed_node_rejoins_as_a_new_incarnation)
{
	form(4);
	stop(3);
	run_until_settled(20000);
	cst_address old = node[3].self;
	start(3, 2);
	join(3);
	run_until_settled(10000);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert(eq(int, status_of(&node[i].table, &node[3].self),
		    CST_MEMBER_UP));
		cr_assert(eq(
		    int, status_of(&node[0].table, &old), CST_MEMBER_REMOVED));
	}
	// The new incarnation is the youngest member.
	cr_assert(
	    eq(u32, member_of(&node[0].table, &node[3].self)->up_number, 5));
}

Test(membership_sim, a_quick_restart_replaces_the_old_incarnation)
{
	form(3);
	stop(1);
	cst_address old = node[1].self;
	tick(); // too short for any detector to notice
	start(1, 2);
	join(1);
	cr_assert(eq(int, status_of(&node[0].table, &old), CST_MEMBER_DOWN));
	uint64_t took = run_until_settled(10000);
	cr_log_info("quick restart settled in %lu ms", (unsigned long)took);
	cr_assert(lt(u64, took, DOWN_AFTER_MS)); // no waiting for auto-down
	for (unsigned i = 0; i < 3; i++) {
		cr_assert(eq(int, status_of(&node[i].table, &node[1].self),
		    CST_MEMBER_UP));
	}
	cr_assert(eq(int, status_of(&node[0].table, &old), CST_MEMBER_REMOVED));
}

Test(membership_sim, when_the_leader_dies_the_next_member_takes_over)
{
	form(3);
	stop(0);
	run_until_settled(20000);
	cr_assert(eq(
	    int, status_of(&node[1].table, &node[0].self), CST_MEMBER_REMOVED));
	int leader = cst_member_table_leader(&node[1].table);
	cr_assert(cst_address_equal(
	    &node[1].table.member[leader].address, &node[1].self));
}
