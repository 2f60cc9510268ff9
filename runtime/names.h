// runtime/names.h: an index of actor cells by name, for the uniqueness
// check and the lookup of named children (and of named roots).
#ifndef CASTY_RUNTIME_NAMES_H
#define CASTY_RUNTIME_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct casty_cell;

/** cst_names maps names to cells; the cells own the names. One writer. */
typedef struct cst_names {
	struct casty_cell **slot; // open addressing, linear probing
	size_t       cap;  // a power of two, or 0
	size_t       count;
} cst_names;

/** cst_names_find returns the cell called name, or NULL. */
struct casty_cell *cst_names_find(const cst_names *n, const char *name);

/**
 * cst_names_insert adds cell under cell->name, which must not be there.
 * Aborts on out-of-memory.
 */
void cst_names_insert(cst_names *n, struct casty_cell *cell);

/** cst_names_remove removes cell, if it is there. */
void cst_names_remove(cst_names *n, struct casty_cell *cell);

/** cst_names_fini frees the table. */
void cst_names_fini(cst_names *n);

#endif // CASTY_RUNTIME_NAMES_H
