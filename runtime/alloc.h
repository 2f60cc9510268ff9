// runtime/alloc.h: memory for the runtime: jemalloc for everything, and
// per-worker pools of message envelopes so that a message is freed into
// the pool of the worker that consumed it, never across cores one by one.
#ifndef CASTY_RUNTIME_ALLOC_H
#define CASTY_RUNTIME_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/** cst_alloc allocates size bytes (jemalloc), or returns NULL. */
void *cst_alloc(size_t size);

/** cst_calloc allocates size zeroed bytes, or returns NULL. */
void *cst_calloc(size_t size);

/** cst_alloc_aligned allocates size bytes aligned to align, or NULL. */
void *cst_alloc_aligned(size_t size, size_t align);

/** cst_free_sized frees p, allocated with size bytes (NULL is a no-op). */
void cst_free_sized(void *p, size_t size);

/** cst_free_aligned frees p from cst_alloc_aligned. */
void cst_free_aligned(void *p, size_t size, size_t align);

/** cst_strdup copies s (cst_free_sized(p, strlen(p) + 1) frees it). */
char *cst_strdup(const char *s);

/** cst_oom reports out-of-memory where nobody can act on it and aborts. */
_Noreturn void cst_oom(const char *what);

// Envelope size classes: 32, 64, 128, 256 and 512 bytes (jemalloc's own
// small classes, so no block wastes a tail); larger envelopes come from
// jemalloc directly (class CST_POOL_CLASSES).
#define CST_POOL_CLASSES 5

typedef struct cst_pool_block cst_pool_block;

typedef struct cst_pool_class {
	cst_pool_block *free;
	uint32_t        count;
} cst_pool_class;

/** cst_pool caches free envelopes of one worker. Owner only. */
typedef struct cst_pool {
	cst_pool_class cls[CST_POOL_CLASSES];
} cst_pool;

/** cst_pool_class_of returns the class of an envelope of size bytes. */
unsigned cst_pool_class_of(size_t size);

/** cst_pool_class_size returns the block size of class c. */
size_t cst_pool_class_size(unsigned c);

/**
 * cst_pool_get returns a block of class c from pool (NULL: the caller is
 * not a worker) or jemalloc. Aborts on out-of-memory.
 */
void *cst_pool_get(cst_pool *pool, unsigned c, size_t size);

/** cst_pool_put frees a block of class c into pool (or to jemalloc). */
void cst_pool_put(cst_pool *pool, unsigned c, void *p, size_t size);

/** cst_pool_fini frees every cached block. Thread: single. */
void cst_pool_fini(cst_pool *pool);

/**
 * cst_pool_depot_drain frees the batches the shared depot holds (at a
 * system's destroy, so leak checkers see nothing held). Thread: any.
 */
void cst_pool_depot_drain(void);

#endif // CASTY_RUNTIME_ALLOC_H
