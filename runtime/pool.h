// runtime/pool.h: per-worker pools of message envelopes, so that a
// message is freed into the pool of the worker that consumed it and
// never across cores one block at a time.
#ifndef CASTY_RUNTIME_POOL_H
#define CASTY_RUNTIME_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/envelope_arena.h"

// Envelope size classes: 32, 64, 128, 256 and 512 bytes (jemalloc's own
// small classes, so no block wastes a tail); larger envelopes come from
// jemalloc directly (class CST_POOL_CLASSES).
#define CST_POOL_CLASSES 5

typedef struct cst_magazine cst_magazine;

/** cst_pool caches free envelopes of one worker. Owner only. */
typedef struct cst_pool {
	struct {
		cst_magazine *loaded;   // blocks are taken from and put here
		cst_magazine *previous; // the last one, full or empty
	} cls[CST_POOL_CLASSES];
	cst_envelope_cache arena; // where new blocks come from, old ones go
} cst_pool;

/** cst_pool_init readies an empty pool for a worker. */
void cst_pool_init(cst_pool *pool);

/** cst_pool_class_of returns the class of an envelope of size bytes. */
unsigned cst_pool_class_of(size_t size);

/**
 * cst_pool_get returns a block of class c (size bytes are needed) from
 * pool, or from the envelope arena when pool is NULL (not a worker) or
 * runs dry.
 * Aborts on out-of-memory.
 */
void *cst_pool_get(cst_pool *pool, unsigned c, size_t size);

/**
 * cst_pool_take moves up to max (at least 1) free blocks of class c (c
 * below CST_POOL_CLASSES) from pool (not NULL) into out and returns how
 * many, at least one: the ones put last, in the order they were put, so
 * blocks freed in address order come back in address order; fresh ones
 * from the arena when the pool has none. Aborts on out-of-memory.
 */
uint32_t cst_pool_take(cst_pool *pool, unsigned c, void **out, uint32_t max);

/**
 * cst_pool_give frees the n blocks of class c in blocks into pool, in
 * that order.
 */
void cst_pool_give(cst_pool *pool, unsigned c, void *const *blocks, uint32_t n);

/** cst_pool_put frees a block of class c into pool (or to the arena). */
void cst_pool_put(cst_pool *pool, unsigned c, void *p, size_t size);

/** cst_pool_fini frees every cached block and the pool's cache of the
 * arena. Thread: single. */
void cst_pool_fini(cst_pool *pool);

/**
 * cst_pool_depot_drain frees the blocks the shared depot holds (at a
 * system's destroy, so leak checkers see nothing held). Thread: any.
 */
void cst_pool_depot_drain(void);

#endif // CASTY_RUNTIME_POOL_H
