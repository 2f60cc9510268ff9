// tests/sim/test_membership_sim.c: clusters of membership machines in the
// deterministic simulator (sim_membership.c): formation without faults,
// a sweep of 1,000 seeds of 3 to 9 nodes under partitions (halves, one
// node, majorities ring, bridge, one-way), loss, crashes, restarts and
// pauses, each checked for its invariants on every step and for
// convergence after the heal; the rare paths the sweep must reach; and
// exact replay of a seed.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>

#include "tests/sim/sim_membership.h"

#define SWEEP_FIRST 1
#define SWEEP_PARTS 10 // tests, so that Criterion spreads them on cores

// The seeds of the sweep: $CASTY_SIM_SWEEP (meson sets 1,000, 100 under
// ThreadSanitizer), else 1,000.
static uint64_t
sweep_seeds(void)
{
	const char *n = getenv("CASTY_SIM_SWEEP");
	long        v = n != NULL ? strtol(n, NULL, 10) : 0;
	return v >= SWEEP_PARTS ? (uint64_t)v : 1000;
}

static const char *
casty_sim(void)
{
	const char *path = getenv("CASTY_SIM");
	return path != NULL ? path : "casty-sim";
}

// Runs seeds [first, first + n) with o; every failure is reported with
// the command that replays it. Returns the number that failed.
static int
sweep(sim_membership_options o, uint64_t first, uint64_t n,
    sim_membership_result *sum)
{
	int failed = 0;
	for (uint64_t seed = first; seed < first + n; seed++) {
		sim_membership_result r;
		o.seed = seed;
		if (!sim_membership_run(&o, &r)) {
			failed++;
			cr_log_error("seed %llu failed at %llu ms: %s\n  %s\n  "
			             "replay: %s --seed %llu --trace",
			    (unsigned long long)seed,
			    (unsigned long long)r.failed_at_ms, r.failure, r.setup,
			    casty_sim(), (unsigned long long)seed);
		}
		if (sum != NULL) {
			for (int d = 0; d < 5; d++) {
				sum->decisions[d] += r.decisions[d];
			}
			sum->self_downed += r.self_downed;
			sum->crashes += r.crashes;
			sum->pauses += r.pauses;
			sum->partitions += r.partitions;
			sum->restarts += r.restarts;
		}
	}
	return failed;
}

Test(membership_sim, a_cluster_forms_without_faults)
{
	static const int sizes[] = {1, 2, 3, 5, 9, 16};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		sim_membership_options o = {
			.seed      = 100 + i,
			.min_nodes = sizes[i],
			.max_nodes = sizes[i],
			.no_faults = true,
		};
		sim_membership_result r;
		cr_expect(sim_membership_run(&o, &r), "%d nodes: %s", sizes[i],
		    r.failure);
		cr_expect(eq(int, r.nodes, sizes[i]));
		cr_expect(lt(u64, r.converged_ms, 10001), "%d nodes: %llu ms",
		    sizes[i], (unsigned long long)r.converged_ms);
		cr_expect(eq(u32, r.self_downed, 0));
	}
}

// The sweep: sweep_seeds() seeds in SWEEP_PARTS tests.
static void
sweep_part(int part)
{
	uint64_t per = sweep_seeds() / SWEEP_PARTS;
	sim_membership_options o = {0};
	int failed = sweep(o, SWEEP_FIRST + (uint64_t)part * per, per, NULL);
	cr_expect(eq(int, failed, 0), "%d of %llu seeds failed (above)",
	    failed, (unsigned long long)per);
}

Test(membership_sim, sweep_0) { sweep_part(0); }
Test(membership_sim, sweep_1) { sweep_part(1); }
Test(membership_sim, sweep_2) { sweep_part(2); }
Test(membership_sim, sweep_3) { sweep_part(3); }
Test(membership_sim, sweep_4) { sweep_part(4); }
Test(membership_sim, sweep_5) { sweep_part(5); }
Test(membership_sim, sweep_6) { sweep_part(6); }
Test(membership_sim, sweep_7) { sweep_part(7); }
Test(membership_sim, sweep_8) { sweep_part(8); }
Test(membership_sim, sweep_9) { sweep_part(9); }

// A sweep that never reached a path proves nothing about it: every fault
// and every decision of the resolver must have happened in some seed.
Test(membership_sim, the_sweep_reaches_every_fault_and_decision)
{
	sim_membership_result sum = {0};
	sim_membership_options o  = {0};
	cr_assert(eq(int, sweep(o, 5000, 200, &sum), 0));
	cr_expect(lt(u32, 0, sum.partitions));
	cr_expect(lt(u32, 0, sum.crashes));
	cr_expect(lt(u32, 0, sum.pauses));
	cr_expect(lt(u32, 0, sum.restarts));
	cr_expect(lt(u32, 0, sum.self_downed));
	for (int d = 1; d < 5; d++) {
		cr_expect(lt(u32, 0, sum.decisions[d]), "decision %d never made",
		    d);
	}
}

// Each strategy on its own, on clusters of 5 (Akka's 7 s stable-after).
Test(membership_sim, each_strategy_keeps_the_invariants)
{
	static const casty_downing_strategy all[] = {
		CASTY_DOWNING_OFF,
		CASTY_DOWNING_KEEP_MAJORITY,
		CASTY_DOWNING_STATIC_QUORUM,
		CASTY_DOWNING_KEEP_OLDEST,
		CASTY_DOWNING_DOWN_ALL,
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sim_membership_options o = {
			.min_nodes      = 5,
			.max_nodes      = 5,
			.fixed_strategy = true,
			.downing        = {.strategy = all[i],
			           .down_all_when_unstable = true,
			           .down_if_alone          = true},
		};
		cr_expect(eq(int, sweep(o, 7000, 20, NULL), 0), "%s",
		    casty_downing_strategy_name(all[i]));
	}
}

Test(membership_sim, a_seed_replays_exactly)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		sim_membership_options o = {.seed = seed};
		sim_membership_result  a, b;
		sim_membership_run(&o, &a);
		sim_membership_run(&o, &b);
		cr_expect(eq(u64, a.trace_hash, b.trace_hash), "seed %llu",
		    (unsigned long long)seed);
		cr_expect(eq(u64, a.events, b.events));
		cr_expect(eq(int, a.ok, b.ok));
	}
	sim_membership_options o1 = {.seed = 1}, o2 = {.seed = 2};
	sim_membership_result  a, b;
	sim_membership_run(&o1, &a);
	sim_membership_run(&o2, &b);
	cr_expect(ne(u64, a.trace_hash, b.trace_hash));
}
