// tests/cluster/test_member_table.c: the member table (cluster/
// member_table.c, member_leader.c, member_events.c): local changes, the
// status lattice and the merge laws, convergence, the leader and its
// actions (promotion, graceful leave, removal of the downed, a restarted
// incarnation replacing the old one), a node's own view (never
// unreachable to itself), and the membership events computed by diffing
// two tables.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "tests/support/members.h"

TestSuite(member_table);

// Tables are large: keep the working set in static storage.
static cst_member_table t1, t2, t3, tmp, tmp2;

static cst_address A, B, C, D;

static void
setup(void)
{
	A = member_addr(1, 1);
	B = member_addr(2, 1);
	C = member_addr(3, 1);
	D = member_addr(4, 1);
}

TestSuite(members, .init = setup);

// A node table where self joined itself and the others joined through it.
static void
form(cst_member_table *t, const cst_address *self, const cst_address *others,
    size_t n)
{
	cst_member_table_init(t);
	cr_assert(eq(int, cst_member_table_join(t, self, self, NULL, 0), 0));
	for (size_t i = 0; i < n; i++) {
		cr_assert(eq(int,
		    cst_member_table_join(t, self, &others[i], NULL, 0), 0));
	}
}

// Sets the seen set of t to the members whose bit is set in mask.
static void
seen_by(cst_member_table *t, uint64_t mask)
{
	t->seen = (cst_member_set){{0}};
	for (uint32_t i = 0; i < 64; i++) {
		if ((mask >> i) & 1) {
			cst_member_set_add(&t->seen, i);
		}
	}
}

// The seen set of t as a mask of its first 64 members.
static uint64_t
seen_mask(const cst_member_table *t)
{
	return t->seen.w[0];
}

// Marks every member as having seen t (as if gossip had gone round).
static void
all_seen(cst_member_table *t)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member_set_add(&t->seen, i);
	}
}

Test(members, join_adds_joining_members_in_address_order)
{
	cst_address others[] = {C, B};
	form(&t1, &A, others, 2);
	cr_assert(eq(u32, t1.nmembers, 3));
	cr_assert(cst_address_equal(&t1.member[0].address, &A));
	cr_assert(cst_address_equal(&t1.member[1].address, &B));
	cr_assert(cst_address_equal(&t1.member[2].address, &C));
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, t1.member[i].status, CST_MEMBER_JOINING));
	}
	cr_assert(eq(u64, cst_vclock_get(&t1.version, &A), 3));
	cr_assert(eq(u64, seen_mask(&t1), 1)); // only A, at index 0
	// Joining again changes nothing.
	tmp = t1;
	cr_assert(eq(int, cst_member_table_join(&t1, &A, &B, NULL, 0), 0));
	cr_assert(cst_member_table_equal(&t1, &tmp));
}

Test(members, join_sorts_and_deduplicates_roles_and_rejects_bad_ones)
{
	const char *roles[] = {"worker", "api", "worker"};
	cst_member_table_init(&t1);
	cr_assert(eq(int, cst_member_table_join(&t1, &A, &A, roles, 3), 0));
	cr_assert(eq(u32, t1.member[0].roles.n, 2));
	cr_assert(eq(str, t1.member[0].roles.name[0], "api"));
	cr_assert(eq(str, t1.member[0].roles.name[1], "worker"));
	cr_assert(cst_roles_has(&t1.member[0].roles, "worker"));
	cr_assert(not(cst_roles_has(&t1.member[0].roles, "work")));
	// Empty, too long, and with the characters role lists are printed
	// with (a comma, a space) or that would break a log line.
	const char *bad[] = {"", "0123456789012345678901234567890x", "a,b",
	    "a b", "tab\there", "nl\n", "del\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = cst_member_table_join(&t1, &A, &B, &bad[i], 1);
		cr_assert(eq(int, rc, -EINVAL), "role '%s'", bad[i]);
	}
	// 31 bytes is the longest a role may be.
	const char *longest[] = {"0123456789012345678901234567890"};
	cst_roles   r;
	cr_assert(eq(int, cst_roles_set(&r, longest, 1), 0));
	cr_assert(eq(u32, r.n, 1));
	cr_assert(eq(int, cst_roles_set(&r, NULL, 1), -EINVAL));
	cr_assert(eq(u32, r.n, 0));
	const char *many[CST_ROLES_MAX + 1];
	for (int i = 0; i <= CST_ROLES_MAX; i++) {
		many[i] = "r";
	}
	cr_assert(
	    eq(int, cst_member_table_join(&t1, &A, &B, many, CST_ROLES_MAX + 1),
	        -EINVAL));
	cr_assert(eq(u32, t1.nmembers, 1));
}

