// tests/chaos/test_chaos.c: the fault-injection scenarios of the cluster
// reference §3.7, on five casty-node processes in namespaces
// (tests/chaos/chaos.h) with the default timings and keep-majority.
// Suite chaos_core runs in .ci/run: S1 crash a follower, S3 a minority
// partition (healed before and after the resolver acts), S5 a one-way
// link and a bridge, S6 a pause twice as long as failover, S7 a pause of
// one second. Suite chaos_long runs from `tools/test.sh -- --suite
// chaos-long`: S2 crash the leader, S4 a majorities ring, S11 a rolling
// restart, S12 30 % loss for a minute (and a 64 kB/s cap), S13 a join
// during a partition.
//
// Each waits on events with generous deadlines and checks the
// membership properties: one converged view after the faults end, no
// split brain over the recorded history, the downed side stopped. The
// times it took go out as FIGURE lines (bench/chaos.sh collects them),
// never asserted.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "tests/chaos/chaos.h"

#define NODES 5
// A fault held this long outlasts detection (3.5 s), the resolver's
// stable-after (7 s for five members) and the removal after it.
#define FAILOVER_HOLD_MS 25000
#define WARM_UP_MS       15000

static chaos c;

static void
teardown(void)
{
	chaos_close(&c);
}

TestSuite(chaos_core, .timeout = 600, .fini = teardown);
TestSuite(chaos_long, .timeout = 900, .fini = teardown);

// Lets the faults act for ms: the nodes' output is read meanwhile.
static void
hold(int64_t ms)
{
	int64_t until = chaos_now() + ms;
	while (chaos_now() < until) {
		np_pump(until - chaos_now());
	}
}

static int
leader_index(void)
{
	char leader[32];
	chaos_leader(&c, 0, leader, sizeof leader);
	for (int i = 0; i < c.n; i++) {
		if (strcmp(leader, c.ip[i]) == 0) {
			return i;
		}
	}
	cr_fatal("node 0 names no node as leader (%s)", leader);
	return -1;
}

static void
form(const char *scenario, int n)
{
	chaos_open(&c, scenario, n, "keep-majority");
	int64_t t0 = chaos_now();
	chaos_start_all(&c);
	int64_t t = chaos_wait_converged(&c, chaos_all(&c));
	cr_assert(ge(i64, t, 0), "the cluster never formed");
	chaos_figure(&c, "formed", t - t0);
}

// A node ends and the rest carry on: each sees it unreachable, then
// removed (keep-majority downs it), and agree without it; restarted, it
// joins again as a new incarnation.
static void
crash_and_rejoin(int victim)
{
	// The detectors start from an estimate of 1 s per heartbeat with a
	// wide spread (Akka's), which a few seconds of real heartbeats do
	// not yet outweigh: run long enough for detection to be what a
	// cluster that has been up a while sees.
	hold(WARM_UP_MS);
	uint64_t inc    = chaos_current(&c, victim)->incarnation;
	unsigned rest   = chaos_all(&c) & ~(1u << victim);
	int64_t  t_kill = chaos_now();
	chaos_kill(&c, victim);
	int64_t first = INT64_MAX, last = 0, removed = 0;
	for (int i = 0; i < c.n; i++) {
		if (!((rest >> i) & 1)) {
			continue;
		}
		int64_t t = chaos_wait_event(&c, i, "unreachable", victim, inc,
		    t_kill);
		cr_assert(ge(i64, t, 0), "node %d never saw node %d unreachable",
		    i, victim);
		first = t < first ? t : first;
		last  = t > last ? t : last;
		t = chaos_wait_event(&c, i, "removed", victim, inc, t_kill);
		cr_assert(ge(i64, t, 0), "node %d never removed node %d", i,
		    victim);
		removed = t > removed ? t : removed;
	}
	chaos_figure(&c, "detected-first", first - t_kill);
	chaos_figure(&c, "detected-all", last - t_kill);
	chaos_figure(&c, "failover", removed - t_kill);
	cr_assert(ge(i64, chaos_wait_converged(&c, rest), 0));
	int64_t t_start = chaos_now();
	chaos_start(&c, victim);
	chaos_wait_member(&c, victim);
	int64_t t = chaos_wait_converged(&c, chaos_all(&c));
	cr_assert(ge(i64, t, 0), "node %d never rejoined", victim);
	chaos_figure(&c, "rejoined", t - t_start);
}

// The faults are over: every node that was downed is started again, and
// all must agree.
static void
heal_and_recover(void)
{
	chaos_heal(&c);
	int64_t t_heal = chaos_now();
	int64_t t      = chaos_recover(&c);
	cr_assert(ge(i64, t, 0), "no converged view after the heal");
	chaos_figure(&c, "converged-after-heal", t - t_heal);
	chaos_check_no_split_brain(&c);
}

