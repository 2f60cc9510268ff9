// tests/runtime/test_inject.c: the injection queue (runtime/inject.c):
// lock-free pushes from many threads, pops from several consumers that
// only try-lock the consumer role.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "runtime/inject.h"

TestSuite(inject);
TestSuite(inject_stress, .timeout = 120);

typedef struct {
	cst_inject_node node; // first: a node pointer is an item pointer
	int32_t         producer;
	int32_t         seq;
	_Atomic int     taken;
} item;

Test(inject, pop_on_empty_returns_null)
{
	cst_inject q;
	cst_inject_init(&q);
	cr_assert(eq(ptr, cst_inject_pop(&q), NULL));
	cst_inject_fini(&q);
}

Test(inject, single_thread_order_is_fifo_and_len_counts)
{
	cst_inject q;
	item       it[5];
	cst_inject_init(&q);
	for (int i = 0; i < 5; i++) {
		it[i].seq = i;
		cst_inject_push(&q, &it[i].node);
	}
	cr_assert(eq(u32, cst_inject_len(&q, memory_order_relaxed), 5));
	for (int i = 0; i < 5; i++) {
		item *x = (item *)cst_inject_pop(&q);
		cr_assert(not(eq(ptr, x, NULL)));
		cr_assert(eq(i32, x->seq, i));
	}
	cr_assert(eq(ptr, cst_inject_pop(&q), NULL));
	cr_assert(eq(u32, cst_inject_len(&q, memory_order_relaxed), 0));
	// Nodes come back: pushing the same ones again works.
	cst_inject_push(&q, &it[2].node);
	cr_assert(eq(ptr, (void *)cst_inject_pop(&q), (void *)&it[2]));
	cst_inject_fini(&q);
}

#define PRODUCERS 4
#define PER       50000
#define CONSUMERS 2

static cst_inject   q;
static item        *items;
static _Atomic long popped, misordered, twice;

static void *
produce(void *arg)
{
	int p = (int)(intptr_t)arg;
	for (int i = 0; i < PER; i++) {
		cst_inject_push(&q, &items[p * PER + i].node);
	}
	return NULL;
}

static void *
consume(void *arg)
{
	int last[PRODUCERS];
	(void)arg;
	for (int p = 0; p < PRODUCERS; p++) {
		last[p] = -1;
	}
	while (atomic_load(&popped) < PRODUCERS * PER) {
		item *x = (item *)cst_inject_pop(&q);
		if (x == NULL) {
			continue;
		}
		if (atomic_fetch_add(&x->taken, 1) != 0) {
			atomic_fetch_add(&twice, 1);
		}
		// Per producer, one consumer sees increasing sequence numbers.
		if (x->seq <= last[x->producer]) {
			atomic_fetch_add(&misordered, 1);
		}
		last[x->producer] = x->seq;
		atomic_fetch_add(&popped, 1);
	}
	return NULL;
}

Test(inject_stress, every_push_is_popped_once_in_producer_order)
{
	pthread_t pt[PRODUCERS], ct[CONSUMERS];
	items = calloc(PRODUCERS * PER, sizeof *items);
	for (int p = 0; p < PRODUCERS; p++) {
		for (int i = 0; i < PER; i++) {
			items[p * PER + i].producer = p;
			items[p * PER + i].seq = i;
		}
	}
	cst_inject_init(&q);
	for (int c = 0; c < CONSUMERS; c++) {
		pthread_create(&ct[c], NULL, consume, NULL);
	}
	for (intptr_t p = 0; p < PRODUCERS; p++) {
		pthread_create(&pt[p], NULL, produce, (void *)p);
	}
	for (int p = 0; p < PRODUCERS; p++) {
		pthread_join(pt[p], NULL);
	}
	for (int c = 0; c < CONSUMERS; c++) {
		pthread_join(ct[c], NULL);
	}
	cr_assert(eq(long, atomic_load(&popped), PRODUCERS * PER));
	cr_assert(eq(long, atomic_load(&twice), 0));
	cr_assert(eq(long, atomic_load(&misordered), 0));
	cr_assert(eq(ptr, cst_inject_pop(&q), NULL));
	cst_inject_fini(&q);
	free(items);
}
