// runtime/cell.c: the slab of actor cells. Cells come in chunks that
// live until the system is destroyed (type-stable memory, see cell.h).
// Free cells sit in the current worker's cache first, so that a worker
// spawning and stopping actors (skynet) never takes the slab's lock; the
// cache spills to and refills from the slab in batches.
#include "runtime/cell.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/sched.h"
#include "runtime/system.h"

#define CHUNK_CELLS 512
#define CACHE_HIGH  1024u
#define CACHE_BATCH 256u

struct cst_cell_chunk {
	cst_cell_chunk *next;
	size_t          ncells;
	alignas(64) casty_cell cells[];
};

void
cst_cell_slab_init(cst_cell_slab *slab)
{
	pthread_mutex_init(&slab->lock, NULL);
	slab->free[0] = slab->free[1] = NULL;
	slab->chunks = NULL;
}

static size_t
chunk_bytes(size_t ncells)
{
	return sizeof(cst_cell_chunk) + ncells * sizeof(casty_cell);
}

static void
drain_mailbox(casty_cell *cell)
{
	cst_mbox_node *node, *released;

	// Each pop hands back the node before the one it returns; the last
	// one stays the tail until cst_mbox_tail_to_free.
	while ((node = cst_mbox_pop(&cell->mbox, &released)) != NULL) {
		if (released != NULL) {
			cst_msg_free((casty_msg *)released);
		}
	}
	node = cst_mbox_tail_to_free(&cell->mbox);
	if (node != NULL) {
		cst_msg_free((casty_msg *)node);
	}
}

void
cst_cell_slab_fini(cst_cell_slab *slab)
{
	while (slab->chunks != NULL) {
		cst_cell_chunk *chunk = slab->chunks;
		slab->chunks = chunk->next;
		for (size_t i = 0; i < chunk->ncells; i++) {
			drain_mailbox(&chunk->cells[i]);
		}
		cst_free_aligned(chunk, chunk_bytes(chunk->ncells), 64);
	}
	pthread_mutex_destroy(&slab->lock);
}

// Called with slab->lock held.
static void
add_chunk(casty_system *sys, cst_cell_slab *slab, enum cst_cell_kind kind)
{
	size_t          n = CHUNK_CELLS;
	cst_cell_chunk *chunk = cst_alloc_aligned(chunk_bytes(n), 64);

	if (chunk == NULL) {
		cst_oom("actor cells");
	}
	chunk->ncells = n;
	chunk->next = slab->chunks;
	slab->chunks = chunk;
	for (size_t i = n; i-- > 0;) {
		casty_cell *cell = &chunk->cells[i];
		memset(cell, 0, sizeof(*cell));
		cst_mbox_init(&cell->mbox);
		atomic_init(&cell->gen, 1);
		cell->kind = kind;
		cell->sys = sys;
		cell->status = CST_DEAD;
		cell->next_free = slab->free[kind];
		slab->free[kind] = cell;
	}
}

casty_cell *
cst_cell_alloc(casty_system *sys, enum cst_cell_kind kind)
{
	cst_worker    *w = cst_tls_worker;
	cst_cell_slab *slab = &sys->slab;
	casty_cell    *cell;

	if (w != NULL && w->sched != &sys->sched) {
		w = NULL; // a worker of another system
	}
	if (w != NULL && (cell = w->free_cells[kind]) != NULL) {
		w->free_cells[kind] = cell->next_free;
		w->nfree_cells[kind]--;
		return cell;
	}
	pthread_mutex_lock(&slab->lock);
	if (slab->free[kind] == NULL) {
		add_chunk(sys, slab, kind);
	}
	cell = slab->free[kind];
	slab->free[kind] = cell->next_free;
	// Refill the worker's cache with a batch while we hold the lock.
	for (unsigned i = 0; w != NULL && i < CACHE_BATCH; i++) {
		casty_cell *c = slab->free[kind];
		if (c == NULL) {
			break;
		}
		slab->free[kind] = c->next_free;
		c->next_free = w->free_cells[kind];
		w->free_cells[kind] = c;
		w->nfree_cells[kind]++;
	}
	pthread_mutex_unlock(&slab->lock);
	return cell;
}

void
cst_cell_release(casty_cell *cell)
{
	cst_worker    *w = cst_tls_worker;
	cst_cell_slab *slab = &cell->sys->slab;
	unsigned       kind = cell->kind;

	// A cell whose 32-bit generation is about to wrap is retired, not
	// reused, so a very old ref can never name a new incarnation; the
	// slab frees it with the others at destroy. Relaxed: we own it.
	if (atomic_load_explicit(&cell->gen, memory_order_relaxed) >=
	    UINT32_MAX - 4) {
		return;
	}

	if (w != NULL && w->sched == &cell->sys->sched) {
		cell->next_free = w->free_cells[kind];
		w->free_cells[kind] = cell;
		if (++w->nfree_cells[kind] < CACHE_HIGH) {
			return;
		}
		// Spill a batch back to the slab for other threads.
		casty_cell *first = w->free_cells[kind], *last = first;
		for (unsigned i = 1; i < CACHE_BATCH; i++) {
			last = last->next_free;
		}
		w->free_cells[kind] = last->next_free;
		w->nfree_cells[kind] -= CACHE_BATCH;
		pthread_mutex_lock(&slab->lock);
		last->next_free = slab->free[kind];
		slab->free[kind] = first;
		pthread_mutex_unlock(&slab->lock);
		return;
	}
	pthread_mutex_lock(&slab->lock);
	cell->next_free = slab->free[kind];
	slab->free[kind] = cell;
	pthread_mutex_unlock(&slab->lock);
}
