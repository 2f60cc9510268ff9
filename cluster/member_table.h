// cluster/member_table.h: the gossip state of cluster membership and the
// pure functions over it (Akka's model, see the cluster reference §1.1,
// §1.2): members with a status, roles and an up-number; a reachability
// table (observer -> subject); the vector-clock version; and the set of
// members that have seen that version.
//
// Everything here is a value: no I/O, no clock, no globals, no
// allocation. The same inputs
// give the same table on every node, which is what lets nodes agree on a
// leader without an election. A table is large (tens of KiB): keep it in
// the owning actor's state or on the heap, and copy it only on purpose.
//
// Canonical form (the encoder relies on it, the decoder enforces it):
// members sorted by address without duplicates; vclock nodes are members;
// reachability rows sorted by (observer, subject), observer != subject,
// and none touching a removed member.
#ifndef CASTY_CLUSTER_MEMBER_TABLE_H
#define CASTY_CLUSTER_MEMBER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <casty/config.h>

#include "cluster/address.h"
#include "cluster/vclock.h"

/** CST_MEMBERS_MAX bounds the members, removed tombstones included. */
#define CST_MEMBERS_MAX CST_VCLOCK_MAX
/** CST_ROLES_MAX bounds the roles of a member (the public bound). */
#define CST_ROLES_MAX CASTY_ROLES_MAX
/** CST_ROLE_MAX bounds a role name, NUL included. */
#define CST_ROLE_MAX CASTY_ROLE_MAX
/** CST_REACH_MAX bounds the reachability rows: one per ordered pair. */
#define CST_REACH_MAX (CST_MEMBERS_MAX * (CST_MEMBERS_MAX - 1))

_Static_assert(CST_MEMBERS_MAX <= 256, "rows name members in a byte");

/** cst_member_set is a set of member indices (the seen set, a decision). */
typedef struct cst_member_set {
	uint64_t w[(CST_MEMBERS_MAX + 63) / 64];
} cst_member_set;

static inline void
cst_member_set_add(cst_member_set *s, uint32_t i)
{
	s->w[i / 64] |= 1ull << (i % 64);
}

static inline bool
cst_member_set_has(const cst_member_set *s, uint32_t i)
{
	return (s->w[i / 64] >> (i % 64)) & 1;
}

/** cst_member_set_only makes *s the set {i}. */
static inline void
cst_member_set_only(cst_member_set *s, uint32_t i)
{
	*s = (cst_member_set){{0}};
	cst_member_set_add(s, i);
}

static inline bool
cst_member_set_equal(const cst_member_set *a, const cst_member_set *b)
{
	for (size_t k = 0; k < sizeof(a->w) / sizeof(a->w[0]); k++) {
		if (a->w[k] != b->w[k]) {
			return false;
		}
	}
	return true;
}

/**
 * cst_member_status is a member's place in its life. The numeric order is
 * the merge lattice: when two gossips disagree, the later status wins
 * (a member can only move forward; down and removed are final).
 */
typedef enum cst_member_status {
	CST_MEMBER_JOINING = 0,
	CST_MEMBER_UP      = 1,
	CST_MEMBER_LEAVING = 2,
	CST_MEMBER_EXITING = 3,
	CST_MEMBER_DOWN    = 4,
	CST_MEMBER_REMOVED = 5, // a tombstone: keeps a merge from reviving it
} cst_member_status;

#define CST_MEMBER_STATUS_COUNT 6

/** cst_member_status_name returns "joining", "up", ... ("?" if bad). */
const char *cst_member_status_name(cst_member_status s);

/** cst_roles is a member's roles: sorted, without duplicates. */
typedef struct cst_roles {
	uint32_t n;
	char     name[CST_ROLES_MAX][CST_ROLE_MAX];
} cst_roles;

/**
 * cst_roles_set checks roles (runtime/roles.h says what a role may be; at
 * most CST_ROLES_MAX of them) and makes *out their sorted, deduplicated
 * set. Returns 0, or -EINVAL with *out empty.
 */
int cst_roles_set(cst_roles *out, const char *const *roles, size_t nroles);

/** cst_roles_has says whether role (NUL-terminated) is one of r's. */
bool cst_roles_has(const cst_roles *r, const char *role);

/** cst_member is one row of the table. */
typedef struct cst_member {
	cst_address       address;
	cst_member_status status;
	// The leader numbers members as it moves them up: 1, 2, ... A
	// smaller number is an older member (0 while joining).
	uint32_t up_number;
	// Bumped by this member each time it changes its reachability rows;
	// the merge keeps the rows of the side with the larger number.
	uint64_t reach_version;
	cst_roles roles; // given at the join, never changed
} cst_member;

