// tests/runtime/test_timer_heap.c: the reactor's deadline heap alone,
// against a sorted reference.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>

#include "runtime/timer_heap.h"

#define N 100000

typedef struct {
	cst_timer_node node; // first: a node pointer is an item pointer
	uint32_t       order; // insertion order, for the reference sort
	bool           cancelled;
} item;

static cst_timer_heap heap;
static item          *items;

static void
setup(void)
{
	cst_timer_heap_init(&heap);
	items = calloc(N, sizeof *items);
	cr_assert(items != NULL);
	srand(12345);
}

static void
teardown(void)
{
	cst_timer_heap_fini(&heap);
	free(items);
}

TestSuite(timer_heap, .init = setup, .fini = teardown, .timeout = 60);

static int
by_deadline_then_order(const void *a, const void *b)
{
	const item *x = *(item *const *)a, *y = *(item *const *)b;
	if (x->node.deadline != y->node.deadline) {
		return x->node.deadline < y->node.deadline ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

// Every node's index is its position, and no child precedes its parent.
static void
check_invariants(void)
{
	for (uint32_t i = 0; i < heap.len; i++) {
		cr_assert(eq(u32, heap.nodes[i]->index, i));
		if (i > 0) {
			cr_assert(heap.nodes[(i - 1) / 2]->deadline <=
				  heap.nodes[i]->deadline);
		}
	}
}

Test(timer_heap, pop_on_empty_returns_null)
{
	cr_assert(eq(ptr, cst_timer_heap_pop(&heap), NULL));
	cr_assert(eq(ptr, cst_timer_heap_peek(&heap), NULL));
}

Test(timer_heap, removing_an_unqueued_node_is_a_no_op)
{
	item it = {.node = {.deadline = 5, .index = CST_TIMER_NOT_QUEUED}};
	cst_timer_heap_remove(&heap, &it.node);
	cr_assert(eq(u32, cst_timer_heap_len(&heap), 0));
	cst_timer_heap_insert(&heap, &it.node);
	cst_timer_heap_remove(&heap, &it.node);
	cst_timer_heap_remove(&heap, &it.node);
	cr_assert(eq(u32, it.node.index, CST_TIMER_NOT_QUEUED));
	cr_assert(eq(u32, cst_timer_heap_len(&heap), 0));
}

Test(timer_heap, equal_deadlines_pop_in_insertion_order)
{
	for (uint32_t i = 0; i < 100; i++) {
		items[i].node.deadline = 7;
		items[i].order = i;
		cst_timer_heap_insert(&heap, &items[i].node);
	}
	for (uint32_t i = 0; i < 100; i++) {
		item *it = (item *)cst_timer_heap_pop(&heap);
		cr_assert(eq(u32, it->order, i));
	}
}

Test(timer_heap, random_inserts_and_cancels_pop_in_sorted_order)
{
	// Deadlines from a small range, so that many tie.
	for (uint32_t i = 0; i < N; i++) {
		items[i].node.deadline = rand() % (N / 4);
		items[i].order = i;
		cst_timer_heap_insert(&heap, &items[i].node);
		// Cancel some already queued node now and then.
		if (i > 0 && rand() % 3 == 0) {
			item *victim = &items[(uint32_t)rand() % i];
			if (!victim->cancelled) {
				cst_timer_heap_remove(&heap, &victim->node);
				victim->cancelled = true;
			}
		}
	}
	check_invariants();

	item   **ref = malloc(N * sizeof *ref);
	uint32_t nref = 0;
	cr_assert(ref != NULL);
	for (uint32_t i = 0; i < N; i++) {
		if (!items[i].cancelled) {
			ref[nref++] = &items[i];
		}
	}
	qsort(ref, nref, sizeof *ref, by_deadline_then_order);
	cr_assert(eq(u32, cst_timer_heap_len(&heap), nref));
	for (uint32_t i = 0; i < nref; i++) {
		item *it = (item *)cst_timer_heap_pop(&heap);
		cr_assert(eq(ptr, it, ref[i]), "pop %u", i);
		cr_assert(eq(u32, it->node.index, CST_TIMER_NOT_QUEUED));
	}
	cr_assert(eq(ptr, cst_timer_heap_pop(&heap), NULL));
	free(ref);
}

Test(timer_heap, interleaved_operations_keep_the_heap_valid)
{
	uint32_t inserted = 0;
	int64_t  last_popped = -1;
	for (uint32_t step = 0; step < 3 * N; step++) {
		int op = rand() % 4;
		if ((op <= 1 || heap.len == 0) && inserted < N) {
			// Never before the last pop: like time, it only grows.
			int64_t base = last_popped < 0 ? 0 : last_popped;
			items[inserted].node.deadline = base + rand() % 1000;
			cst_timer_heap_insert(&heap, &items[inserted++].node);
		} else if (op == 2 && heap.len > 0) {
			uint32_t i = (uint32_t)rand() % heap.len;
			cst_timer_heap_remove(&heap, heap.nodes[i]);
		} else if (heap.len > 0) {
			cst_timer_node *n = cst_timer_heap_pop(&heap);
			cr_assert(n->deadline >= last_popped);
			last_popped = n->deadline;
		}
		if (step % 4096 == 0) {
			check_invariants();
		}
	}
	check_invariants();
}
