// cluster/member_leader.c: convergence, the leader, and what the leader
// does (Akka's rules, cluster reference §1.1-§1.2).
//
// Convergence gates the leader's membership moves, so every node has seen
// a change before the next one is made on top of it. The leader is not
// elected: every node computes the same first member by address from the
// same converged table.
//
// Downing is not here. The old rule (the leader downs whatever stayed
// unreachable for a timeout) splits the brain on a partition: each side's
// leader downs the other side and two clusters go on. cluster/downing.h
// decides downing from both sides' sizes instead, and only once the view
// has been stable.
#include "cluster/member_table.h"

#include <errno.h>

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

bool
cst_member_table_unreachable_for(
    const cst_member_table *t, int self, uint32_t i)
{
	return (int)i != self && cst_member_table_is_unreachable(t, i);
}

bool
cst_member_table_converged(const cst_member_table *t, const cst_address *self)
{
	int me = cst_member_table_find(t, self);
	if (me < 0) {
		return false;
	}
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_status s = t->member[i].status;
		if (is_gone(s)) {
			continue; // down members need not see anything
		}
		if (cst_member_table_unreachable_for(t, me, i)) {
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

bool
cst_member_table_forming(const cst_member_table *t)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if (t->member[i].up_number > 0) {
			return false;
		}
	}
	return true;
}

bool
cst_member_table_orphaned(const cst_member_table *t)
{
	if (cst_member_table_forming(t)) {
		return false;
	}
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_status s = t->member[i].status;
		if (s == CST_MEMBER_UP || s == CST_MEMBER_LEAVING ||
		    s == CST_MEMBER_EXITING) {
			return false;
		}
	}
	return true;
}

int
cst_member_table_leader(const cst_member_table *t, const cst_address *self)
{
	int me       = self != NULL ? cst_member_table_find(t, self) : -1;
	int fallback = -1;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_status s = t->member[i].status;
		if (is_gone(s) || cst_member_table_unreachable_for(t, me, i)) {
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
advance(cst_member *m, uint32_t *next_up_number, bool may_move_up)
{
	switch (m->status) {
	case CST_MEMBER_JOINING:
		if (!may_move_up) {
			return false;
		}
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
cst_member_table_leader_actions(cst_member_table *t, const cst_address *self)
{
	int me = cst_member_table_find(t, self);
	if (me < 0 || cst_member_table_leader(t, self) != me ||
	    !cst_member_table_converged(t, self)) {
		return 0;
	}
	if (cst_vclock_get(&t->version, self) == UINT64_MAX) {
		return -EOVERFLOW;
	}
	uint32_t next_up = 1;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if (t->member[i].up_number >= next_up) {
			next_up = t->member[i].up_number + 1;
		}
	}
	// A joining leader moves members up only in a cluster being
	// formed: one admitted just before every up member was downed must
	// not carry on as a cluster of its own (membership.c makes it
	// leave: cst_member_table_orphaned).
	cst_member_status mine        = t->member[me].status;
	bool              may_move_up = mine == CST_MEMBER_UP ||
	                   mine == CST_MEMBER_LEAVING ||
	                   cst_member_table_forming(t);
	int changed = 0;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		changed += advance(&t->member[i], &next_up, may_move_up);
	}
	if (changed == 0) {
		return 0;
	}
	cst_member_table_prune_rows(t);
	int rc = cst_vclock_increment(&t->version, self);
	if (rc != 0) {
		return rc; // not reached: checked above
	}
	cst_member_set_only(&t->seen, (uint32_t)me);
	return changed;
}
