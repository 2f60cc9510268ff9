// tests/runtime/test_deque.c: the Chase-Lev work-stealing deque
// (runtime/deque.c).
//
// Thief threads never call cr_assert (Criterion's assertions abort the
// test from its own thread only); they count what went wrong and the test
// thread asserts on the counts after joining them.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/deque.h"

// Items are void *: never NULL nor CST_DEQUE_ABORT.
#define ITEM(i) ((void *)(uintptr_t)((i) * 2 + 2))

static cst_deque dq;

static void
setup(void)
{
	cr_assert(eq(int, cst_deque_init(&dq), 0));
}

static void
teardown(void)
{
	cst_deque_fini(&dq);
}

TestSuite(deque, .init = setup, .fini = teardown);
TestSuite(deque_stress, .init = setup, .fini = teardown, .timeout = 120);

Test(deque, take_on_empty_returns_null)
{
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL));
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL), "and stays empty");
}

Test(deque, steal_on_empty_returns_null)
{
	cr_assert(eq(ptr, cst_deque_steal(&dq), NULL));
}

Test(deque, owner_takes_in_lifo_order)
{
	cst_deque_push(&dq, ITEM(1));
	cst_deque_push(&dq, ITEM(2));
	cst_deque_push(&dq, ITEM(3));

	cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(3)));
	cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(2)));
	cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(1)));
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL));
}

Test(deque, steal_takes_in_fifo_order_from_the_top)
{
	cst_deque_push(&dq, ITEM(1));
	cst_deque_push(&dq, ITEM(2));
	cst_deque_push(&dq, ITEM(3));

	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(1)));
	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(2)));
	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(3)));
	cr_assert(eq(ptr, cst_deque_steal(&dq), NULL));
}

Test(deque, take_and_steal_work_from_opposite_ends)
{
	cst_deque_push(&dq, ITEM(1));
	cst_deque_push(&dq, ITEM(2));
	cst_deque_push(&dq, ITEM(3));

	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(1)));
	cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(3)));
	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(2)));
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL));
	cr_assert(eq(ptr, cst_deque_steal(&dq), NULL));
}

Test(deque, take_of_the_last_item_after_a_steal_returns_null)
{
	cst_deque_push(&dq, ITEM(1));

	cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(1)));
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL));
	// The deque still works after the race path.
	cst_deque_push(&dq, ITEM(2));
	cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(2)));
}

Test(deque, looks_empty_follows_push_and_take)
{
	cr_assert(cst_deque_looks_empty(&dq));
	cst_deque_push(&dq, ITEM(1));
	cr_assert(not(cst_deque_looks_empty(&dq)));
	cst_deque_take(&dq);
	cr_assert(cst_deque_looks_empty(&dq));
}

#define GROW_N 5000 // the first array holds 256

Test(deque, growth_beyond_256_items_keeps_every_item_for_take)
{
	for (uintptr_t i = 0; i < GROW_N; i++) {
		cst_deque_push(&dq, ITEM(i));
	}
	for (uintptr_t i = GROW_N; i-- > 0;) {
		cr_assert(eq(ptr, cst_deque_take(&dq), ITEM(i)));
	}
	cr_assert(eq(ptr, cst_deque_take(&dq), NULL));
}

Test(deque, growth_beyond_256_items_keeps_every_item_for_steal)
{
	for (uintptr_t i = 0; i < GROW_N; i++) {
		cst_deque_push(&dq, ITEM(i));
	}
	for (uintptr_t i = 0; i < GROW_N; i++) {
		cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(i)));
	}
	cr_assert(eq(ptr, cst_deque_steal(&dq), NULL));
}

Test(deque, growth_with_a_moved_top_keeps_every_item)
{
	// Wrap the indices around the first array before growing, so the
	// copy in grow() has to map top..bottom across the array's end.
	uintptr_t next = 0, first = 0;

	for (int i = 0; i < 200; i++) {
		cst_deque_push(&dq, ITEM(next++));
	}
	for (int i = 0; i < 150; i++) {
		cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(first++)));
	}
	for (int i = 0; i < 1000; i++) {
		cst_deque_push(&dq, ITEM(next++));
	}
	while (first < next) {
		cr_assert(eq(ptr, cst_deque_steal(&dq), ITEM(first++)));
	}
	cr_assert(eq(ptr, cst_deque_steal(&dq), NULL));
}

