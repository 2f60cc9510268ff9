// tests/runtime/test_cell.c: cell ids (runtime/cell.c). Every cell of a
// system has an id that leads back to it, ids of a chunk's neighbours
// differ, and no number that is not an id yields a cell: ids come off
// the network (cluster/), so any value must be safe to try.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>

#include "runtime/cell.h"
#include "support/system_fixture.h"

TestSuite(cell, .init = sys_setup, .fini = sys_teardown);

#define NCELLS 3000 // several chunks

Test(cell, every_cell_id_leads_back_to_its_cell)
{
	static casty_cell *cells[NCELLS];
	static uint64_t    ids[NCELLS];
	for (int i = 0; i < NCELLS; i++) {
		cells[i] = cst_cell_alloc(sys, CST_CELL_ACTOR);
		ids[i] = cst_cell_id(cells[i]);
		cr_assert(ne(u64, ids[i], 0));
		cr_assert(eq(ptr, cst_cell_by_id(sys, ids[i]), cells[i]));
	}
	for (int i = 1; i < NCELLS; i++) {
		cr_assert(ne(u64, ids[i], ids[i - 1]));
	}
	for (int i = 0; i < NCELLS; i++) {
		atomic_fetch_add(&cells[i]->gen, 1); // as a stop would
		cst_cell_release(cells[i]);
	}
}

Test(cell, numbers_that_are_no_id_yield_no_cell)
{
	casty_cell *c = cst_cell_alloc(sys, CST_CELL_ACTOR);
	uint64_t    id = cst_cell_id(c);
	cr_assert(eq(ptr, cst_cell_by_id(sys, 0), NULL));
	cr_assert(eq(ptr, cst_cell_by_id(sys, UINT64_MAX), NULL));
	// Past the chunks that exist, and past the cells of a chunk.
	cr_assert(eq(ptr, cst_cell_by_id(sys, id + (1000ull << 10)), NULL));
	cr_assert(eq(ptr,
		cst_cell_by_id(sys, ((id - 1) | (CST_CELL_ID_INDEX_MAX - 1)) + 1),
		NULL));
	for (uint64_t v = 1; v < 64; v++) {
		casty_cell *x = cst_cell_by_id(sys, v << 40);
		cr_assert(eq(ptr, x, NULL));
	}
	atomic_fetch_add(&c->gen, 1);
	cst_cell_release(c);
}

Test(cell, ids_of_two_systems_are_their_own)
{
	casty_system *other;
	cr_assert(eq(int, casty_system_create(NULL, &other), CASTY_OK));
	casty_cell *a = cst_cell_alloc(sys, CST_CELL_ACTOR);
	casty_cell *b = cst_cell_alloc(other, CST_CELL_PROMISE);
	cr_assert(eq(ptr, cst_cell_by_id(sys, cst_cell_id(a)), a));
	cr_assert(eq(ptr, cst_cell_by_id(other, cst_cell_id(b)), b));
	cr_assert(ne(ptr, cst_cell_by_id(other, cst_cell_id(a)), a));
	atomic_fetch_add(&a->gen, 1);
	cst_cell_release(a);
	atomic_fetch_add(&b->gen, 1);
	cst_cell_release(b);
	casty_system_destroy(other);
}

// One thread allocates cells (adding chunks, and directory pages) and
// publishes their ids; another resolves each id as soon as it sees it,
// without the slab's lock: it must find the very cell.
#define RACE_CELLS 20000
static casty_cell *race_cells[RACE_CELLS];
static uint64_t    race_ids[RACE_CELLS];
static atomic_int  race_published;

static void *
allocator(void *arg)
{
	(void)arg;
	for (int i = 0; i < RACE_CELLS; i++) {
		race_cells[i] = cst_cell_alloc(sys, CST_CELL_ACTOR);
		race_ids[i] = cst_cell_id(race_cells[i]);
		atomic_store_explicit(&race_published, i + 1,
			memory_order_release);
	}
	return NULL;
}

Test(cell, ids_resolve_while_chunks_are_added)
{
	pthread_t t;
	cr_assert(eq(int, pthread_create(&t, NULL, allocator, NULL), 0));
	int  checked = 0;
	long wrong = 0;
	while (checked < RACE_CELLS) {
		int n = atomic_load_explicit(&race_published,
			memory_order_acquire);
		for (; checked < n; checked++) {
			wrong += cst_cell_by_id(sys, race_ids[checked]) !=
				 race_cells[checked];
		}
	}
	pthread_join(t, NULL);
	cr_assert(eq(long, wrong, 0));
	for (int i = 0; i < RACE_CELLS; i++) {
		atomic_fetch_add(&race_cells[i]->gen, 1);
		cst_cell_release(race_cells[i]);
	}
}
