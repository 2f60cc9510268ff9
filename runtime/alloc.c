// runtime/alloc.c: jemalloc wrappers and the per-worker envelope pools.
//
// A pool is a per-class free list owned by one worker: it allocates from
// it and frees what it consumed into it, so memory migrates with the
// messages (as in Pony's pool allocator) and no block is freed across
// cores one at a time. A class that holds more than POOL_HIGH blocks
// hands POOL_BATCH of them to a shared depot in one locked step; a worker
// that runs dry takes a whole batch back. The lock is taken once per
// POOL_BATCH messages at most, never per message.
#include "runtime/alloc.h"

#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_HIGH  2048u
#define POOL_BATCH 1024u
#define DEPOT_MAX  64u // batches per class kept in the depot

struct cst_pool_block {
	cst_pool_block *next;
	cst_pool_block *next_batch; // in the depot: the next batch
};

static const size_t class_size[CST_POOL_CLASSES] = {32, 64, 128, 256, 512};

// The depot: one stack of batches per class, shared by all pools.
static struct {
	pthread_mutex_t lock;
	cst_pool_block *batches[CST_POOL_CLASSES];
	unsigned        nbatches[CST_POOL_CLASSES];
} depot = {.lock = PTHREAD_MUTEX_INITIALIZER};

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

size_t
cst_pool_class_size(unsigned c)
{
	return class_size[c];
}

static void
depot_push(unsigned c, cst_pool_block *batch)
{
	pthread_mutex_lock(&depot.lock);
	if (depot.nbatches[c] < DEPOT_MAX) {
		batch->next_batch = depot.batches[c];
		depot.batches[c] = batch;
		depot.nbatches[c]++;
		batch = NULL;
	}
	pthread_mutex_unlock(&depot.lock);
	while (batch != NULL) { // the depot is full: back to jemalloc
		cst_pool_block *next = batch->next;
		sdallocx(batch, class_size[c], 0);
		batch = next;
	}
}

static cst_pool_block *
depot_pop(unsigned c)
{
	pthread_mutex_lock(&depot.lock);
	cst_pool_block *batch = depot.batches[c];
	if (batch != NULL) {
		depot.batches[c] = batch->next_batch;
		depot.nbatches[c]--;
	}
	pthread_mutex_unlock(&depot.lock);
	return batch;
}

void *
cst_pool_get(cst_pool *pool, unsigned c, size_t size)
{
	void *p;

	if (c >= CST_POOL_CLASSES) {
		p = mallocx(size, 0);
	} else if (pool == NULL) {
		p = mallocx(class_size[c], 0);
	} else {
		cst_pool_class *pc = &pool->cls[c];
		if (pc->free == NULL) {
			cst_pool_block *batch = depot_pop(c);
			if (batch != NULL) {
				pc->free = batch;
				pc->count = POOL_BATCH;
			}
		}
		if (pc->free != NULL) {
			cst_pool_block *b = pc->free;
			pc->free = b->next;
			pc->count--;
			return b;
		}
		p = mallocx(class_size[c], 0);
	}
	if (p == NULL) {
		cst_oom("message");
	}
	return p;
}

void
cst_pool_put(cst_pool *pool, unsigned c, void *p, size_t size)
{
	if (c >= CST_POOL_CLASSES) {
		sdallocx(p, size, 0);
		return;
	}
	if (pool == NULL) {
		sdallocx(p, class_size[c], 0);
		return;
	}
	cst_pool_class *pc = &pool->cls[c];
	cst_pool_block *b = p;
	b->next = pc->free;
	pc->free = b;
	if (++pc->count >= POOL_HIGH) {
		// Split off the newest POOL_BATCH blocks as one batch.
		cst_pool_block *batch = pc->free, *last = batch;
		for (unsigned i = 1; i < POOL_BATCH; i++) {
			last = last->next;
		}
		pc->free = last->next;
		last->next = NULL;
		pc->count -= POOL_BATCH;
		depot_push(c, batch);
	}
}

void
cst_pool_fini(cst_pool *pool)
{
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		cst_pool_block *b = pool->cls[c].free;
		while (b != NULL) {
			cst_pool_block *next = b->next;
			sdallocx(b, class_size[c], 0);
			b = next;
		}
		pool->cls[c].free = NULL;
		pool->cls[c].count = 0;
	}
}

void
cst_pool_depot_drain(void)
{
	pthread_mutex_lock(&depot.lock);
	for (unsigned c = 0; c < CST_POOL_CLASSES; c++) {
		while (depot.batches[c] != NULL) {
			cst_pool_block *batch = depot.batches[c];
			depot.batches[c] = batch->next_batch;
			while (batch != NULL) {
				cst_pool_block *next = batch->next;
				sdallocx(batch, class_size[c], 0);
				batch = next;
			}
		}
		depot.nbatches[c] = 0;
	}
	pthread_mutex_unlock(&depot.lock);
}
