// tests/cluster/test_downing.c: the split-brain resolver (cluster/
// downing.c) on hand-built views: each strategy on both sides of a clean
// partition (one side keeps itself, the other downs itself), ties, three
// sides, the indirectly connected rule (a bridge node, one broken link),
// members that joined as the partition began, and the stability clock.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <math.h>

#include "cluster/downing.h"
#include "tests/support/members.h"

// Members 1..5 (index 0..4), in address order; n06 joins later.
#define N 5
static cst_address      node[N + 1];
static cst_member_table t;

static void
setup(void)
{
	for (unsigned i = 0; i <= N; i++) {
		node[i] = member_addr(i + 1, 100 + i);
	}
}

TestSuite(downing, .init = setup);

// A table of n members, all up (up-numbers in address order) and seen.
static void
cluster_of(unsigned n)
{
	cst_member_table_init(&t);
	cr_assert(eq(int, cst_member_table_join(&t, &node[0], &node[0], NULL, 0),
	    0));
	for (unsigned i = 1; i < n; i++) {
		cr_assert(eq(int,
		    cst_member_table_join(&t, &node[0], &node[i], NULL, 0), 0));
	}
	for (unsigned i = 0; i < n; i++) {
		t.member[i].status    = CST_MEMBER_UP;
		t.member[i].up_number = i + 1;
	}
}

// observer cannot hear subject.
static void
cut(unsigned observer, unsigned subject)
{
	cr_assert(eq(int,
	    cst_member_table_mark_unreachable(&t, &node[observer], &node[subject]),
	    0));
}

// Each member of side a cannot hear any member of side b (masks of member
// numbers), and the other way round.
static void
partition(unsigned a, unsigned b)
{
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < N; j++) {
			if (((a >> i) & 1) && ((b >> j) & 1)) {
				cut(i, j);
				cut(j, i);
			}
		}
	}
}

// What the rows observed by members of side (a mask) alone say: the
// gossip of a clean partition never crosses it, so each side holds only
// its own observations.
static void
side_view(unsigned side, unsigned others)
{
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < N; j++) {
			if (((side >> i) & 1) && ((others >> j) & 1)) {
				cut(i, j);
			}
		}
	}
}

static const casty_downing_config keep_majority = {
    .strategy = CASTY_DOWNING_KEEP_MAJORITY};

static unsigned
mask_of(const cst_member_set *s)
{
	return (unsigned)s->w[0];
}

static cst_downing_decision
decide(const casty_downing_config *cfg, unsigned self, unsigned *down)
{
	cst_member_set set;
	cst_downing_decision d = cst_downing_decide(cfg, &t, (int)self, &set);
	*down                  = mask_of(&set);
	return d;
}

