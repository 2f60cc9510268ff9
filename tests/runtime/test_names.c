// tests/runtime/test_names.c: the name index of runtime/names.c
// (open addressing with backward-shift deletion).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cell.h"
#include "runtime/names.h"

TestSuite(names);

#define N 2000

static casty_cell cells[N];
static char       names[N][16];

static void
make(void)
{
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "actor-%d", i);
		cells[i].name = names[i];
	}
}

Test(names, finds_what_was_inserted_and_nothing_else)
{
	cst_names n = {0};
	make();
	cr_assert(eq(ptr, cst_names_find(&n, "actor-1"), NULL));
	for (int i = 0; i < N; i++) {
		cst_names_insert(&n, &cells[i]);
	}
	cr_assert(eq(sz, n.count, N));
	for (int i = 0; i < N; i++) {
		cr_assert(eq(ptr, cst_names_find(&n, names[i]), &cells[i]));
	}
	cr_assert(eq(ptr, cst_names_find(&n, "actor-x"), NULL));
	cst_names_fini(&n);
}

Test(names, removal_in_any_order_keeps_the_rest_findable)
{
	cst_names n = {0};
	int       order[N];
	make();
	for (int i = 0; i < N; i++) {
		cst_names_insert(&n, &cells[i]);
		order[i] = i;
	}
	srand(7);
	for (int i = N - 1; i > 0; i--) { // a fixed shuffle
		int j = rand() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < N; k++) {
		cst_names_remove(&n, &cells[order[k]]);
		cr_assert(eq(ptr, cst_names_find(&n, names[order[k]]), NULL));
		// Every 97th removal, check all that remain.
		if (k % 97 == 0) {
			for (int r = k + 1; r < N; r++) {
				cr_assert(eq(ptr, cst_names_find(&n, names[order[r]]),
					&cells[order[r]]));
			}
		}
	}
	cr_assert(eq(sz, n.count, 0));
	cst_names_remove(&n, &cells[0]); // absent: no effect
	cst_names_fini(&n);
}
