// cluster/downing.h: the split-brain resolver (Akka's SBR, cluster
// reference §1.4, cluster reference 2 §4), as pure functions over a
// member table seen by one node.
//
// A node that cannot reach some members cannot tell a crash from a
// partition, so each side applies the same strategy to the same last
// known membership and the strategy is built so that at most one side
// keeps itself (keep-majority: the larger side; static-quorum: a side with
// a quorum, in a cluster too small for two; keep-oldest: the side of the
// oldest). A side that does not keep itself downs itself.
//
// Members that are unreachable through some links but not others (a
// one-way link, a node that bridges two halves) are "indirectly
// connected": counting them on one side is wrong, since the other side
// may count them too. They are downed whatever the strategy, and the
// strategy then decides the rest as if the links between them had not
// been observed (Akka's rule).
//
// Nothing is decided until the view (members, statuses, reachability
// rows) has stayed the same for stable_after: a partition is observed on
// both sides within a few heartbeats, and deciding before the other side
// has settled on the same picture is how both sides would act.
#ifndef CASTY_CLUSTER_DOWNING_H
#define CASTY_CLUSTER_DOWNING_H

#include <stdbool.h>
#include <stdint.h>

#include <casty/config.h>

#include "cluster/member_table.h"

/** cst_downing_decision is what a strategy concludes. */
typedef enum cst_downing_decision {
	CST_DOWN_NOTHING,     // no member is unreachable
	CST_DOWN_UNREACHABLE, // this side stays
	CST_DOWN_REACHABLE,   // this side goes (self included)
	CST_DOWN_ALL,
	CST_DOWN_INDIRECTLY_CONNECTED, // and what the rest decides
} cst_downing_decision;

/** cst_downing_decision_name returns "down-unreachable", ... */
const char *cst_downing_decision_name(cst_downing_decision d);

/**
 * cst_downing_config_check says whether cfg is usable: a known strategy,
 * stable_after finite and in [0, 1 day], quorum_size >= 1 for
 * static-quorum. Returns 0 or -EINVAL.
 */
int cst_downing_config_check(const casty_downing_config *cfg);

/**
 * cst_downing_stable_after_ms is cfg's stable_after, or when it is 0 the
 * one Akka recommends for a cluster of nmembers.
 */
uint64_t cst_downing_stable_after_ms(
    const casty_downing_config *cfg, uint32_t nmembers);

/**
 * cst_downing_decide applies cfg's strategy to t as self (a member
 * index) sees it, and sets *down to the members to mark down now (which
 * includes self when its side goes). Ignores stability: see
 * cst_downing_tick.
 */
cst_downing_decision cst_downing_decide(const casty_downing_config *cfg,
    const cst_member_table *t, int self, cst_member_set *down);

/**
 * CST_DOWNING_PAUSE_MS: a gap this long between two observations means
 * the node did not run (a GC-like pause, SIGSTOP, a stalled VM). Its
 * view is then as old as the gap, not stable for that long: the clock
 * starts again (Akka's resolver does the same on a late tick). Nodes
 * observe at least every check interval (0.5 s by default).
 */
#define CST_DOWNING_PAUSE_MS 2000

/** cst_downing is one node's stability clock. Zero it to start. */
typedef struct cst_downing {
	uint64_t fingerprint;     // of the view last seen
	uint64_t stable_since_ms; // when it last changed
	uint64_t unstable_since;  // when members became unreachable (+1)
	uint64_t observed_ms;     // the last observation (+1)
} cst_downing;

/**
 * cst_downing_tick observes t as self sees it at now_ms and says whether
 * self, if it leads, should act: true with *down and *decision set when
 * members are unreachable and the view has been stable for stable_after,
 * or (down_all_when_unstable) has kept changing for stable_after and 3/4
 * of it more (at least 4 s) since members became unreachable, which
 * downs all. Call it on every change and every tick, leader or not, so
 * that a node that becomes leader knows how long the view has been
 * stable. After a pause (CST_DOWNING_PAUSE_MS) both clocks start again.
 */
bool cst_downing_tick(cst_downing *d, const casty_downing_config *cfg,
    const cst_member_table *t, int self, uint64_t now_ms,
    cst_member_set *down, cst_downing_decision *decision);

#endif // CASTY_CLUSTER_DOWNING_H