Test(downing, keep_majority_keeps_the_larger_side_and_downs_the_smaller)
{
	unsigned down;
	cluster_of(5);
	side_view(007, 030); // 1, 2, 3 cannot hear 4 and 5
	cr_assert(eq(int, decide(&keep_majority, 0, &down), CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 030));
	cluster_of(5);
	side_view(030, 007); // and 4, 5 cannot hear 1, 2, 3
	cr_assert(eq(int, decide(&keep_majority, 3, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 030), "the minority downs itself: %o", down);
}

Test(downing, keep_majority_breaks_a_tie_by_the_lowest_address)
{
	unsigned down;
	cluster_of(4);
	side_view(003, 014);
	cr_assert(eq(int, decide(&keep_majority, 1, &down), CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 014));
	cluster_of(4);
	side_view(014, 003);
	cr_assert(eq(int, decide(&keep_majority, 2, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 014));
}

Test(downing, keep_majority_downs_every_side_when_none_has_a_majority)
{
	unsigned down;
	// {1,2} | {3} | {4,5}: every side is smaller than the rest.
	const unsigned sides[3] = {003, 004, 030};
	for (unsigned s = 0; s < 3; s++) {
		cluster_of(5);
		side_view(sides[s], 037 & ~sides[s]);
		unsigned self = (unsigned)__builtin_ctz(sides[s]);
		cr_assert(eq(int, decide(&keep_majority, self, &down),
		    CST_DOWN_REACHABLE));
		cr_assert(eq(u32, down, sides[s]));
	}
}

Test(downing, a_member_joining_over_there_may_be_up_there_so_keep_majority_downs_all)
{
	unsigned down;
	// This side {2, 3} up; over there 1 up and 4 joining, which the
	// other side's leader may have moved up as the partition began:
	// then it is 2 against 2 and the other side has the lowest address.
	cluster_of(4);
	t.member[3].status    = CST_MEMBER_JOINING;
	t.member[3].up_number = 0;
	side_view(006, 011);
	cr_assert(eq(int, decide(&keep_majority, 1, &down), CST_DOWN_ALL));
	cr_assert(eq(u32, down, 017));
}

Test(downing, static_quorum_keeps_a_side_with_the_quorum)
{
	casty_downing_config cfg = {
	    .strategy = CASTY_DOWNING_STATIC_QUORUM, .quorum_size = 3};
	unsigned down;
	cluster_of(5);
	side_view(007, 030);
	cr_assert(eq(int, decide(&cfg, 0, &down), CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 030));
	cluster_of(5);
	side_view(030, 007);
	cr_assert(eq(int, decide(&cfg, 4, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 030));
	// Two halves of 2q members could both have a quorum: down all.
	cfg.quorum_size = 2;
	cluster_of(4);
	side_view(003, 014);
	cr_assert(eq(int, decide(&cfg, 0, &down), CST_DOWN_ALL));
	cr_assert(eq(u32, down, 017));
}

Test(downing, keep_oldest_keeps_the_side_of_the_oldest_unless_it_is_alone)
{
	casty_downing_config cfg = {
	    .strategy = CASTY_DOWNING_KEEP_OLDEST, .down_if_alone = true};
	unsigned down;
	// The oldest is 3 (up-number 1), with 4 against 1, 2, 5.
	cluster_of(5);
	t.member[0].up_number = 3;
	t.member[2].up_number = 1;
	side_view(014, 023);
	cr_assert(eq(int, decide(&cfg, 2, &down), CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 023));
	cluster_of(5);
	t.member[0].up_number = 3;
	t.member[2].up_number = 1;
	side_view(023, 014);
	cr_assert(eq(int, decide(&cfg, 0, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 023));
	// Alone, the oldest (1) downs itself and the four others stay.
	cluster_of(5);
	side_view(001, 036);
	cr_assert(eq(int, decide(&cfg, 0, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 001));
	cluster_of(5);
	side_view(036, 001);
	cr_assert(eq(int, decide(&cfg, 1, &down), CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 001));
	// Without down_if_alone the oldest stays, alone.
	cfg.down_if_alone = false;
	cluster_of(5);
	side_view(036, 001);
	cr_assert(eq(int, decide(&cfg, 1, &down), CST_DOWN_REACHABLE));
	cr_assert(eq(u32, down, 036));
}

Test(downing, down_all_downs_everyone)
{
	casty_downing_config cfg = {.strategy = CASTY_DOWNING_DOWN_ALL};
	unsigned down;
	cluster_of(3);
	cut(0, 2);
	cr_assert(eq(int, decide(&cfg, 0, &down), CST_DOWN_ALL));
	cr_assert(eq(u32, down, 007));
}

Test(downing, a_node_bridging_two_halves_stays_and_the_halves_go)
{
	unsigned down;
	// {1,2} and {4,5} cannot hear each other; 3 hears everyone, and
	// carries every row to everyone: all see the same picture.
	cluster_of(5);
	partition(003, 030);
	for (unsigned self = 0; self < N; self++) {
		cr_assert(eq(int, decide(&keep_majority, self, &down),
		    CST_DOWN_INDIRECTLY_CONNECTED));
		cr_assert(eq(u32, down, 033), "as %u sees it: %o", self, down);
	}
}

Test(downing, both_ends_of_one_broken_link_go)
{
	unsigned down;
	// Only 2 and 4 cannot hear each other (a one-way link looks the
	// same: heartbeats are answered on the link they came by).
	cluster_of(5);
	cut(1, 3);
	cut(3, 1);
	cr_assert(eq(int, decide(&keep_majority, 0, &down),
	    CST_DOWN_INDIRECTLY_CONNECTED));
	cr_assert(eq(u32, down, 012));
}

Test(downing, a_crash_and_a_broken_link_are_decided_together)
{
	unsigned down;
	// 5 crashed (everyone observes it), and the link 2-4 is broken:
	// 2 and 4 go as indirectly connected, and without their rows the
	// rest is 1, 3 against the crashed 5: a majority downs it.
	cluster_of(5);
	for (unsigned i = 0; i < 4; i++) {
		cut(i, 4);
	}
	cut(1, 3);
	cut(3, 1);
	cr_assert(eq(int, decide(&keep_majority, 0, &down),
	    CST_DOWN_INDIRECTLY_CONNECTED));
	cr_assert(eq(u32, down, 032));
}

Test(downing, nothing_is_decided_while_everyone_is_reachable)
{
	unsigned down;
	cluster_of(3);
	cr_assert(eq(int, decide(&keep_majority, 0, &down), CST_DOWN_NOTHING));
	cr_assert(eq(u32, down, 0));
	// 2 cannot hear 1: to 1 itself nobody is unreachable, to 2 (and 3)
	// 1 is, and 2 and 3 are the majority.
	cut(1, 0);
	cr_assert(eq(int, decide(&keep_majority, 0, &down), CST_DOWN_NOTHING));
	cr_assert(eq(int, decide(&keep_majority, 1, &down),
	    CST_DOWN_UNREACHABLE));
	cr_assert(eq(u32, down, 001));
	// Off: never.
	casty_downing_config off = {.strategy = CASTY_DOWNING_OFF};
	cr_assert(eq(int, decide(&off, 0, &down), CST_DOWN_NOTHING));
}

Test(downing, stable_after_follows_akkas_table_unless_given)
{
	casty_downing_config cfg = keep_majority;
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 3), 7000));
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 5), 7000));
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 6), 10000));
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 100), 20000));
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 101), 30000));
	cfg.stable_after = 2.5;
	cr_assert(eq(u64, cst_downing_stable_after_ms(&cfg, 5), 2500));
}

