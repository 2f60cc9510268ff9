// runtime/alloc.c: jemalloc wrappers: sized frees (sdallocx) skip the
// size lookup, and aligned allocations keep cells and deques on their own
// cache lines.
#include "runtime/alloc.h"

#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *
cst_alloc(size_t size)
{
	return mallocx(size ? size : 1, 0);
}

void *
cst_calloc(size_t size)
{
	return mallocx(size ? size : 1, MALLOCX_ZERO);
}

void *
cst_alloc_aligned(size_t size, size_t align)
{
	return mallocx(size, MALLOCX_ALIGN(align));
}

void
cst_free_sized(void *p, size_t size)
{
	if (p != NULL) {
		sdallocx(p, size ? size : 1, 0);
	}
}

void
cst_free_aligned(void *p, size_t size, size_t align)
{
	if (p != NULL) {
		sdallocx(p, size, MALLOCX_ALIGN(align));
	}
}

char *
cst_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char  *p = cst_alloc(n);
	if (p != NULL) {
		memcpy(p, s, n);
	}
	return p;
}

_Noreturn void
cst_oom(const char *what)
{
	fprintf(stderr, "casty: out of memory (%s)\n", what);
	abort();
}

