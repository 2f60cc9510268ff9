// cluster/member_leader.c: convergence, the leader, and what the leader
// does (Akka's rules, cluster reference §1.1-§1.4).
//
// Convergence gates the leader's membership moves, so every node has seen
// a change before the next one is made on top of it. The leader is not
// elected: every node computes the same first member by address from the
// same converged table.
//
// Auto-down. A member that stays unreachable for down_after_ms (counted
// from when this node first learnt of it) is marked down by the leader,
// converged or not: without convergence nobody could ever remove a
// crashed member, because the crashed member blocks convergence. This is
// the simplest downing rule, Akka's old auto-down, and it is NOT
// partition-safe: on each side of a network split the reachable members
// elect their own leader, and each leader downs the other side after
// down_after_ms, leaving two clusters that each believe they are the
// whole (split brain). With sharding or single writers that means two
// owners of the same entity. It is off by default (down_after_ms = 0);
// turn it on only where a crash is far likelier than a partition, or
// replace it with a quorum rule (keep-majority, static-quorum).
#include "cluster/member_table.h"

#include <errno.h>

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

bool
cst_member_table_converged(const cst_member_table *t, const cst_address *self)
{
	if (cst_member_table_find(t, self) < 0) {
		return false;
	}
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_status s = t->member[i].status;
		if (is_gone(s)) {
			continue; // down members need not see anything
		}
		if (cst_member_table_is_unreachable(t, i)) {
			// An exiting member is on its way out; Akka lets it
			// go on without it, so a crash while exiting does
			// not stall the cluster.
			if (s == CST_MEMBER_EXITING) {
				continue;
			}
			return false;
		}
		if (!cst_member_table_has_seen(t, i)) {
			return false;
		}
	}
	return true;
}

int
cst_member_table_leader(const cst_member_table *t)
{
	int fallback = -1;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_status s = t->member[i].status;
		if (is_gone(s) || cst_member_table_is_unreachable(t, i)) {
			continue;
		}
		if (s == CST_MEMBER_UP || s == CST_MEMBER_LEAVING) {
			return (int)i; // members are in address order
		}
		if (fallback < 0) {
			fallback = (int)i;
		}
	}
	return fallback;
}

// One step along joining -> up, leaving -> exiting -> removed, down ->
// removed. Returns true when m moved.
static bool
advance(cst_member *m, uint32_t *next_up_number)
{
	switch (m->status) {
	case CST_MEMBER_JOINING:
		m->status    = CST_MEMBER_UP;
		m->up_number = (*next_up_number)++;
		return true;
	case CST_MEMBER_LEAVING:
		m->status = CST_MEMBER_EXITING;
		return true;
	case CST_MEMBER_EXITING:
	case CST_MEMBER_DOWN:
		m->status = CST_MEMBER_REMOVED;
		return true;
	default:
		return false;
	}
}

int
cst_member_table_leader_actions(cst_member_table *t, const cst_address *self,
    uint64_t now_ms, const cst_leader_policy *policy)
{
	int me = cst_member_table_find(t, self);
	if (me < 0 || cst_member_table_leader(t) != me) {
		return 0;
	}
	if (cst_vclock_get(&t->version, self) == UINT64_MAX) {
		return -EOVERFLOW;
	}
	// Decided on the table as it is, before any of this round's moves.
	bool converged = cst_member_table_converged(t, self);
	bool unreachable[CST_MEMBERS_MAX];
	for (uint32_t i = 0; i < t->nmembers; i++) {
		unreachable[i] = cst_member_table_is_unreachable(t, i);
	}

	int changed = 0;
	if (converged) {
		uint32_t next_up = 1;
		for (uint32_t i = 0; i < t->nmembers; i++) {
			if (t->member[i].up_number >= next_up) {
				next_up = t->member[i].up_number + 1;
			}
		}
		for (uint32_t i = 0; i < t->nmembers; i++) {
			changed += advance(&t->member[i], &next_up);
		}
	}
	if (policy != NULL && policy->down_after_ms > 0) {
		for (uint32_t i = 0; i < t->nmembers; i++) {
			cst_member *m = &t->member[i];
			if (!unreachable[i] || is_gone(m->status)) {
				continue;
			}
			uint64_t since =
			    cst_member_table_unreachable_since(t, i);
			if (now_ms >= since &&
			    now_ms - since >= policy->down_after_ms) {
				m->status = CST_MEMBER_DOWN;
				changed++;
			}
		}
	}
	if (changed == 0) {
		return 0;
	}
	cst_member_table_prune_rows(t);
	int rc    = cst_vclock_increment(&t->version, self);
	if (rc != 0) {
		return rc; // not reached: checked above
	}
	t->seen = 1ull << me;
	return changed;
}