Test(downing, bad_configs_are_refused)
{
	casty_downing_config cfg = keep_majority;
	cr_assert(eq(int, cst_downing_config_check(&cfg), 0));
	cfg.stable_after = -1;
	cr_assert(eq(int, cst_downing_config_check(&cfg), -EINVAL));
	cfg.stable_after = NAN;
	cr_assert(eq(int, cst_downing_config_check(&cfg), -EINVAL));
	cfg = (casty_downing_config){.strategy = CASTY_DOWNING_STATIC_QUORUM};
	cr_assert(eq(int, cst_downing_config_check(&cfg), -EINVAL));
	cfg.quorum_size = 2;
	cr_assert(eq(int, cst_downing_config_check(&cfg), 0));
	cfg.strategy = (casty_downing_strategy)99;
	cr_assert(eq(int, cst_downing_config_check(&cfg), -EINVAL));
}

// The clock: tick at now, returns whether to act.
static bool
tick(cst_downing *d, const casty_downing_config *cfg, uint64_t now,
    unsigned *down)
{
	cst_member_set       set;
	cst_downing_decision decision;
	bool act = cst_downing_tick(d, cfg, &t, 0, now, &set, &decision);
	*down    = mask_of(&set);
	return act;
}

// Ticks every 500 ms, as a node's check timer does, from `from` to `to`,
// none of which may act.
static void
quiet(cst_downing *d, const casty_downing_config *cfg, uint64_t from,
    uint64_t to)
{
	unsigned down;
	for (uint64_t now = from; now < to; now += 500) {
		cr_assert(not(tick(d, cfg, now, &down)), "at %lu",
		    (unsigned long)now);
	}
	cr_assert(not(tick(d, cfg, to, &down)), "at %lu", (unsigned long)to);
}

Test(downing, decisions_wait_until_the_view_has_been_stable)
{
	casty_downing_config cfg = keep_majority;
	cfg.stable_after         = 5.0;
	cst_downing d            = {0};
	unsigned    down;
	cluster_of(5);
	cr_assert(not(tick(&d, &cfg, 1000, &down)));
	side_view(007, 020);
	quiet(&d, &cfg, 2000, 6999); // 2000: just changed
	side_view(007, 010); // 4 goes too: the clock starts again
	quiet(&d, &cfg, 7000, 11999);
	cr_assert(tick(&d, &cfg, 12000, &down));
	cr_assert(eq(u32, down, 030));
}

Test(downing, a_pause_starts_the_clock_again)
{
	casty_downing_config cfg = keep_majority;
	cfg.stable_after         = 5.0;
	cst_downing d            = {0};
	unsigned    down;
	cluster_of(5);
	side_view(007, 030);
	quiet(&d, &cfg, 1000, 3000);
	// Stopped for 10 s: the view is as old as that, not stable for it.
	quiet(&d, &cfg, 13000, 17999);
	cr_assert(tick(&d, &cfg, 18000, &down));
	cr_assert(eq(u32, down, 030));
}

Test(downing, a_view_that_never_settles_downs_all_in_the_end)
{
	casty_downing_config cfg = keep_majority;
	cfg.stable_after         = 8.0;
	cfg.down_all_when_unstable = true;
	cst_downing d              = {0};
	unsigned    down;
	cluster_of(5);
	cut(0, 4);
	cr_assert(not(tick(&d, &cfg, 0, &down)));
	// Flapping: a change every 2 s, so it is never stable for 8 s. The
	// limit is 8 s plus 3/4 of it (6 s).
	uint64_t now = 0;
	for (int i = 0; i < 6; i++) {
		now += 2000;
		if (i % 2 == 0) {
			cut(1, 4);
		} else {
			cst_member_table_mark_reachable(&t, &node[1], &node[4]);
		}
		cr_assert(not(tick(&d, &cfg, now, &down)), "at %lu",
		    (unsigned long)now);
	}
	now += 2000; // 14 s of instability
	cut(3, 4);
	cr_assert(tick(&d, &cfg, now, &down));
	cr_assert(eq(u32, down, 037));
	// Without the rule it goes on waiting.
	cfg.down_all_when_unstable = false;
	d                          = (cst_downing){0};
	cr_assert(not(tick(&d, &cfg, 0, &down)));
	cut(1, 3);
	cr_assert(not(tick(&d, &cfg, 14000, &down)));
}
