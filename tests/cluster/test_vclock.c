// tests/cluster/test_vclock.c: vector clocks (cluster/vclock.c): the four
// relations, increment, the bound, and the merge laws (commutative,
// associative, idempotent, an upper bound of both) over randomised clocks
// drawn from a fixed seed.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cluster/vclock.h"

TestSuite(vclock);

static cst_address
node(unsigned i)
{
	char host[32];
	snprintf(host, sizeof(host), "n%02u", i);
	cst_address a;
	cr_assert(eq(int, cst_address_init(&a, "sys", host, 2552, 1, NULL), 0));
	return a;
}

static void
bump(cst_vclock *c, unsigned i, unsigned times)
{
	cst_address a = node(i);
	for (unsigned k = 0; k < times; k++) {
		cr_assert(eq(int, cst_vclock_increment(c, &a), 0));
	}
}

Test(vclock, empty_clocks_are_the_same)
{
	cst_vclock a, b;
	cst_vclock_init(&a);
	cst_vclock_init(&b);
	cr_assert(eq(int, cst_vclock_compare(&a, &b), CST_VCLOCK_SAME));
}

Test(vclock, increment_makes_a_clock_after_its_past)
{
	cst_vclock a, b;
	cst_vclock_init(&a);
	bump(&a, 1, 1);
	b = a;
	bump(&b, 2, 1);
	cr_assert(eq(int, cst_vclock_compare(&a, &b), CST_VCLOCK_BEFORE));
	cr_assert(eq(int, cst_vclock_compare(&b, &a), CST_VCLOCK_AFTER));
	cst_address n2 = node(2);
	cr_assert(eq(u64, cst_vclock_get(&b, &n2), 1));
	cr_assert(eq(u64, cst_vclock_get(&a, &n2), 0));
}

Test(vclock, independent_increments_are_concurrent)
{
	cst_vclock base, a, b;
	cst_vclock_init(&base);
	bump(&base, 0, 3);
	a = b = base;
	bump(&a, 1, 1);
	bump(&b, 2, 1);
	cr_assert(eq(int, cst_vclock_compare(&a, &b), CST_VCLOCK_CONCURRENT));
	cr_assert(eq(int, cst_vclock_compare(&b, &a), CST_VCLOCK_CONCURRENT));
}

Test(vclock, entries_stay_sorted_whatever_the_insertion_order)
{
	cst_vclock a, b;
	cst_vclock_init(&a);
	cst_vclock_init(&b);
	for (unsigned i = 0; i < 10; i++) {
		bump(&a, i, 1);
		bump(&b, 9 - i, 1);
	}
	cr_assert(eq(int, cst_vclock_compare(&a, &b), CST_VCLOCK_SAME));
	for (uint32_t i = 0; i < a.len; i++) {
		cr_assert(
		    cst_address_equal(&a.entry[i].node, &b.entry[i].node));
		if (i > 0) {
			cr_assert(lt(int,
			    cst_address_compare(
			        &a.entry[i - 1].node, &a.entry[i].node),
			    0));
		}
	}
}

Test(vclock, a_full_clock_refuses_a_new_node_but_counts_old_ones)
{
	cst_vclock c;
	cst_vclock_init(&c);
	for (unsigned i = 0; i < CST_VCLOCK_MAX; i++) {
		bump(&c, i, 1);
	}
	cst_address extra  = node(CST_VCLOCK_MAX);
	cst_vclock  before = c;
	cr_assert(eq(int, cst_vclock_increment(&c, &extra), -ENOSPC));
	cr_assert(cst_vclock_equal(&c, &before));
	bump(&c, 0, 1);

	cst_vclock other;
	cst_vclock_init(&other);
	bump(&other, CST_VCLOCK_MAX, 1);
	cst_vclock out = before;
	cr_assert(eq(int, cst_vclock_merge(&c, &other, &out), -ENOSPC));
	cr_assert(cst_vclock_equal(&out, &before));
}

Test(vclock, a_counter_at_its_maximum_overflows_cleanly)
{
	cst_vclock c;
	cst_vclock_init(&c);
	bump(&c, 0, 1);
	c.entry[0].counter = UINT64_MAX;
	cst_address n0     = node(0);
	cr_assert(eq(int, cst_vclock_increment(&c, &n0), -EOVERFLOW));
	cr_assert(eq(u64, c.entry[0].counter, UINT64_MAX));
}

// xorshift64*: deterministic, so a failure reproduces.
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned
rand_below(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717ull) >> 33) % n;
}

static cst_vclock
random_clock(void)
{
	cst_vclock c;
	cst_vclock_init(&c);
	unsigned n = rand_below(6);
	for (unsigned k = 0; k < n; k++) {
		bump(&c, rand_below(8), 1 + rand_below(3));
	}
	return c;
}

Test(vclock, merge_is_commutative_associative_idempotent_and_an_upper_bound)
{
	for (int round = 0; round < 500; round++) {
		cst_vclock a = random_clock(), b = random_clock();
		cst_vclock c = random_clock();
		cst_vclock ab, ba, ab_c, bc, a_bc, aa;
		cr_assert(eq(int, cst_vclock_merge(&a, &b, &ab), 0));
		cr_assert(eq(int, cst_vclock_merge(&b, &a, &ba), 0));
		cr_assert(cst_vclock_equal(&ab, &ba));
		cst_vclock_merge(&ab, &c, &ab_c);
		cst_vclock_merge(&b, &c, &bc);
		cst_vclock_merge(&a, &bc, &a_bc);
		cr_assert(cst_vclock_equal(&ab_c, &a_bc));
		cst_vclock_merge(&a, &a, &aa);
		cr_assert(cst_vclock_equal(&aa, &a));
		cst_vclock_order oa = cst_vclock_compare(&a, &ab);
		cr_assert(oa == CST_VCLOCK_BEFORE || oa == CST_VCLOCK_SAME);
		// compare is antisymmetric
		cst_vclock_order x = cst_vclock_compare(&a, &b);
		cst_vclock_order y = cst_vclock_compare(&b, &a);
		cr_assert(
		    eq(int, x == CST_VCLOCK_BEFORE, y == CST_VCLOCK_AFTER));
		cr_assert(eq(int, x == CST_VCLOCK_SAME, y == CST_VCLOCK_SAME));
		cr_assert(eq(int, x == CST_VCLOCK_CONCURRENT,
		    y == CST_VCLOCK_CONCURRENT));
		// in-place merge (out aliases a)
		cst_vclock inplace = a;
		cst_vclock_merge(&inplace, &b, &inplace);
		cr_assert(cst_vclock_equal(&inplace, &ab));
	}
}
