// runtime/cell.c: the slab of actor cells. Cells come in chunks that
// live until the system is destroyed (type-stable memory, see cell.h).
// Chunks are aligned to their own size, so a cell finds its chunk by
// masking its address, and numbered in a directory, so that a cell id
// (chunk number, index) read off the network can be checked and turned
// back into a cell without trusting any pointer (cst_cell_by_id).
// Free cells sit in the current worker's cache first, so that a worker
// spawning and stopping actors (skynet) never takes the slab's lock; the
// cache spills to and refills from the slab in batches.
#include "runtime/cell.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/sched.h"
#include "runtime/system.h"

// A chunk fills its aligned block: the header's line, then the cells.
#define CHUNK_CELLS ((CST_CELL_CHUNK_BYTES - 64) / sizeof(casty_cell))
#define CACHE_HIGH  1024u
#define CACHE_BATCH 256u

struct cst_cell_chunk {
	cst_cell_chunk *next;
	size_t          ncells;
	uint32_t        no; // its place in the directory
	alignas(64) casty_cell cells[];
};

_Static_assert(CHUNK_CELLS <= CST_CELL_ID_INDEX_MAX,
	"cell ids keep the index in 10 bits");
_Static_assert(sizeof(cst_cell_chunk) + CHUNK_CELLS * sizeof(casty_cell) <=
		CST_CELL_CHUNK_BYTES,
	"the cells fit their chunk");

void
cst_cell_slab_init(cst_cell_slab *slab)
{
	pthread_mutex_init(&slab->lock, NULL);
	slab->free[0] = slab->free[1] = NULL;
	slab->chunks = NULL;
	slab->nchunks = 0;
	for (size_t i = 0; i < CST_CELL_DIR_PAGES; i++) {
		atomic_init(&slab->dir[i], NULL);
	}
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
		cst_free_aligned(
			chunk, CST_CELL_CHUNK_BYTES, CST_CELL_CHUNK_BYTES);
	}
	for (size_t i = 0; i < CST_CELL_DIR_PAGES; i++) {
		cst_free_sized(atomic_load_explicit(&slab->dir[i],
				       memory_order_relaxed),
			CST_CELL_DIR_PAGE * sizeof(cst_cell_chunk *));
	}
	pthread_mutex_destroy(&slab->lock);
}

// Called with slab->lock held.
static void
add_chunk(casty_system *sys, cst_cell_slab *slab, enum cst_cell_kind kind)
{
	size_t          n = CHUNK_CELLS;
	uint32_t        no = slab->nchunks;
	size_t          page = no / CST_CELL_DIR_PAGE;

	if (page >= CST_CELL_DIR_PAGES) {
		cst_oom("actor cells (the cell directory is full)");
	}
	_Atomic(cst_cell_chunk *) *dir =
		atomic_load_explicit(&slab->dir[page], memory_order_relaxed);
	if (dir == NULL) {
		dir = cst_alloc(CST_CELL_DIR_PAGE * sizeof(*dir));
		if (dir == NULL) {
			cst_oom("actor cells");
		}
		for (size_t i = 0; i < CST_CELL_DIR_PAGE; i++) {
			atomic_init(&dir[i], NULL);
		}
		// Release: a reader that sees the page sees it initialised.
		atomic_store_explicit(&slab->dir[page], dir, memory_order_release);
	}
	cst_cell_chunk *chunk =
		cst_alloc_aligned(CST_CELL_CHUNK_BYTES, CST_CELL_CHUNK_BYTES);

	if (chunk == NULL) {
		cst_oom("actor cells");
	}
	chunk->ncells = n;
	chunk->no = no;
	chunk->next = slab->chunks;
	slab->chunks = chunk;
	for (size_t i = n; i-- > 0;) {
		casty_cell *cell = &chunk->cells[i];
		memset(cell, 0, sizeof(*cell));
		cst_mbox_init(&cell->mbox);
		atomic_init(&cell->gen, 1);
		atomic_init(&cell->busy, 0);
		cell->kind = kind;
		cell->sys = sys;
		cell->status = CST_DEAD;
		cell->next_free = slab->free[kind];
		slab->free[kind] = cell;
	}
	// Release: cst_cell_by_id sees the chunk's cells initialised.
	atomic_store_explicit(
		&dir[no % CST_CELL_DIR_PAGE], chunk, memory_order_release);
	slab->nchunks = no + 1;
}

uint64_t
cst_cell_id(const casty_cell *cell)
{
	const cst_cell_chunk *chunk = (const cst_cell_chunk *)(
		(uintptr_t)cell & ~(uintptr_t)(CST_CELL_CHUNK_BYTES - 1));
	uint64_t index = (uint64_t)(cell - chunk->cells);
	return ((uint64_t)chunk->no << CST_CELL_ID_INDEX_BITS | index) + 1;
}

casty_cell *
cst_cell_by_id(casty_system *sys, uint64_t id)
{
	if (id == 0) {
		return NULL;
	}
	id--;
	uint64_t no = id >> CST_CELL_ID_INDEX_BITS;
	uint64_t index = id & (CST_CELL_ID_INDEX_MAX - 1);
	if (no >= (uint64_t)CST_CELL_DIR_PAGES * CST_CELL_DIR_PAGE) {
		return NULL;
	}
	// Acquire: pairs with the release stores of add_chunk.
	_Atomic(cst_cell_chunk *) *dir = atomic_load_explicit(
		&sys->slab.dir[no / CST_CELL_DIR_PAGE], memory_order_acquire);
	if (dir == NULL) {
		return NULL;
	}
	cst_cell_chunk *chunk = atomic_load_explicit(
		&dir[no % CST_CELL_DIR_PAGE], memory_order_acquire);
	if (chunk == NULL || index >= chunk->ncells) {
		return NULL;
	}
	return &chunk->cells[index];
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
