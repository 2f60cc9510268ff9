// runtime/alloc.c: jemalloc wrappers: sized frees (sdallocx) skip the
// size lookup, and aligned allocations keep cells and deques on their own
// cache lines. Built with CASTY_SYSTEM_ALLOC, the same calls go to malloc.
#include "runtime/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CASTY_SYSTEM_ALLOC
#include <jemalloc/jemalloc.h>

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

#else
// The system allocator, for the sanitizer builds (-Dallocator=system):
// ASan, LeakSanitizer and valgrind track malloc, but not the memory
// jemalloc carves out of its own mappings.

void *
cst_alloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *
cst_calloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void *
cst_alloc_aligned(size_t size, size_t align)
{
	// aligned_alloc wants a multiple of the alignment.
	return aligned_alloc(align, (size + align - 1) / align * align);
}

void
cst_free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

void
cst_free_aligned(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	free(p);
}
#endif

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

