// runtime/names.c: the name index: open addressing with linear probing
// and backward-shift deletion (no tombstones), kept at most half full.
// Keys are the cells' own name strings, hashed with FNV-1a.
#include "runtime/names.h"

#include <stdint.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/cell.h"

static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

casty_cell *
cst_names_find(const cst_names *n, const char *name)
{
	if (n->count == 0) {
		return NULL;
	}
	size_t mask = n->cap - 1;
	for (size_t i = hash(name) & mask; n->slot[i] != NULL;
		i = (i + 1) & mask) {
		if (strcmp(n->slot[i]->name, name) == 0) {
			return n->slot[i];
		}
	}
	return NULL;
}

static void
place(casty_cell **slot, size_t cap, casty_cell *cell)
{
	size_t i = hash(cell->name) & (cap - 1);
	while (slot[i] != NULL) {
		i = (i + 1) & (cap - 1);
	}
	slot[i] = cell;
}

void
cst_names_insert(cst_names *n, casty_cell *cell)
{
	if (2 * (n->count + 1) > n->cap) {
		size_t       cap = n->cap ? 2 * n->cap : 16;
		casty_cell **slot = cst_calloc(cap * sizeof(*slot));
		if (slot == NULL) {
			cst_oom("name index");
		}
		for (size_t i = 0; i < n->cap; i++) {
			if (n->slot[i] != NULL) {
				place(slot, cap, n->slot[i]);
			}
		}
		cst_free_sized(n->slot, n->cap * sizeof(*n->slot));
		n->slot = slot;
		n->cap = cap;
	}
	place(n->slot, n->cap, cell);
	n->count++;
}

void
cst_names_remove(cst_names *n, casty_cell *cell)
{
	if (n->count == 0) {
		return;
	}
	size_t mask = n->cap - 1;
	size_t i = hash(cell->name) & mask;
	while (n->slot[i] != cell) {
		if (n->slot[i] == NULL) {
			return;
		}
		i = (i + 1) & mask;
	}
	// Backward shift: pull later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, their position].
	size_t hole = i;
	for (size_t j = (i + 1) & mask; n->slot[j] != NULL; j = (j + 1) & mask) {
		size_t home = hash(n->slot[j]->name) & mask;
		bool   stays = hole <= j ? (hole < home && home <= j)
					 : (hole < home || home <= j);
		if (!stays) {
			n->slot[hole] = n->slot[j];
			hole = j;
		}
	}
	n->slot[hole] = NULL;
	n->count--;
}

void
cst_names_fini(cst_names *n)
{
	cst_free_sized(n->slot, n->cap * sizeof(*n->slot));
	n->slot = NULL;
	n->cap = n->count = 0;
}
