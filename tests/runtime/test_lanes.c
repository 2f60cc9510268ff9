// tests/runtime/test_lanes.c: lanes of envelopes (runtime/lanes.c). A
// target's first message takes its envelope from the pool and its next
// ones from its lane, in the order the pool had them; a target that takes
// another's slot gives that lane's unused blocks back; release gives
// back everything; a target whose envelopes change size gives its lane
// back to the old class; large envelopes never use a lane; an empty pool
// hands out fresh blocks. No block is handed out twice, and none is lost
// (in the sanitizer builds, LeakSanitizer reports a lost one).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/lanes.h"

#define BLOCKS 128 // known blocks; under a magazine, so one holds them all

static cst_pool  pool;
static cst_lanes lanes;
static void     *known[BLOCKS];

static int
by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a;
	uintptr_t y = (uintptr_t) * (void *const *)b;
	return x < y ? -1 : x > y;
}

// A pool holding BLOCKS 32-byte blocks of class 0, put in address order.
static void
setup(void)
{
	cst_pool_init(&pool);
	cst_lanes_init(&lanes);
	for (int i = 0; i < BLOCKS; i++) {
		known[i] = cst_pool_get(&pool, 0, 32);
	}
	qsort(known, BLOCKS, sizeof known[0], by_address);
	cst_pool_give(&pool, 0, known, BLOCKS);
}

static void
teardown(void)
{
	cst_lanes_release(&lanes, &pool);
	cst_pool_fini(&pool);
	cst_pool_depot_drain();
}

static int
index_of(void *p)
{
	for (int i = 0; i < BLOCKS; i++) {
		if (known[i] == p) {
			return i;
		}
	}
	return -1;
}

// Two distinct targets in one lane slot: 4 KiB apart (64 slots of 64).
static char targets[2 * 4096] __attribute__((aligned(64)));
#define TARGET_A ((const void *)&targets[0])
#define TARGET_B ((const void *)&targets[4096])

Test(lanes, a_targets_later_messages_come_from_its_lane_in_pool_order,
	.init = setup, .fini = teardown)
{
	void *out[CST_LANE_BLOCKS + 2];
	int   n = 0;
	// The first comes off the top of the pool, the last block put.
	out[n] = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	cr_assert(eq(int, index_of(out[n++]), BLOCKS - 1));
	// The lane then takes the CST_LANE_BLOCKS below it, lowest first.
	int first = BLOCKS - 1 - CST_LANE_BLOCKS;
	for (int k = 0; k < CST_LANE_BLOCKS; k++) {
		out[n] = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
		cr_assert(eq(int, index_of(out[n++]), first + k));
	}
	// Exhausted: the next refill takes what the pool has left.
	out[n] = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	cr_assert(eq(int, index_of(out[n++]), 0));
	cst_pool_give(&pool, 0, out, (uint32_t)n);
}

Test(lanes, another_target_in_the_slot_gives_the_unused_blocks_back,
	.init = setup, .fini = teardown)
{
	void *a0 = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	void *a1 = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	cr_assert(not(eq(ptr, a0, a1)));
	// B displaces A's lane: A's unused blocks go back on top of the pool
	// and B's first envelope is the last of them.
	void *b0 = cst_lanes_get(&lanes, &pool, TARGET_B, 0, 32);
	cr_assert(eq(int, index_of(b0), BLOCKS - 2));
	// Every block but the three handed out is in the pool: taking them
	// all finds each known block exactly once.
	void    *back[BLOCKS];
	uint32_t n = cst_pool_take(&pool, 0, back, BLOCKS - 3);
	cr_assert(eq(u32, n, BLOCKS - 3));
	bool seen[BLOCKS] = {false};
	for (uint32_t i = 0; i < n; i++) {
		int k = index_of(back[i]);
		cr_assert(k >= 0 && !seen[k], "block %u unknown or twice", i);
		seen[k] = true;
	}
	cr_assert(not(seen[index_of(a0)] || seen[index_of(a1)] ||
		seen[index_of(b0)]));
	cst_pool_give(&pool, 0, back, n);
	void *out[] = {a0, a1, b0};
	cst_pool_give(&pool, 0, out, 3);
}

