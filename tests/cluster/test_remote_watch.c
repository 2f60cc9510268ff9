// tests/cluster/test_remote_watch.c: the watch sets of remote death
// watch (cluster/remote_watch.c). A pair is added once; removing takes
// exactly that pair; taking a node takes every pair of that run of it
// and no other (another run at the same host:port is another node);
// taking a local actor takes its pairs wherever they are filed; the
// callbacks see the set without what was taken; and a set emptied in
// any of these ways holds nothing.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cluster/remote_watch.h"

static cst_watch_set set;

static void
setup(void)
{
	cst_watch_set_init(&set);
}

static void
teardown(void)
{
	cst_watch_set_fini(&set);
}

TestSuite(remote_watch, .init = setup, .fini = teardown);

static cst_address
node(uint16_t port, uint64_t uid)
{
	cst_address a;
	cr_assert(eq(int, cst_address_init(&a, "watch", "10.0.0.1", port, uid,
				  NULL),
		0));
	return a;
}

// Stand-ins: refs are only compared, never followed.
static casty_ref
local_ref(uintptr_t id)
{
	return (casty_ref){(struct casty_cell *)id, 1, 0};
}

static casty_ref
remote_ref(uintptr_t id, uint32_t node_index)
{
	return (casty_ref){(struct casty_cell *)id, 1, node_index};
}

// What the callbacks saw.
static cst_watch_pair seen[16];
static size_t         nseen;
static size_t         left_when_called;

static void
record(void *arg, const cst_watch_pair *p)
{
	const cst_watch_set *s = arg;
	cr_assert(lt(sz, nseen, 16));
	seen[nseen++] = *p;
	left_when_called = cst_watch_set_count(s);
}

Test(remote_watch, a_pair_is_added_once_and_removed_once)
{
	cst_address b = node(2552, 7);
	cr_assert(eq(int, cst_watch_set_add(&set, &b, local_ref(1),
				  remote_ref(10, 1)),
		1));
	cr_assert(eq(int, cst_watch_set_add(&set, &b, local_ref(1),
				  remote_ref(10, 1)),
		0));
	cr_assert(eq(sz, cst_watch_set_count(&set), 1));
	cr_assert(not(cst_watch_set_remove(&set, local_ref(1),
		remote_ref(11, 1))));
	cr_assert(not(cst_watch_set_remove(&set, local_ref(2),
		remote_ref(10, 1))));
	cr_assert(cst_watch_set_remove(&set, local_ref(1), remote_ref(10, 1)));
	cr_assert(not(cst_watch_set_remove(&set, local_ref(1),
		remote_ref(10, 1))));
	cr_assert(eq(sz, cst_watch_set_count(&set), 0));
}

Test(remote_watch, taking_a_node_takes_that_run_only)
{
	cst_address b1 = node(2552, 7), b2 = node(2552, 8), c = node(2553, 7);
	cr_assert(eq(int, cst_watch_set_add(&set, &b1, local_ref(1),
				  remote_ref(10, 1)), 1));
	cr_assert(eq(int, cst_watch_set_add(&set, &b2, local_ref(1),
				  remote_ref(10, 2)), 1));
	cr_assert(eq(int, cst_watch_set_add(&set, &c, local_ref(2),
				  remote_ref(20, 3)), 1));
	cr_assert(eq(int, cst_watch_set_add(&set, &b1, local_ref(2),
				  remote_ref(11, 1)), 1));
	nseen = 0;
	cr_assert(eq(sz, cst_watch_set_take_node(&set, &b1, record, &set), 2));
	cr_assert(eq(sz, nseen, 2));
	cr_assert(eq(sz, left_when_called, 2)); // the two others
	for (size_t i = 0; i < nseen; i++) {
		cr_assert(cst_address_equal(&seen[i].node, &b1));
		cr_assert(eq(u32, seen[i].remote.node, 1));
	}
	cr_assert(cst_watch_set_remove(&set, local_ref(1), remote_ref(10, 2)));
	cr_assert(cst_watch_set_remove(&set, local_ref(2), remote_ref(20, 3)));
	cr_assert(eq(sz, cst_watch_set_count(&set), 0));
	nseen = 0;
	cr_assert(eq(sz, cst_watch_set_take_node(&set, &b1, record, &set), 0));
	cr_assert(eq(sz, nseen, 0));
}

Test(remote_watch, taking_a_local_actor_takes_its_pairs_on_every_node)
{
	cst_address b = node(2552, 7), c = node(2553, 9);
	cr_assert(eq(int, cst_watch_set_add(&set, &b, local_ref(1),
				  remote_ref(10, 1)), 1));
	cr_assert(eq(int, cst_watch_set_add(&set, &c, local_ref(1),
				  remote_ref(30, 2)), 1));
	cr_assert(eq(int, cst_watch_set_add(&set, &c, local_ref(3),
				  remote_ref(30, 2)), 1));
	cr_assert(cst_watch_set_has_local(&set, local_ref(1)));
	cr_assert(not(cst_watch_set_has_local(&set, local_ref(2))));
	nseen = 0;
	cr_assert(eq(sz, cst_watch_set_take_local(&set, local_ref(1), record,
				 &set),
		2));
	cr_assert(eq(sz, left_when_called, 1));
	cr_assert(not(cst_watch_set_has_local(&set, local_ref(1))));
	cr_assert(cst_watch_set_has_local(&set, local_ref(3)));
	bool saw_b = false, saw_c = false;
	for (size_t i = 0; i < nseen; i++) {
		cr_assert(casty_ref_eq(seen[i].local, local_ref(1)));
		saw_b |= cst_address_equal(&seen[i].node, &b);
		saw_c |= cst_address_equal(&seen[i].node, &c);
	}
	cr_assert(saw_b && saw_c);
}

Test(remote_watch, many_pairs_grow_the_set_and_all_come_out)
{
	cst_address b = node(2552, 7);
	for (uintptr_t i = 1; i <= 100; i++) {
		cr_assert(eq(int, cst_watch_set_add(&set, &b, local_ref(i),
					  remote_ref(1000 + i, 1)),
			1));
	}
	cr_assert(eq(sz, cst_watch_set_count(&set), 100));
	nseen = 0;
	// record keeps 16; count the rest through the return value.
	cr_assert(eq(sz, cst_watch_set_take_local(&set, local_ref(50), record,
				 &set),
		1));
	cr_assert(eq(u64, (uint64_t)(uintptr_t)seen[0].remote.cell, 1050));
	cr_assert(eq(sz, cst_watch_set_count(&set), 99));
	cst_address other = node(2552, 8);
	cr_assert(eq(sz, cst_watch_set_take_node(&set, &other, record, &set),
		0));
	cr_assert(eq(sz, cst_watch_set_count(&set), 99));
}
