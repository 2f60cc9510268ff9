// runtime/envelope_arena.h: where message envelopes come from when no
// pool has one (runtime/pool.c): a jemalloc arena of their own whose
// memory is mapped in transparent huge pages where the kernel allows
// (madvise). A burst of messages (fanin: millions in flight) then costs
// a page fault per 2 MiB instead of one per 4 KiB, and envelopes do not
// share bins, nor their locks, with the program's other allocations.
// Memory goes back to the system as jemalloc decays unused pages (purge
// hooks: MADV_FREE, then MADV_DONTNEED), as for any other arena.
//
// Each worker allocates and frees through a thread cache of its own
// (jemalloc's explicit tcaches); other threads use their automatic one.
// Built with CASTY_SYSTEM_ALLOC, everything is plain malloc and free.
#ifndef CASTY_RUNTIME_ENVELOPE_ARENA_H
#define CASTY_RUNTIME_ENVELOPE_ARENA_H

#include <stddef.h>

/** cst_envelope_cache is one worker's way into the arena. Owner only. */
typedef struct cst_envelope_cache {
	int      alloc_flags; // mallocx flags: the arena, the tcache
	int      free_flags;  // sdallocx flags: the tcache
	unsigned tcache;      // explicit tcache, when has_tcache
	int      has_tcache;
} cst_envelope_cache;

/**
 * cst_envelope_cache_init readies c for the calling worker: its own
 * tcache when jemalloc can make one, else the thread's automatic one.
 */
void cst_envelope_cache_init(cst_envelope_cache *c);

/** cst_envelope_cache_fini flushes and destroys c's tcache. */
void cst_envelope_cache_fini(cst_envelope_cache *c);

/**
 * cst_envelope_alloc returns size bytes from the arena, through c (NULL:
 * the thread's automatic cache). NULL when memory is out.
 */
void *cst_envelope_alloc(const cst_envelope_cache *c, size_t size);

/** cst_envelope_free frees an envelope of size bytes through c. */
void cst_envelope_free(const cst_envelope_cache *c, void *p, size_t size);

#endif // CASTY_RUNTIME_ENVELOPE_ARENA_H