Test(members, a_node_that_is_not_a_member_cannot_change_the_table)
{
	cst_member_table_init(&t1);
	cr_assert(
	    eq(int, cst_member_table_join(&t1, &A, &B, NULL, 0), -EINVAL));
	cr_assert(eq(u32, t1.nmembers, 0));
}

Test(members, a_full_table_refuses_a_join)
{
	cst_member_table_init(&t1);
	cst_address self = member_addr(0, 1);
	cst_member_table_join(&t1, &self, &self, NULL, 0);
	for (unsigned i = 1; i < CST_MEMBERS_MAX; i++) {
		cst_address a = member_addr(i, 1);
		cr_assert(
		    eq(int, cst_member_table_join(&t1, &self, &a, NULL, 0), 0));
	}
	cst_address extra = member_addr(CST_MEMBERS_MAX, 1);
	tmp               = t1;
	cr_assert(eq(
	    int, cst_member_table_join(&t1, &self, &extra, NULL, 0), -ENOSPC));
	cr_assert(cst_member_table_equal(&t1, &tmp));
}

Test(members, leave_and_down_follow_the_lattice)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	cr_assert(eq(int, cst_member_table_leave(&t1, &A, &B), 0));
	cr_assert(eq(int, status_of(&t1, &B), CST_MEMBER_LEAVING));
	cr_assert(eq(int, cst_member_table_down(&t1, &A, &B), 0));
	cr_assert(eq(int, status_of(&t1, &B), CST_MEMBER_DOWN));
	// Down is final: leaving again changes nothing.
	tmp = t1;
	cr_assert(eq(int, cst_member_table_leave(&t1, &A, &B), 0));
	cr_assert(cst_member_table_equal(&t1, &tmp));
	cr_assert(eq(int, cst_member_table_down(&t1, &A, &D), -ENOENT));
}

Test(members, merge_keeps_the_later_status_of_each_member)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	t2 = t1;
	cst_member_table_leave(&t1, &A, &B); // A's side: B leaving
	cst_member_table_down(&t2, &A, &C);  // another change: C down
	// Both made by A here; make them concurrent by hand, as if B made
	// one and C the other.
	cst_vclock_increment(&t1.version, &C);
	cst_vclock_increment(&t2.version, &B);
	cr_assert(eq(int, cst_vclock_compare(&t1.version, &t2.version),
	    CST_VCLOCK_CONCURRENT));
	cr_assert(eq(int, cst_member_table_merge(&t1, &t2, &tmp), 0));
	cr_assert(eq(int, status_of(&tmp, &B), CST_MEMBER_LEAVING));
	cr_assert(eq(int, status_of(&tmp, &C), CST_MEMBER_DOWN));
	cr_assert(eq(u64, seen_mask(&tmp), 0)); // concurrent: nobody has seen it
	cr_assert(eq(int, cst_member_table_merge(&t2, &t1, &tmp2), 0));
	cr_assert(cst_member_table_equal(&tmp, &tmp2));
}

Test(members, the_status_lattice_orders_every_pair)
{
	// For every pair of statuses, the merge keeps the larger one.
	for (int x = 0; x < CST_MEMBER_STATUS_COUNT; x++) {
		for (int y = 0; y < CST_MEMBER_STATUS_COUNT; y++) {
			form(&t1, &A, &B, 1);
			t2                  = t1;
			t1.member[1].status = (cst_member_status)x;
			t2.member[1].status = (cst_member_status)y;
			cr_assert(
			    eq(int, cst_member_table_merge(&t1, &t2, &tmp), 0));
			cr_assert(eq(int, tmp.member[1].status, x > y ? x : y));
		}
	}
	cr_assert(eq(str, (char *)cst_member_status_name(CST_MEMBER_EXITING),
	    "exiting"));
}