/**
 * cst_reach_row says that observer finds subject unreachable. A member is
 * reachable when no row names it. Rows are not versioned one by one: each
 * observer owns all of its rows and stamps them with its reach_version,
 * so merging keeps the newest opinion set of each observer whole, and an
 * older "unreachable" cannot return after the observer dropped it.
 */
typedef struct cst_reach_row {
	uint8_t observer; // member index
	uint8_t subject;  // member index
} cst_reach_row;

/** cst_member_table is the gossiped state. Initialise it before use. */
typedef struct cst_member_table {
	uint32_t      nmembers;
	uint32_t      nreach;
	cst_member_set seen; // member[i] has seen this version
	cst_vclock    version;
	cst_member    member[CST_MEMBERS_MAX];
	cst_reach_row reach[CST_REACH_MAX];
} cst_member_table;

/** cst_member_table_init makes *t the empty table. */
void cst_member_table_init(cst_member_table *t);

/** cst_member_table_find returns the index of addr in t, or -1. */
int cst_member_table_find(const cst_member_table *t, const cst_address *addr);

/**
 * cst_member_table_is_unreachable says whether some observer that is
 * neither down nor removed holds member[i] unreachable (one such observer
 * is enough, as in Akka).
 */
bool cst_member_table_is_unreachable(const cst_member_table *t, uint32_t i);

/** cst_member_table_has_seen says whether member[i] has seen t. */
bool cst_member_table_has_seen(const cst_member_table *t, uint32_t i);

/*
 * Local changes. Each one is made by the node self, which must be a member
 * (the first seed becomes one by joining itself). A change that alters the
 * table increments self in the version and resets the seen set to {self},
 * so the change spreads by gossip; a call that changes nothing leaves t
 * exactly as it was. They return 0, or a negative errno with t unchanged.
 */

/**
 * cst_member_table_join adds joiner as joining with the given roles
 * (cst_roles_set). A joiner already present changes nothing. A present
 * member at the same system@host:port with another uid is an older
 * incarnation of a restarted process: it is marked down in the same
 * change, and the leader removes it. Returns -ENOSPC when the table
 * (or its clock) is full, -EINVAL for bad roles or when self is not
 * a member afterwards.
 */
int cst_member_table_join(cst_member_table *t, const cst_address *self,
    const cst_address *joiner, const char *const *roles, size_t nroles);

/**
 * cst_member_table_leave starts a graceful leave: a joining or up member
 * becomes leaving; the leader then moves it to exiting and removed.
 * Returns -ENOENT if addr is not a member; other statuses change nothing.
 */
int cst_member_table_leave(
    cst_member_table *t, const cst_address *self, const cst_address *addr);

/**
 * cst_member_table_down marks addr down (from any status but removed).
 * A down member no longer takes part in decisions or blocks convergence;
 * the leader removes it. Returns -ENOENT if addr is not a member.
 */
int cst_member_table_down(
    cst_member_table *t, const cst_address *self, const cst_address *addr);

/**
 * cst_member_table_mark_unreachable records that self (the observer) finds
 * subject unreachable (its failure detector says so). Marking
 * again, or marking a down or removed subject, changes nothing. Returns
 * -ENOENT if either is not a member, -EINVAL if subject is self.
 */
int cst_member_table_mark_unreachable(cst_member_table *t,
    const cst_address *self, const cst_address *subject);

/**
 * cst_member_table_mark_reachable records that self finds subject
 * reachable again. A member is reachable again only when every observer
 * says so. Returns -ENOENT if either is not a member.
 */
int cst_member_table_mark_reachable(
    cst_member_table *t, const cst_address *self, const cst_address *subject);

/*
 * Merging gossip.
 */

/**
 * cst_member_table_merge joins a and b into *out (out may alias a or b):
 * members by the status lattice, reachability by the newest rows of each
 * observer, versions pointwise max. seen: the union when the versions are
 * the same, the newer side's when one is newer, empty when they are
 * concurrent (the merged state is new to everyone). Commutative,
 * idempotent and, over states made by these functions, associative.
 * Returns 0, or -ENOSPC when the union does not fit (out untouched).
 */
int cst_member_table_merge(const cst_member_table *a, const cst_member_table *b,
    cst_member_table *out);

/**
 * cst_member_table_receive is what a node does with gossip from another:
 * *local becomes merge(local, remote), seen by self too. Returns how
 * remote's version related to local's before the merge, which tells a
 * push-pull caller what to answer: CST_VCLOCK_SAME nothing; AFTER (remote
 * was newer) nothing, or its own state if the sender should learn that
 * self has seen it; BEFORE or CONCURRENT the merged state. A negative
 * errno leaves *local unchanged.
 */
int cst_member_table_receive(cst_member_table *local,
    const cst_member_table *remote, const cst_address *self);

