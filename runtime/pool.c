// runtime/pool.c: per-worker envelope pools, as magazines (Bonwick and
// Adams, "Magazines and Vmem", USENIX 2001).
//
// A magazine is an array of free blocks. Each worker holds two per size
// class, loaded and previous: it takes blocks from and puts blocks into
// the loaded one, swapping with previous at the edges, so it goes to the
// shared depot at most once per MAG_BLOCKS operations, under its lock.
// Blocks are handed out by pointer from the array, never through a link
// stored inside the block: the block itself was last written by another
// core (the worker that consumed the message freed it), and a free list
// threaded through it would cost a dependent cache miss per allocation.
// Memory migrates with the messages (as in Pony's pool allocator): a
// consumer's pool fills, it sends full magazines to the depot, and the
// producer takes them back from there.
#include "runtime/pool.h"

#include <pthread.h>
#include <string.h>

#include "runtime/alloc.h"

#define MAG_BLOCKS 512u
#define DEPOT_FULL_MAX 64u // full magazines per class kept in the depot

struct cst_magazine {
	cst_magazine *next; // in the depot's lists
	uint32_t      count;
	void         *blocks[MAG_BLOCKS];
};

static const size_t class_size[CST_POOL_CLASSES] = {32, 64, 128, 256, 512};

// The depot: full and empty magazines per class, shared by every pool.
static struct {
	pthread_mutex_t lock;
	cst_magazine   *full[CST_POOL_CLASSES];
	unsigned        nfull[CST_POOL_CLASSES];
	cst_magazine   *empty; // any class
} depot = {.lock = PTHREAD_MUTEX_INITIALIZER};

unsigned
cst_pool_class_of(size_t size)
{
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		if (size <= class_size[c]) {
			return c;
		}
	}
	return CST_POOL_CLASSES;
}

// Frees m's blocks to the envelope arena, through arena (NULL: the
// thread's automatic cache).
static void
magazine_free_blocks(cst_magazine *m, unsigned c,
	const cst_envelope_cache *arena)
{
	for (uint32_t i = 0; i < m->count; i++) {
		cst_envelope_free(arena, m->blocks[i], class_size[c]);
	}
	m->count = 0;
}

void
cst_pool_init(cst_pool *pool)
{
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		pool->cls[c].loaded = pool->cls[c].previous = NULL;
	}
	cst_envelope_cache_init(&pool->arena);
}

static cst_magazine *
new_magazine(void)
{
	cst_magazine *m = cst_alloc(sizeof(*m));
	if (m == NULL) {
		cst_oom("envelope pool");
	}
	m->count = 0;
	return m;
}

static void
magazine_destroy(cst_magazine *m)
{
	cst_free_sized(m, sizeof(*m));
}

// Swaps a full magazine of class c for an empty one (or NULL when the
// depot has no full one); m may be NULL.
static cst_magazine *
depot_exchange_for_full(unsigned c, cst_magazine *m)
{
	pthread_mutex_lock(&depot.lock);
	cst_magazine *full = depot.full[c];
	if (full != NULL) {
		depot.full[c] = full->next;
		depot.nfull[c]--;
		if (m != NULL) { // m is empty
			m->next = depot.empty;
			depot.empty = m;
		}
	}
	pthread_mutex_unlock(&depot.lock);
	return full;
}

// Swaps the full magazine m for an empty one (never NULL).
static cst_magazine *
depot_exchange_for_empty(cst_pool *pool, unsigned c, cst_magazine *m)
{
	cst_magazine *spill = NULL, *empty;

	pthread_mutex_lock(&depot.lock);
	if (depot.nfull[c] < DEPOT_FULL_MAX) {
		m->next = depot.full[c];
		depot.full[c] = m;
		depot.nfull[c]++;
	} else {
		spill = m; // the depot holds enough: back to the allocator
	}
	empty = depot.empty;
	if (empty != NULL) {
		depot.empty = empty->next;
	}
	pthread_mutex_unlock(&depot.lock);
	if (spill != NULL) {
		magazine_free_blocks(spill, c, &pool->arena);
		if (empty == NULL) {
			return spill;
		}
		magazine_destroy(spill);
	}
	if (empty == NULL) {
		return new_magazine();
	}
	empty->count = 0;
	return empty;
}