Test(members, merge_of_equal_versions_unions_seen)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	t2 = t1;
	cst_member_table_receive(&t2, &t1, &B); // B has seen it
	t3 = t1;
	cst_member_table_receive(&t3, &t1, &C);
	cr_assert(eq(int, cst_member_table_merge(&t2, &t3, &tmp), 0));
	cr_assert(eq(u64, seen_mask(&tmp), 7));
}

Test(members, receive_of_a_newer_version_takes_its_seen_plus_self)
{
	cst_address others[] = {B};
	form(&t1, &A, others, 1);
	cst_member_table_init(&t2); // B knows nothing yet
	int order = cst_member_table_receive(&t2, &t1, &B);
	cr_assert(eq(int, order, CST_VCLOCK_AFTER));
	cr_assert(eq(u64, seen_mask(&t2), 3));
	cr_assert(
	    eq(int, cst_member_table_receive(&t2, &t1, &B), CST_VCLOCK_SAME));
}

Test(members, reachability_keeps_each_observers_newest_opinion)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	t2 = t1;
	// B (in t2) finds C unreachable, then reachable again; A's older
	// copy of B's opinion must not bring the row back.
	cst_member_table_mark_unreachable(&t2, &B, &C);
	t3 = t2; // has B's "C unreachable" (B version 1)
	cst_member_table_mark_reachable(&t2, &B, &C);
	cr_assert(eq(int, cst_member_table_merge(&t3, &t2, &tmp), 0));
	int c = cst_member_table_find(&tmp, &C);
	cr_assert(not(cst_member_table_is_unreachable(&tmp, (uint32_t)c)));
	// And one observer is enough to make a member unreachable.
	cr_assert(eq(int, cst_member_table_merge(&t1, &t3, &tmp), 0));
	cr_assert(cst_member_table_is_unreachable(&tmp, (uint32_t)c));
	// Marking self, or marking twice, is refused or changes nothing.
	cr_assert(eq(
	    int, cst_member_table_mark_unreachable(&t3, &B, &B), -EINVAL));
	tmp = t3;
	cr_assert(
	    eq(int, cst_member_table_mark_unreachable(&t3, &B, &C), 0));
	cr_assert(cst_member_table_equal(&t3, &tmp));
}

// xorshift64*: deterministic, so a failure reproduces.
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static unsigned
rand_below(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717ull) >> 33) % n;
}

// Four nodes that change their own tables at random and gossip at
// random: the states the merge laws are about (equal versions always
// mean equal contents, as they do in a real cluster).
#define NODES 4
static cst_member_table world[NODES];
static cst_address      who[NODES];

static void
random_step(void)
{
	unsigned          i = rand_below(NODES), j = rand_below(NODES);
	cst_member_table *t = &world[i];
	switch (rand_below(6)) {
	case 0:
		cst_member_table_leave(t, &who[i], &who[j]);
		break;
	case 1:
		if (rand_below(4) == 0) {
			cst_member_table_down(t, &who[i], &who[j]);
		}
		break;
	case 2:
		if (i != j) {
			cst_member_table_mark_unreachable(
			    t, &who[i], &who[j]);
		}
		break;
	case 3:
		cst_member_table_mark_reachable(t, &who[i], &who[j]);
		break;
	case 4:
		cst_member_table_leader_actions(t, &who[i]);
		break;
	default:
		cr_assert(ge(
		    int, cst_member_table_receive(t, &world[j], &who[i]), 0));
		break;
	}
}

static bool
equal_but_seen(const cst_member_table *a, const cst_member_table *b)
{
	tmp2      = *a;
	tmp2.seen = b->seen;
	return cst_member_table_equal(&tmp2, b);
}