// Stress: the owner pushes N distinct items, taking some back between
// bursts, while thieves steal. Each item is taken exactly once.

#define STRESS_N       1000000
#define STRESS_THIEVES 3

typedef struct stress_item {
	uint64_t         id;    // written by the owner before the push
	_Atomic uint32_t taken; // times the item came out of the deque
} stress_item;

static stress_item *items;
static _Atomic int  owner_done;

typedef struct taker {
	pthread_t thread;
	uint64_t  taken;
	uint64_t  aborts;
	uint64_t  bad; // not an item, or its id does not match
} taker;

static void
record(taker *t, void *x)
{
	stress_item *it = x;

	if (it < items || it >= items + STRESS_N) {
		t->bad++;
		return;
	}
	// Plain read: the push's release store of bottom must make the
	// owner's write visible; TSan reports a race otherwise.
	if (it->id != (uint64_t)(it - items)) {
		t->bad++;
	}
	atomic_fetch_add_explicit(&it->taken, 1, memory_order_relaxed);
	t->taken++;
}

static void *
steal_all(void *arg)
{
	taker *t = arg;

	for (;;) {
		void *x = cst_deque_steal(&dq);
		if (x == CST_DEQUE_ABORT) {
			t->aborts++;
			continue;
		}
		if (x != NULL) {
			record(t, x);
			continue;
		}
		// The owner sets the flag only after its own take found the
		// deque empty with nothing left to push: empty for good.
		if (atomic_load_explicit(&owner_done, memory_order_acquire)) {
			return NULL;
		}
		sched_yield();
	}
}

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return *s >> 33;
}

Test(deque_stress, every_item_is_taken_exactly_once_with_three_thieves)
{
	taker    owner = {0};
	taker    thieves[STRESS_THIEVES] = {{0}};
	uint64_t rng = 42;
	uint64_t i = 0;

	items = calloc(STRESS_N, sizeof(*items));
	cr_assert(not(eq(ptr, items, NULL)));
	for (int k = 0; k < STRESS_THIEVES; k++) {
		cr_assert(eq(int, pthread_create(&thieves[k].thread, NULL,
					  steal_all, &thieves[k]),
			0));
	}

	while (i < STRESS_N) {
		// Bursts of up to 1024 pushes, then up to as many takes: the
		// deque grows past its first array and shrinks again.
		uint64_t burst = 1 + lcg(&rng) % 1024;
		for (uint64_t k = 0; k < burst && i < STRESS_N; k++, i++) {
			items[i].id = i;
			cst_deque_push(&dq, &items[i]);
		}
		uint64_t takes = lcg(&rng) % (burst + 1);
		for (uint64_t k = 0; k < takes; k++) {
			void *x = cst_deque_take(&dq);
			if (x == NULL) {
				break;
			}
			record(&owner, x);
		}
	}
	for (void *x; (x = cst_deque_take(&dq)) != NULL;) {
		record(&owner, x);
	}
	atomic_store_explicit(&owner_done, 1, memory_order_release);

	uint64_t total = owner.taken, bad = owner.bad, aborts = 0;
	for (int k = 0; k < STRESS_THIEVES; k++) {
		pthread_join(thieves[k].thread, NULL);
		total += thieves[k].taken;
		bad += thieves[k].bad;
		aborts += thieves[k].aborts;
	}
	cr_log_info("owner took %llu of %d, %llu aborted steals",
		(unsigned long long)owner.taken, STRESS_N,
		(unsigned long long)aborts);

	uint64_t lost = 0, twice = 0;
	for (uint64_t k = 0; k < STRESS_N; k++) {
		uint32_t n = atomic_load_explicit(
			&items[k].taken, memory_order_relaxed);
		lost += n == 0;
		twice += n > 1;
	}
	cr_assert(eq(u64, bad, 0));
	cr_assert(eq(u64, lost, 0));
	cr_assert(eq(u64, twice, 0));
	cr_assert(eq(u64, total, STRESS_N));
	cr_assert(cst_deque_looks_empty(&dq));
	free(items);
}