// Nodes of mask, which the resolver downs: each publishes it, prints
// DOWNED and exits 3.
static int64_t
wait_side_downed(unsigned mask, int64_t since)
{
	int64_t last = 0;
	for (int i = 0; i < c.n; i++) {
		if ((mask >> i) & 1) {
			uint64_t inc = chaos_current(&c, i)->incarnation;
			int64_t  t   = chaos_wait_downed(&c, i);
			cr_expect(chaos_saw_event(&c, i, "downed", i, inc, since),
			    "node %d did not publish that it was downed", i);
			last = t > last ? t : last;
		}
	}
	return last;
}

Test(chaos_core, s1_crash_a_follower)
{
	form("s1-crash-follower", NODES);
	int leader = leader_index();
	crash_and_rejoin((leader + 1) % NODES);
	chaos_check_no_split_brain(&c);
}

Test(chaos_core, s3_minority_partition_and_heal)
{
	form("s3-minority-partition", NODES);
	const unsigned majority = 007, minority = 030;
	// Healed before the resolver may act: nobody is downed, everyone
	// is reachable again.
	int64_t t_cut = chaos_now();
	chaos_split(&c, majority, minority);
	cr_assert(ge(i64, chaos_wait_event(&c, 0, "unreachable", 3, 0, t_cut),
	    0));
	chaos_heal(&c);
	int64_t t_heal = chaos_now();
	int64_t t      = chaos_wait_converged(&c, chaos_all(&c));
	cr_assert(ge(i64, t, 0), "no converged view after a short partition");
	chaos_figure(&c, "converged-after-short-heal", t - t_heal);
	for (int i = 0; i < NODES; i++) {
		for (int j = 0; j < NODES; j++) {
			cr_expect(not(chaos_saw_event(&c, i, "downed", j, 0, t_cut)),
			    "node %d downed node %d in a short partition", i, j);
		}
	}
	// Held past failover: the majority removes the minority, which
	// downs itself and stops.
	t_cut = chaos_now();
	chaos_split(&c, majority, minority);
	int64_t downed = wait_side_downed(minority, t_cut);
	chaos_figure(&c, "minority-stopped", downed - t_cut);
	for (int i = 0; i < 3; i++) {
		for (int j = 3; j < NODES; j++) {
			cr_assert(ge(i64, chaos_wait_event(&c, i, "removed", j, 0, t_cut),
			    0), "node %d never removed node %d", i, j);
		}
	}
	cr_assert(ge(i64, chaos_wait_converged(&c, majority), 0));
	heal_and_recover();
}

Test(chaos_core, s5_one_way_link_and_bridge)
{
	form("s5-one-way-and-bridge", NODES);
	// Nobody hears node 4, which hears everyone.
	for (int j = 0; j < NODES - 1; j++) {
		chaos_cut(&c, 4, j);
	}
	hold(FAILOVER_HOLD_MS);
	cr_assert(ge(i64, chaos_wait_downed(&c, 4), 0));
	cr_assert(ge(i64, chaos_wait_converged(&c, 017), 0));
	heal_and_recover();
	// Node 2 bridges {0, 1} and {3, 4}: indirectly connected nodes go,
	// whatever is left agrees, and no two sides go on.
	chaos_split(&c, 003, 030);
	hold(FAILOVER_HOLD_MS);
	heal_and_recover();
}

Test(chaos_core, s6_pause_twice_the_failover_bound)
{
	form("s6-long-pause", NODES);
	const int victim = 3;
	uint64_t  inc    = chaos_current(&c, victim)->incarnation;
	hold(WARM_UP_MS); // as in crash_and_rejoin
	int64_t t_stop = chaos_now();
	chaos_stop(&c, victim);
	int64_t removed = 0;
	for (int i = 0; i < NODES; i++) {
		if (i != victim) {
			int64_t t =
			    chaos_wait_event(&c, i, "removed", victim, inc, t_stop);
			cr_assert(ge(i64, t, 0), "node %d never removed node %d", i,
			    victim);
			removed = t > removed ? t : removed;
		}
	}
	chaos_figure(&c, "failover", removed - t_stop);
	hold(t_stop + 2 * (removed - t_stop) - chaos_now());
	// Back, it learns that it was removed and stops: a zombie never
	// serves as a cluster of its own.
	chaos_cont(&c, victim);
	int64_t t_cont = chaos_now();
	int64_t t      = chaos_wait_downed(&c, victim);
	chaos_figure(&c, "zombie-stopped", t - t_cont);
	heal_and_recover();
}