/**
 * cst_member_table_equal compares two tables, seen sets included.
 */
bool cst_member_table_equal(
    const cst_member_table *a, const cst_member_table *b);

/*
 * Convergence and the leader (member_leader.c).
 *
 * A node never finds itself unreachable: rows that others hold about self
 * say that they cannot hear it, which self cannot act on, so the
 * functions that take self count it reachable (Akka does the same).
 */

/**
 * cst_member_table_unreachable_for says whether member[i] counts as
 * unreachable in the view of self (an index, or -1 for none): some
 * observer that is neither down nor removed holds it unreachable, and it
 * is not self.
 */
bool cst_member_table_unreachable_for(
    const cst_member_table *t, int self, uint32_t i);

/**
 * cst_member_table_observes_unreachable says whether observer itself
 * holds subject unreachable (its own row, whatever others say). Gossip
 * targets are chosen by this, so that stale rows of other observers can
 * never cut a node off from those it hears.
 */
bool cst_member_table_observes_unreachable(
    const cst_member_table *t, uint32_t observer, uint32_t subject);

/**
 * cst_member_table_converged says whether self may take leader actions on
 * t: self is a member; no other member is unreachable unless it is down,
 * removed or exiting; and every other member that is not down or removed
 * has seen this version.
 */
bool cst_member_table_converged(
    const cst_member_table *t, const cst_address *self);

/**
 * cst_member_table_forming says whether t is a cluster being formed: no
 * member has ever been up (none has an up-number).
 */
bool cst_member_table_forming(const cst_member_table *t);

/**
 * cst_member_table_orphaned says whether t is a cluster that is over: it
 * is not forming, yet no member is up, leaving or exiting, so nobody can
 * ever move its joining members up (they joined just before the rest
 * were downed or left).
 */
bool cst_member_table_orphaned(const cst_member_table *t);

/**
 * cst_member_table_leader returns the leader's index in self's view (self
 * may be NULL: nobody is exempt): the first member by address among
 * reachable up or leaving members; when there are none (a forming
 * cluster), the first reachable joining or exiting one. -1 when no
 * member qualifies.
 */
int cst_member_table_leader(const cst_member_table *t, const cst_address *self);

/**
 * cst_member_table_leader_actions does, if self is the leader and t has
 * converged, one round of leader duties: joining -> up (numbered in
 * address order; by a joining leader only while t is forming), leaving -> exiting, exiting -> removed, down ->
 * removed, one step per member per round. Downing is not a leader action
 * here: cluster/downing.h decides it. Returns the number of members
 * changed (0: t untouched), or a negative errno.
 */
int cst_member_table_leader_actions(
    cst_member_table *t, const cst_address *self);

/*
 * Membership events (member_events.c).
 */

/** cst_member_event_kind is what happened to a member. */
typedef enum cst_member_event_kind {
	CST_EVENT_MEMBER_JOINED,
	CST_EVENT_MEMBER_UP,
	CST_EVENT_MEMBER_LEFT, // reached exiting (or removed) after leaving
	CST_EVENT_MEMBER_DOWNED,
	CST_EVENT_MEMBER_REMOVED,
	CST_EVENT_UNREACHABLE_MEMBER,
	CST_EVENT_REACHABLE_MEMBER,
	CST_EVENT_LEADER_CHANGED, // not from a diff: membership.h
} cst_member_event_kind;

/** cst_member_event_name returns "MemberUp", ... ("?" if bad). */
const char *cst_member_event_name(cst_member_event_kind k);

typedef struct cst_member_event {
	cst_member_event_kind kind;
	cst_member            member; // as it is in the newer table
} cst_member_event;

/** CST_EVENTS_MAX bounds the events of one diff. */
#define CST_EVENTS_MAX (CST_MEMBERS_MAX * 4)

typedef struct cst_member_events {
	uint32_t         len;
	cst_member_event event[CST_EVENTS_MAX];
} cst_member_events;

/**
 * cst_member_events_diff lists what changed from before to after as self
 * (NULL: nobody) sees it, in address order and, per member, in the order
 * it happened: joined, up, left, downed, removed, then a reachability
 * change (never about self). A member seen for the first time in a later
 * status gets the events it would have had on the way (except joined and
 * up for one that arrives down or removed). The caller publishes them.
 */
void cst_member_events_diff(const cst_member_table *before,
    const cst_member_table *after, const cst_address *self,
    cst_member_events *out);

/**
 * cst_member_table_prune_rows drops the reachability rows that touch a
 * removed member; they can never matter again.
 */
void cst_member_table_prune_rows(cst_member_table *t);

#endif // CASTY_CLUSTER_MEMBER_TABLE_H
