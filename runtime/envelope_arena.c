// runtime/envelope_arena.c: the envelope arena (envelope_arena.h). Its
// extent hooks map memory with mmap, ask for huge pages on it, and purge
// with madvise; jemalloc keeps what it maps (retain: unmapping is
// declined) and splits and merges it freely, as its default hooks do on
// Linux. When the arena cannot be made, envelopes come from the default
// arena, as every other allocation does.
#include "runtime/envelope_arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/alloc.h"

#ifndef CASTY_SYSTEM_ALLOC
#include <jemalloc/jemalloc.h>

#define HUGE_PAGE ((size_t)2 << 20)

static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static int            arena_flag; // MALLOCX_ARENA(ind), or 0 without one

static void *
map_aligned(size_t size, size_t alignment)
{
	size_t span = size + alignment;
	char  *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		return NULL;
	}
	char  *start = (char *)(((uintptr_t)p + alignment - 1) &
                               ~(uintptr_t)(alignment - 1));
	size_t lead = (size_t)(start - p), trail = span - lead - size;
	if (lead != 0) {
		munmap(p, lead);
	}
	if (trail != 0) {
		munmap(start + size, trail);
	}
	return start;
}

static void *
hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment,
	bool *zero, bool *commit, unsigned arena_ind)
{
	(void)h;
	(void)arena_ind;
	void *p;
	if (new_addr != NULL) {
		// Growing in place: only exactly there, never over a mapping.
		p = mmap(new_addr, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
				MAP_FIXED_NOREPLACE,
			-1, 0);
		if (p == MAP_FAILED) {
			return NULL;
		}
		if (p != new_addr) { // a kernel without MAP_FIXED_NOREPLACE
			munmap(p, size);
			return NULL;
		}
	} else {
		if (size >= HUGE_PAGE && alignment < HUGE_PAGE) {
			alignment = HUGE_PAGE;
		}
		p = map_aligned(size, alignment);
		if (p == NULL) {
			return NULL;
		}
	}
	madvise(p, size, MADV_HUGEPAGE); // a hint; refused means 4 KiB pages
	*zero = true;
	*commit = true;
	return p;
}

static bool
hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
	unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)committed, (void)arena_ind;
	return true; // declined: jemalloc retains the range for reuse
}

static void
hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
	unsigned arena_ind)
{
	(void)h, (void)committed, (void)arena_ind;
	munmap(addr, size);
}

static bool
hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
	size_t length, unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)offset, (void)length;
	(void)arena_ind;
	return false; // always committed (the kernel overcommits)
}

static bool
hook_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset,
	size_t length, unsigned arena_ind)
{
	(void)h, (void)size, (void)arena_ind;
	return madvise((char *)addr + offset, length, MADV_FREE) != 0;
}

static bool
hook_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t offset,
	size_t length, unsigned arena_ind)
{
	(void)h, (void)size, (void)arena_ind;
	return madvise((char *)addr + offset, length, MADV_DONTNEED) != 0;
}

static bool
hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
	size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)size_a, (void)size_b;
	(void)committed, (void)arena_ind;
	return false; // mappings split anywhere
}

static bool
hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
	size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h, (void)addr_a, (void)size_a, (void)addr_b, (void)size_b;
	(void)committed, (void)arena_ind;
	return false; // adjacent mappings merge
}

static extent_hooks_t hooks = {
	.alloc = hook_alloc,
	.dalloc = hook_dalloc,
	.destroy = hook_destroy,
	.commit = hook_commit,
	.decommit = NULL, // declined: memory stays committed
	.purge_lazy = hook_purge_lazy,
	.purge_forced = hook_purge_forced,
	.split = hook_split,
	.merge = hook_merge,
};

static void
make_arena(void)
{
	unsigned        ind;
	size_t          sz = sizeof ind;
	extent_hooks_t *h = &hooks;
	if (mallctl("arenas.create", &ind, &sz, &h, sizeof h) == 0) {
		arena_flag = MALLOCX_ARENA(ind);
	}
}

void
cst_envelope_cache_init(cst_envelope_cache *c)
{
	pthread_once(&arena_once, make_arena);
	size_t sz = sizeof c->tcache;
	c->has_tcache = mallctl("tcache.create", &c->tcache, &sz, NULL, 0) == 0;
	int tc = c->has_tcache ? MALLOCX_TCACHE(c->tcache) : 0;
	c->alloc_flags = arena_flag | tc;
	c->free_flags = tc;
}

void
cst_envelope_cache_fini(cst_envelope_cache *c)
{
	if (c->has_tcache) {
		mallctl("tcache.destroy", NULL, NULL, &c->tcache,
			sizeof c->tcache);
		c->has_tcache = 0;
	}
	c->alloc_flags = c->free_flags = 0;
}

void *
cst_envelope_alloc(const cst_envelope_cache *c, size_t size)
{
	if (c == NULL) {
		pthread_once(&arena_once, make_arena);
		return mallocx(size, arena_flag);
	}
	return mallocx(size, c->alloc_flags);
}

void
cst_envelope_free(const cst_envelope_cache *c, void *p, size_t size)
{
	sdallocx(p, size, c != NULL ? c->free_flags : 0);
}

#else

void
cst_envelope_cache_init(cst_envelope_cache *c)
{
	*c = (cst_envelope_cache){0, 0, 0, 0};
}

void
cst_envelope_cache_fini(cst_envelope_cache *c)
{
	(void)c;
}

void *
cst_envelope_alloc(const cst_envelope_cache *c, size_t size)
{
	(void)c;
	return malloc(size);
}

void
cst_envelope_free(const cst_envelope_cache *c, void *p, size_t size)
{
	(void)c;
	(void)size;
	free(p);
}
#endif