Test(members, merge_laws_hold_over_random_histories)
{
	for (unsigned i = 0; i < NODES; i++) {
		who[i] = member_addr(i, 7);
	}
	form(&world[0], &who[0], &who[1], NODES - 1);
	for (unsigned i = 1; i < NODES; i++) {
		cst_member_table_init(&world[i]);
		cst_member_table_receive(&world[i], &world[0], &who[i]);
	}
	static cst_member_table ab, ba, ab_c, bc, a_bc, aa;
	for (uint64_t step = 0; step < 3000; step++) {
		random_step();
		const cst_member_table *a = &world[rand_below(NODES)];
		const cst_member_table *b = &world[rand_below(NODES)];
		const cst_member_table *c = &world[rand_below(NODES)];
		cr_assert(eq(int, cst_member_table_merge(a, b, &ab), 0));
		cr_assert(eq(int, cst_member_table_merge(b, a, &ba), 0));
		cr_assert(cst_member_table_equal(&ab, &ba), "step %lu",
		    (unsigned long)step);
		cr_assert(eq(int, cst_member_table_merge(a, a, &aa), 0));
		cr_assert(cst_member_table_equal(&aa, a));
		cst_member_table_merge(&ab, c, &ab_c);
		cst_member_table_merge(b, c, &bc);
		cst_member_table_merge(a, &bc, &a_bc);
		// Contents are associative; seen can differ (it is about one
		// version, not a lattice).
		cr_assert(equal_but_seen(&ab_c, &a_bc), "step %lu",
		    (unsigned long)step);
		// The merge is an upper bound of both inputs' statuses.
		for (uint32_t k = 0; k < a->nmembers; k++) {
			const cst_member *m =
			    member_of(&ab, &a->member[k].address);
			cr_assert(m != NULL);
			cr_assert(ge(int, m->status, a->member[k].status));
		}
	}
}

/*
 * Convergence.
 */

Test(members, converged_when_every_member_has_seen)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	cr_assert(not(cst_member_table_converged(&t1, &A)));
	all_seen(&t1);
	cr_assert(cst_member_table_converged(&t1, &A));
	cr_assert(not(cst_member_table_converged(&t1, &D))); // not a member
}

Test(members, one_unseen_member_blocks_convergence)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	all_seen(&t1);
	t1.seen.w[0] &= ~(1ull << 2);
	cr_assert(not(cst_member_table_converged(&t1, &A)));
}

Test(members, an_unreachable_member_blocks_convergence_until_down)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	cst_member_table_mark_unreachable(&t1, &A, &C);
	all_seen(&t1);
	cr_assert(not(cst_member_table_converged(&t1, &A)));
	cst_member_table_down(&t1, &A, &C);
	seen_by(&t1, 3); // A and B have seen it; C, being down, need not
	cr_assert(cst_member_table_converged(&t1, &A));
}

Test(members, a_down_observer_no_longer_makes_anyone_unreachable)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	cst_member_table_mark_unreachable(&t1, &C, &B);
	int b = cst_member_table_find(&t1, &B);
	cr_assert(cst_member_table_is_unreachable(&t1, (uint32_t)b));
	cst_member_table_down(&t1, &A, &C);
	cr_assert(not(cst_member_table_is_unreachable(&t1, (uint32_t)b)));
}

Test(members, an_unreachable_exiting_member_does_not_block)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	t1.member[2].status = CST_MEMBER_EXITING;
	cst_member_table_mark_unreachable(&t1, &A, &C);
	seen_by(&t1, 3);
	cr_assert(cst_member_table_converged(&t1, &A));
}

/*
 * The leader and its actions.
 */

Test(members, leader_is_the_first_reachable_up_member)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	// Forming: nobody is up, the first reachable member leads.
	cr_assert(eq(int, cst_member_table_leader(&t1, NULL), 0));
	t1.member[1].status = CST_MEMBER_UP;
	t1.member[2].status = CST_MEMBER_UP;
	cr_assert(eq(int, cst_member_table_leader(&t1, NULL), 1)); // A joining
	t1.member[0].status = CST_MEMBER_UP;
	cr_assert(eq(int, cst_member_table_leader(&t1, NULL), 0));
	cst_member_table_mark_unreachable(&t1, &B, &A);
	cr_assert(eq(int, cst_member_table_leader(&t1, NULL), 1));
	t1.member[1].status = CST_MEMBER_DOWN; // B's opinion stops counting
	cr_assert(eq(int, cst_member_table_leader(&t1, NULL), 0));
}

Test(members, joining_becomes_up_only_when_converged)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 0));
	all_seen(&t1);
	// B is not the leader: nothing happens on its side.
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &B), 0));
	uint64_t before = cst_vclock_get(&t1.version, &A);
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 3));
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, t1.member[i].status, CST_MEMBER_UP));
		cr_assert(eq(u32, t1.member[i].up_number, (uint32_t)i + 1));
	}
	cr_assert(eq(u64, cst_vclock_get(&t1.version, &A), before + 1));
	cr_assert(eq(u64, seen_mask(&t1), 1));
	// A later joiner gets the next up-number.
	cst_member_table_join(&t1, &A, &D, NULL, 0);
	all_seen(&t1);
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 1));
	cr_assert(eq(u32, member_of(&t1, &D)->up_number, 4));
}