Test(chaos_core, s7_pause_of_one_second)
{
	form("s7-short-pause", NODES);
	const int victim = 2;
	int64_t   t_stop = chaos_now();
	chaos_stop(&c, victim);
	hold(1000);
	chaos_cont(&c, victim);
	// Within the acceptable pause (1.5 s): nobody finds anybody
	// unreachable, though the detectors are watched for a while.
	hold(8000);
	for (int i = 0; i < NODES; i++) {
		for (int j = 0; j < NODES; j++) {
			cr_expect(not(chaos_saw_event(&c, i, "unreachable", j, 0,
			              t_stop)),
			    "node %d found node %d unreachable", i, j);
		}
	}
	cr_assert(ge(i64, chaos_wait_converged(&c, chaos_all(&c)), 0));
}

Test(chaos_long, s2_crash_the_leader)
{
	form("s2-crash-leader", NODES);
	crash_and_rejoin(leader_index());
	chaos_check_no_split_brain(&c);
}

Test(chaos_long, s4_majorities_ring)
{
	form("s4-majorities-ring", NODES);
	// Each node hears its two neighbours on the ring 0-1-2-3-4: each
	// sees a majority, no two the same one.
	for (int i = 0; i < NODES; i++) {
		for (int j = 0; j < NODES; j++) {
			int d = abs(i - j);
			if (d > 1 && d < NODES - 1) {
				chaos_cut(&c, i, j);
			}
		}
	}
	hold(FAILOVER_HOLD_MS);
	heal_and_recover();
}

Test(chaos_long, s11_rolling_restart)
{
	form("s11-rolling-restart", NODES);
	for (int i = 0; i < NODES; i++) {
		int64_t t0 = chaos_now();
		chaos_quit(&c, i);
		chaos_start(&c, i);
		chaos_wait_member(&c, i);
		int64_t t = chaos_wait_converged(&c, chaos_all(&c));
		cr_assert(ge(i64, t, 0), "no converged view after restarting %d",
		    i);
		chaos_figure(&c, "restart-converged", t - t0);
	}
	chaos_check_no_split_brain(&c);
}

Test(chaos_long, s12_loss_of_30_percent_for_a_minute)
{
	form("s12-loss", NODES);
	int64_t t0 = chaos_now();
	for (int i = 0; i < NODES; i++) {
		chaos_loss(&c, i, 30);
	}
	hold(60000);
	chaos_heal(&c);
	for (int i = 0; i < NODES; i++) {
		for (int j = 0; j < NODES; j++) {
			cr_expect(not(chaos_saw_event(&c, i, "unreachable", j, 0, t0)),
			    "node %d found node %d unreachable under loss", i, j);
		}
	}
	heal_and_recover();
}

// A thin link: membership's traffic (gossip of a five-member table,
// heartbeats) fits in 64 kB/s, so a cap there is no failure.
Test(chaos_long, s12b_bandwidth_cap_of_64_kbytes)
{
	form("s12b-bandwidth-cap", NODES);
	hold(WARM_UP_MS);
	int64_t t0 = chaos_now();
	for (int i = 0; i < NODES; i++) {
		chaos_cap(&c, i, 64);
	}
	hold(30000);
	chaos_heal(&c);
	for (int i = 0; i < NODES; i++) {
		for (int j = 0; j < NODES; j++) {
			cr_expect(not(chaos_saw_event(&c, i, "unreachable", j, 0, t0)),
			    "node %d found node %d unreachable under the cap", i, j);
		}
	}
	cr_assert(ge(i64, chaos_wait_converged(&c, chaos_all(&c)), 0));
}

Test(chaos_long, s13_join_during_a_partition)
{
	chaos_open(&c, "s13-join-in-partition", NODES + 1, "keep-majority");
	for (int i = 0; i < NODES; i++) {
		chaos_start(&c, i);
	}
	for (int i = 0; i < NODES; i++) {
		chaos_wait_member(&c, i);
	}
	cr_assert(ge(i64, chaos_wait_converged(&c, 037), 0));
	const unsigned majority = 047, minority = 030; // node 5 joins
	int64_t        t_cut    = chaos_now();
	chaos_split(&c, majority, minority);
	chaos_start(&c, 5);
	chaos_wait_member(&c, 5);
	// Up once the minority is downed: convergence waits for it.
	int64_t t_up = chaos_wait_event(&c, 0, "up", 5, 0, t_cut);
	cr_assert(ge(i64, t_up, 0), "the joiner never came up");
	chaos_figure(&c, "joiner-up", t_up - t_cut);
	wait_side_downed(minority, t_cut);
	heal_and_recover();
}
