// tests/sim/sim_membership.h: clusters of membership machines
// (cluster/membership.h) in the simulator, with a fault schedule drawn
// from the seed and the membership's invariants checked over the whole
// run (TigerBeetle's two phases: faults, then a heal after which the
// cluster must recover within a bound).
//
// Checked after every event, on the node that handled it:
//   - no node holds a row saying a member cannot hear itself, and no
//     node is unreachable in its own view;
//   - no member goes back in its life: the status a node sees for a
//     member's incarnation never decreases (so nothing removed returns);
//   - no split brain: two live nodes that are both still in the cluster
//     in their own view never each have the other down or removed.
// Checked after the heal (every partition gone, paused nodes resumed,
// crashed and downed ones restarted, no more loss):
//   - within the bound, every live node shows the same members, all up
//     and reachable, and the same leader, and that view holds to the
//     end of the run.
#ifndef CASTY_TESTS_SIM_SIM_MEMBERSHIP_H
#define CASTY_TESTS_SIM_SIM_MEMBERSHIP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <casty/config.h>

/** sim_membership_options: 0 fields are drawn from the seed. */
typedef struct sim_membership_options {
	uint64_t seed;
	int      min_nodes, max_nodes; // the cluster size is drawn in
	                               // [min, max] (3 and 9 when 0)
	uint64_t duration_ms;          // 60000
	uint64_t heal_at_ms;           // 35000
	uint64_t converge_bound_ms;    // after the heal; 0: drawn by the
	                               // strategy (10 s, or 25 s with
	                               // downing: restarts take longer)
	bool     no_faults;            // a healthy run: formation only
	bool     fixed_strategy;       // use downing, not a drawn one
	casty_downing_config downing;
	FILE    *trace; // events and decisions as they happen, or NULL
} sim_membership_options;

/** sim_membership_result is what a run found. */
typedef struct sim_membership_result {
	bool     ok;
	char     failure[512]; // the first broken invariant
	uint64_t failed_at_ms;
	char     setup[512]; // the option set the seed drew
	uint64_t trace_hash;
	uint64_t events;
	int      nodes;
	uint64_t converged_ms; // after the heal; UINT64_MAX: never
	// How often the rare paths ran (sometimes-counters).
	uint32_t decisions[5]; // by cst_downing_decision
	uint32_t self_downed;  // nodes that found themselves downed
	uint32_t crashes, pauses, partitions, restarts;
} sim_membership_result;

/** sim_membership_run runs one seed; returns r->ok. */
bool sim_membership_run(
    const sim_membership_options *o, sim_membership_result *r);

#endif // CASTY_TESTS_SIM_SIM_MEMBERSHIP_H
