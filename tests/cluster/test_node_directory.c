// tests/cluster/test_node_directory.c: the process's directory of remote
// nodes (cluster/node_directory.c). Interning is idempotent per cluster
// and address; indexes are never reused; and the stress test pins the
// Dekker pair between sends and detach: sender threads enter and leave
// entries in a loop while the main thread detaches their cluster, and no
// sender is ever inside with a cluster that detach has returned from
// (the "freed" mark stands for the free that follows a real stop).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "cluster/node_directory.h"

#define SENDERS 4
#define ROUNDS 50

static cst_address
address(uint16_t port, uint64_t uid)
{
	cst_address a;
	cr_assert(eq(int, cst_address_init(&a, "dir", "10.0.0.1", port, uid,
				  NULL),
		0));
	return a;
}

Test(node_directory, interning_is_idempotent_and_indexes_stay)
{
	casty_cluster *c1 = (casty_cluster *)(uintptr_t)0x1000;
	casty_cluster *c2 = (casty_cluster *)(uintptr_t)0x2000;
	cst_address    a = address(2552, 7), b = address(2552, 8);
	uint32_t       i1 = cst_node_dir_intern(c1, &a);
	cr_assert(ne(u32, i1, 0));
	cr_assert(eq(u32, cst_node_dir_intern(c1, &a), i1));
	uint32_t i2 = cst_node_dir_intern(c1, &b); // another run
	uint32_t i3 = cst_node_dir_intern(c2, &a); // another local node
	cr_assert(ne(u32, i2, i1));
	cr_assert(ne(u32, i3, i1));
	cr_assert(eq(u64, cst_node_dir_get(i2)->address.uid, 8));
	cr_assert(eq(ptr, cst_node_dir_get(0), NULL));
	cr_assert(eq(ptr, cst_node_dir_get(UINT32_MAX), NULL));
	cst_node_dir_mark_gone(c1, &a);
	cr_assert(atomic_load(&cst_node_dir_get(i1)->gone));
	cr_assert(not(atomic_load(&cst_node_dir_get(i3)->gone)));
	cst_node_dir_detach(c1);
	cr_assert(eq(ptr, cst_node_dir_enter(cst_node_dir_get(i1)), NULL));
	cr_assert(eq(ptr, cst_node_dir_enter(cst_node_dir_get(i2)), NULL));
	cr_assert(eq(ptr, cst_node_dir_enter(cst_node_dir_get(i3)), c2));
	cst_node_dir_leave(cst_node_dir_get(i3));
	// A new intern for a detached cluster address makes a new entry.
	uint32_t i4 = cst_node_dir_intern(c1, &a);
	cr_assert(ne(u32, i4, i1));
	cst_node_dir_detach(c1);
	cst_node_dir_detach(c2);
}

// The stand-in for a cluster: senders check it is not freed while inside.
typedef struct fake_cluster {
	atomic_bool freed;
} fake_cluster;

static fake_cluster     clusters[ROUNDS];
static uint32_t         entries[ROUNDS];
static atomic_int       round_now;
static atomic_bool      done;
static atomic_long      violations, sends;

static void *
sender(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		int r = atomic_load(&round_now);
		cst_node_entry *e = cst_node_dir_get(entries[r]);
		casty_cluster  *c = cst_node_dir_enter(e);
		if (c != NULL) {
			fake_cluster *f = (fake_cluster *)(void *)c;
			if (atomic_load(&f->freed)) {
				atomic_fetch_add(&violations, 1);
			}
			atomic_fetch_add(&sends, 1);
			cst_node_dir_leave(e);
		}
	}
	return NULL;
}

Test(node_directory, no_send_outlives_the_detach_of_its_cluster)
{
	for (int r = 0; r < ROUNDS; r++) {
		cst_address a = address((uint16_t)(3000 + r), 1);
		entries[r] = cst_node_dir_intern(
			(casty_cluster *)(void *)&clusters[r], &a);
		cr_assert(ne(u32, entries[r], 0));
	}
	pthread_t t[SENDERS];
	for (int i = 0; i < SENDERS; i++) {
		cr_assert(eq(int, pthread_create(&t[i], NULL, sender, NULL), 0));
	}
	for (int r = 0; r < ROUNDS; r++) {
		atomic_store(&round_now, r);
		// Let the senders use round r's cluster a while (a bounded
		// count of their sends, not a time).
		long until = atomic_load(&sends) + 2000;
		while (atomic_load(&sends) < until) {
			sched_yield();
		}
		cst_node_dir_detach((casty_cluster *)(void *)&clusters[r]);
		atomic_store(&clusters[r].freed, true);
	}
	atomic_store(&done, true);
	for (int i = 0; i < SENDERS; i++) {
		pthread_join(t[i], NULL);
	}
	cr_assert(eq(long, atomic_load(&violations), 0));
}
