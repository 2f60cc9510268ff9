// cluster/member_events.c: membership events as the difference of two
// tables. The runtime never published member events before (casty
// reference §1.18); computing them from states, rather than emitting them
// where states change, gives every node the same events whichever gossip
// path brought the change, including the steps it never saw (a member
// first seen exiting still gets its MemberUp and MemberLeft).
#include "cluster/member_table.h"

static const char *const event_names[] = {
    [CST_EVENT_MEMBER_JOINED]      = "MemberJoined",
    [CST_EVENT_MEMBER_UP]          = "MemberUp",
    [CST_EVENT_MEMBER_LEFT]        = "MemberLeft",
    [CST_EVENT_MEMBER_DOWNED]      = "MemberDowned",
    [CST_EVENT_MEMBER_REMOVED]     = "MemberRemoved",
    [CST_EVENT_UNREACHABLE_MEMBER] = "UnreachableMember",
    [CST_EVENT_REACHABLE_MEMBER]   = "ReachableMember",
    [CST_EVENT_LEADER_CHANGED]     = "LeaderChanged",
};

const char *
cst_member_event_name(cst_member_event_kind k)
{
	return (unsigned)k <= CST_EVENT_LEADER_CHANGED ? event_names[k] : "?";
}

static void
emit(cst_member_events *out, cst_member_event_kind kind, const cst_member *m)
{
	// At most four per member (joined, up, left, reachability), which
	// CST_EVENTS_MAX allows for; the check only guards the array.
	if (out->len < CST_EVENTS_MAX) {
		out->event[out->len].kind   = kind;
		out->event[out->len].member = *m;
		out->len++;
	}
}

// NONE: the member was not in the older table.
#define NONE (-1)

void
cst_member_events_diff(const cst_member_table *before,
    const cst_member_table *after, const cst_address *self,
    cst_member_events *out)
{
	int self_before = self != NULL ? cst_member_table_find(before, self) : -1;
	int self_after  = self != NULL ? cst_member_table_find(after, self) : -1;
	out->len        = 0;
	for (uint32_t i = 0; i < after->nmembers; i++) {
		const cst_member *m = &after->member[i];
		int  old   = cst_member_table_find(before, &m->address);
		int  was   = old < 0 ? NONE : (int)before->member[old].status;
		int  now   = (int)m->status;
		bool alive = now <= CST_MEMBER_EXITING;

		if (was == NONE && alive) {
			emit(out, CST_EVENT_MEMBER_JOINED, m);
		}
		if (was < CST_MEMBER_UP && alive && now >= CST_MEMBER_UP) {
			emit(out, CST_EVENT_MEMBER_UP, m);
		}
		// Left: reached exiting, or went from leaving straight to
		// removed without this node seeing it exit.
		if ((was < CST_MEMBER_EXITING && now == CST_MEMBER_EXITING) ||
		    (was == CST_MEMBER_LEAVING && now == CST_MEMBER_REMOVED)) {
			emit(out, CST_EVENT_MEMBER_LEFT, m);
		}
		// Downed: also when this node only sees the removal of a
		// member that was joining or up (a zombie back from a pause
		// learns it this way that its cluster downed it).
		if ((was < CST_MEMBER_DOWN && now == CST_MEMBER_DOWN) ||
		    ((was == CST_MEMBER_JOINING || was == CST_MEMBER_UP) &&
		        now == CST_MEMBER_REMOVED)) {
			emit(out, CST_EVENT_MEMBER_DOWNED, m);
		}
		// A tombstone of a member this node never knew is not news.
		if (was != NONE && was < CST_MEMBER_REMOVED &&
		    now == CST_MEMBER_REMOVED) {
			emit(out, CST_EVENT_MEMBER_REMOVED, m);
		}

		if (now == CST_MEMBER_REMOVED) {
			continue;
		}
		bool un_before = old >= 0 && cst_member_table_unreachable_for(
		                                 before, self_before, (uint32_t)old);
		bool un_after =
		    cst_member_table_unreachable_for(after, self_after, i);
		if (un_after && !un_before) {
			emit(out, CST_EVENT_UNREACHABLE_MEMBER, m);
		} else if (un_before && !un_after) {
			emit(out, CST_EVENT_REACHABLE_MEMBER, m);
		}
	}
	// Members that vanished from the table altogether (tombstones pruned
	// elsewhere) are removed too.
	for (uint32_t i = 0; i < before->nmembers; i++) {
		const cst_member *m = &before->member[i];
		if (m->status != CST_MEMBER_REMOVED &&
		    cst_member_table_find(after, &m->address) < 0) {
			cst_member gone = *m;
			gone.status     = CST_MEMBER_REMOVED;
			emit(out, CST_EVENT_MEMBER_REMOVED, &gone);
		}
	}
}