Test(lanes, release_gives_every_reserved_block_back, .init = setup,
	.fini = teardown)
{
	// Lanes for two targets in different slots, each holding blocks.
	const void *t[2] = {TARGET_A, (const char *)TARGET_A + 64};
	void       *used[4];
	for (int i = 0; i < 2; i++) {
		used[2 * i] = cst_lanes_get(&lanes, &pool, t[i], 0, 32);
		used[2 * i + 1] = cst_lanes_get(&lanes, &pool, t[i], 0, 32);
	}
	cst_lanes_release(&lanes, &pool);
	cr_assert(eq(u64, lanes.held, 0));
	void    *back[BLOCKS];
	uint32_t n = cst_pool_take(&pool, 0, back, BLOCKS);
	cr_assert(eq(u32, n, BLOCKS - 4));
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < 4; k++) {
			cr_assert(not(eq(ptr, back[i], used[k])));
		}
	}
	cst_pool_give(&pool, 0, back, n);
	cst_pool_give(&pool, 0, used, 4);
}

Test(lanes, large_envelopes_never_take_a_lane, .init = setup,
	.fini = teardown)
{
	for (int i = 0; i < 3; i++) {
		void *p = cst_lanes_get(
			&lanes, &pool, TARGET_A, CST_LANE_CLASSES, 128);
		cr_assert(not(eq(ptr, p, NULL)));
		cst_pool_put(&pool, CST_LANE_CLASSES, p, 128);
	}
	cr_assert(eq(u64, lanes.held, 0));
	unsigned slot = ((uintptr_t)TARGET_A >> 6) & (CST_LANE_SLOTS - 1);
	cr_assert(eq(ptr, (void *)lanes.lane[slot].target, NULL));
}

Test(lanes, a_target_changing_size_class_gives_back_to_the_old_class,
	.init = setup, .fini = teardown)
{
	void *a0 = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	void *a1 = cst_lanes_get(&lanes, &pool, TARGET_A, 0, 32);
	// A 64-byte message to the same target: the lane's 32-byte blocks go
	// back to class 0, and the new one comes from class 1.
	void *big = cst_lanes_get(&lanes, &pool, TARGET_A, 1, 64);
	cr_assert(eq(int, index_of(big), -1));
	void    *back[BLOCKS];
	uint32_t n = cst_pool_take(&pool, 0, back, BLOCKS);
	cr_assert(eq(u32, n, BLOCKS - 2));
	for (uint32_t i = 0; i < n; i++) {
		int k = index_of(back[i]);
		cr_assert(k >= 0 && back[i] != a0 && back[i] != a1);
	}
	cst_pool_give(&pool, 0, back, n);
	void *out[] = {a0, a1};
	cst_pool_give(&pool, 0, out, 2);
	cst_pool_put(&pool, 1, big, 64);
}

Test(lanes, an_empty_pool_hands_a_lane_fresh_blocks, .init = setup,
	.fini = teardown)
{
	// Class 1 has no blocks in this pool nor in the depot (each test
	// runs in a process of its own).
	void    *fresh[CST_LANE_BLOCKS];
	uint32_t n = cst_pool_take(&pool, 1, fresh, CST_LANE_BLOCKS);
	cr_assert(eq(u32, n, CST_LANE_BLOCKS));
	for (uint32_t i = 0; i < n; i++) {
		memset(fresh[i], (int)i, 64);
		for (uint32_t j = 0; j < i; j++) {
			cr_assert(not(eq(ptr, fresh[i], fresh[j])));
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		cr_assert(eq(u8, ((unsigned char *)fresh[i])[63], (uint8_t)i));
	}
	cst_pool_give(&pool, 1, fresh, n);
}