static void
up_all(cst_member_table *t, const cst_address *leader)
{
	all_seen(t);
	cst_member_table_leader_actions(t, leader);
	all_seen(t);
}

Test(members, graceful_leave_goes_leaving_exiting_removed_with_member_left)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	up_all(&t1, &A);
	cr_assert(eq(int, cst_member_table_leave(&t1, &B, &B), 0));
	tmp = t1;
	cr_assert(
	    eq(int, cst_member_table_leader_actions(&t1, &A),
	        0)); // not converged: only B has seen
	all_seen(&t1);
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 1));
	cr_assert(eq(int, status_of(&t1, &B), CST_MEMBER_EXITING));

	static cst_member_events ev;
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 1));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_LEFT));
	cr_assert(cst_address_equal(&ev.event[0].member.address, &B));

	tmp = t1;
	all_seen(&t1);
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 1));
	cr_assert(eq(int, status_of(&t1, &B), CST_MEMBER_REMOVED));
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 1));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_REMOVED));
}

Test(members, a_downed_member_is_removed_once_the_rest_have_seen_it)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	up_all(&t1, &A);
	cst_member_table_mark_unreachable(&t1, &B, &C);
	all_seen(&t1);
	cr_assert(not(cst_member_table_converged(&t1, &A)));
	cr_assert(eq(int, cst_member_table_leader_actions(&t1, &A), 0));
	// Nobody downs C on the leader's own: downing decides that.
	cr_assert(eq(int, status_of(&t1, &C), CST_MEMBER_UP));
	cr_assert(eq(int, cst_member_table_down(&t1, &A, &C), 0));
	// Once A and B have seen the down, C no longer blocks: removed.
	seen_by(&t1, 3);
	cr_assert(eq(int, cst_member_table_leader_actions(&t1, &A), 1));
	cr_assert(eq(int, status_of(&t1, &C), CST_MEMBER_REMOVED));
	cr_assert(eq(u32, t1.nreach, 0)); // rows about C are gone
}

Test(members, a_node_is_never_unreachable_to_itself)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	up_all(&t1, &A);
	// B and C cannot hear A (a one-way link, or a stale row): to the
	// others A is unreachable, to A itself it is not.
	cst_member_table_mark_unreachable(&t1, &B, &A);
	all_seen(&t1);
	cr_assert(cst_member_table_is_unreachable(&t1, 0));
	cr_assert(not(cst_member_table_unreachable_for(&t1, 0, 0)));
	cr_assert(cst_member_table_unreachable_for(&t1, 1, 0));
	cr_assert(cst_member_table_converged(&t1, &A));
	cr_assert(not(cst_member_table_converged(&t1, &B)));
	cr_assert(eq(int, cst_member_table_leader(&t1, &A), 0));
	cr_assert(eq(int, cst_member_table_leader(&t1, &B), 1));
	// Only A's own rows decide whom A hears.
	cr_assert(not(cst_member_table_observes_unreachable(&t1, 0, 1)));
	cr_assert(cst_member_table_observes_unreachable(&t1, 1, 0));
}

Test(members, a_restarted_incarnation_replaces_the_old_one)
{
	cst_address others[] = {B, C};
	form(&t1, &A, others, 2);
	up_all(&t1, &A);
	cst_address c2 = member_addr(3, 2); // C restarted
	tmp            = t1;
	cr_assert(eq(int, cst_member_table_join(&t1, &A, &c2, NULL, 0), 0));
	cr_assert(eq(int, status_of(&t1, &C), CST_MEMBER_DOWN));
	cr_assert(eq(int, status_of(&t1, &c2), CST_MEMBER_JOINING));
	static cst_member_events ev;
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 2));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_DOWNED));
	cr_assert(eq(int, ev.event[1].kind, CST_EVENT_MEMBER_JOINED));
	// The old C need not see anything; the new one must.
	int nc2 = cst_member_table_find(&t1, &c2);
	seen_by(&t1, 3 | (1ull << nc2));
	cr_assert(eq(
	    int, cst_member_table_leader_actions(&t1, &A), 2));
	cr_assert(eq(int, status_of(&t1, &C), CST_MEMBER_REMOVED));
	cr_assert(eq(int, status_of(&t1, &c2), CST_MEMBER_UP));
	cr_assert(eq(u32, member_of(&t1, &c2)->up_number, 4));
}