static void *
fresh_block(cst_pool *pool, unsigned c, size_t size)
{
	void *p = cst_envelope_alloc(pool != NULL ? &pool->arena : NULL,
		c < CST_POOL_CLASSES ? class_size[c] : size);
	if (p == NULL) {
		cst_oom("message");
	}
	return p;
}

// Returns the loaded magazine of class c with a block in it, swapping in
// the previous one or a full one from the depot; NULL when neither has
// any.
static cst_magazine *
loaded_with_blocks(cst_pool *pool, unsigned c)
{
	cst_magazine *m = pool->cls[c].loaded;
	if (m != NULL && m->count != 0) {
		return m;
	}
	cst_magazine *prev = pool->cls[c].previous;
	if (prev != NULL && prev->count > 0) {
		pool->cls[c].previous = m;
		pool->cls[c].loaded = prev;
		return prev;
	}
	cst_magazine *full = depot_exchange_for_full(c, prev);
	if (full == NULL) {
		return NULL;
	}
	pool->cls[c].previous = m;
	pool->cls[c].loaded = full;
	return full;
}

void *
cst_pool_get(cst_pool *pool, unsigned c, size_t size)
{
	if (pool == NULL || c >= CST_POOL_CLASSES) {
		return fresh_block(pool, c, size);
	}
	cst_magazine *m = pool->cls[c].loaded;
	if (m == NULL || m->count == 0) {
		m = loaded_with_blocks(pool, c);
		if (m == NULL) {
			return fresh_block(pool, c, size);
		}
	}
	return m->blocks[--m->count];
}

uint32_t
cst_pool_take(cst_pool *pool, unsigned c, void **out, uint32_t max)
{
	cst_magazine *m = loaded_with_blocks(pool, c);
	if (m == NULL) {
		for (uint32_t i = 0; i < max; i++) {
			out[i] = fresh_block(pool, c, class_size[c]);
		}
		return max;
	}
	// The top of the magazine, oldest put first.
	uint32_t n = m->count < max ? m->count : max;
	m->count -= n;
	memcpy(out, &m->blocks[m->count], n * sizeof *out);
	return n;
}

void
cst_pool_put(cst_pool *pool, unsigned c, void *p, size_t size)
{
	const cst_envelope_cache *arena = pool != NULL ? &pool->arena : NULL;
	if (c >= CST_POOL_CLASSES) {
		cst_envelope_free(arena, p, size);
		return;
	}
	if (pool == NULL) {
		cst_envelope_free(NULL, p, class_size[c]);
		return;
	}
	cst_magazine *m = pool->cls[c].loaded;
	if (m == NULL || m->count == MAG_BLOCKS) {
		cst_magazine *prev = pool->cls[c].previous;
		if (prev != NULL && prev->count < MAG_BLOCKS) {
			pool->cls[c].previous = m;
			pool->cls[c].loaded = m = prev;
		} else {
			// The previous one is full too (it goes to the depot) or
			// missing: load an empty one.
			cst_magazine *empty = prev != NULL
				? depot_exchange_for_empty(pool, c, prev)
				: new_magazine();
			pool->cls[c].previous = m;
			pool->cls[c].loaded = m = empty;
		}
	}
	m->blocks[m->count++] = p;
}

void
cst_pool_give(cst_pool *pool, unsigned c, void *const *blocks, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		cst_pool_put(pool, c, blocks[i], class_size[c]);
	}
}

void
cst_pool_fini(cst_pool *pool)
{
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		cst_magazine *ms[2] = {pool->cls[c].loaded, pool->cls[c].previous};
		for (int i = 0; i < 2; i++) {
			if (ms[i] != NULL) {
				magazine_free_blocks(ms[i], c, &pool->arena);
				magazine_destroy(ms[i]);
			}
		}
		pool->cls[c].loaded = pool->cls[c].previous = NULL;
	}
	cst_envelope_cache_fini(&pool->arena);
}

void
cst_pool_depot_drain(void)
{
	pthread_mutex_lock(&depot.lock);
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		while (depot.full[c] != NULL) {
			cst_magazine *m = depot.full[c];
			depot.full[c] = m->next;
			magazine_free_blocks(m, c, NULL);
			magazine_destroy(m);
		}
		depot.nfull[c] = 0;
	}
	while (depot.empty != NULL) {
		cst_magazine *m = depot.empty;
		depot.empty = m->next;
		magazine_destroy(m);
	}
	pthread_mutex_unlock(&depot.lock);
}