Test(members, a_joining_leader_moves_members_up_only_while_forming)
{
	// Forming: A joined itself, B through it; nobody has been up.
	cst_address others[] = {B};
	form(&t1, &A, others, 1);
	cr_assert(cst_member_table_forming(&t1));
	cr_assert(not(cst_member_table_orphaned(&t1)));
	all_seen(&t1);
	cr_assert(eq(int, cst_member_table_leader(&t1, &A), 0));
	cr_assert(eq(int, cst_member_table_leader_actions(&t1, &A), 2));
	cr_assert(not(cst_member_table_forming(&t1)));
	// C joins, then A and B are downed (a down-all C did not see): C
	// leads what is left but must not carry on as a cluster of one.
	cr_assert(eq(int, cst_member_table_join(&t1, &A, &C, NULL, 0), 0));
	cr_assert(eq(int, cst_member_table_down(&t1, &A, &A), 0));
	cr_assert(eq(int, cst_member_table_down(&t1, &A, &B), 0));
	all_seen(&t1);
	cr_assert(cst_member_table_orphaned(&t1));
	cr_assert(eq(int, cst_member_table_leader(&t1, &C), 2));
	cr_assert(eq(int, cst_member_table_leader_actions(&t1, &C), 2));
	cr_assert(eq(int, status_of(&t1, &A), CST_MEMBER_REMOVED));
	cr_assert(eq(int, status_of(&t1, &C), CST_MEMBER_JOINING));
	cr_assert(cst_member_table_orphaned(&t1));
}

/*
 * Events.
 */

Test(members, diff_reports_up_unreachable_and_reachable)
{
	cst_address others[] = {B};
	form(&t1, &A, others, 1);
	all_seen(&t1);
	tmp = t1;
	cst_member_table_leader_actions(&t1, &A);
	static cst_member_events ev;
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 2));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_UP));
	cr_assert(eq(int, ev.event[1].kind, CST_EVENT_MEMBER_UP));
	cr_assert(eq(
	    str, (char *)cst_member_event_name(ev.event[0].kind), "MemberUp"));

	tmp = t1;
	cst_member_table_mark_unreachable(&t1, &A, &B);
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 1));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_UNREACHABLE_MEMBER));
	tmp = t1;
	cst_member_table_mark_reachable(&t1, &A, &B);
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 1));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_REACHABLE_MEMBER));
	// No change, no events.
	cst_member_events_diff(&t1, &t1, NULL, &ev);
	cr_assert(eq(u32, ev.len, 0));
}

Test(members, diff_fills_in_the_steps_a_node_never_saw)
{
	cst_address others[] = {B};
	form(&t1, &A, others, 1);
	cst_member_table_init(&tmp); // a newcomer knows nobody
	t1.member[1].status    = CST_MEMBER_EXITING;
	t1.member[1].up_number = 2;
	static cst_member_events ev;
	cst_member_events_diff(&tmp, &t1, NULL, &ev);
	// A: joined. B: joined, up, left.
	cr_assert(eq(u32, ev.len, 4));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_JOINED));
	cr_assert(eq(int, ev.event[1].kind, CST_EVENT_MEMBER_JOINED));
	cr_assert(eq(int, ev.event[2].kind, CST_EVENT_MEMBER_UP));
	cr_assert(eq(int, ev.event[3].kind, CST_EVENT_MEMBER_LEFT));
	// Leaving straight to removed: left, then removed.
	form(&t2, &A, others, 1);
	t2.member[1].status = CST_MEMBER_LEAVING;
	t3                  = t2;
	t3.member[1].status = CST_MEMBER_REMOVED;
	cst_member_events_diff(&t2, &t3, NULL, &ev);
	cr_assert(eq(u32, ev.len, 2));
	cr_assert(eq(int, ev.event[0].kind, CST_EVENT_MEMBER_LEFT));
	cr_assert(eq(int, ev.event[1].kind, CST_EVENT_MEMBER_REMOVED));
	// A tombstone of a stranger is not news.
	cst_member_table_init(&tmp);
	cst_member_events_diff(&tmp, &t3, NULL, &ev);
	cr_assert(eq(u32, ev.len, 1)); // A joined only
}
