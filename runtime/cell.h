// runtime/cell.h: the actor cell, and the slab that hands cells out.
//
// Refs never dangle: a ref is (cell pointer, generation). Cell memory is
// type-stable: a cell is never freed before its system is destroyed, only
// reused by a later spawn, and its generation grows when an incarnation
// stops. tell compares the ref's generation with the cell's and turns a
// mismatch into a dead letter; the consumer compares again on receipt,
// which catches a tell that raced with the stop. The mailbox lives as
// long as the cell and is never re-initialised, so a late producer can
// always push safely.
#ifndef CASTY_RUNTIME_CELL_H
#define CASTY_RUNTIME_CELL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

#include <casty/casty.h>

#include "runtime/inject.h"
#include "runtime/mbox.h"
#include "runtime/names.h"

typedef struct cst_worker cst_worker;
typedef struct casty_cell casty_cell; // what casty_ctx names publicly

enum cst_cell_kind {
	CST_CELL_ACTOR,   // runs behaviors
	CST_CELL_PROMISE, // the reply target of one casty_ask
};

// Written only by the worker running the cell.
enum cst_cell_status {
	CST_DEAD,       // free, or stopped: only a start message revives it
	CST_ALIVE,      // started, handling messages
	CST_STOPPING,   // waiting for its children to stop
	CST_RESTARTING, // waiting for its children to stop, then restarts
	CST_FAILED,     // a restart failed; decided on the next dispatch
};

// Owner-only flags (casty_cell.flags).
enum cst_cell_flags {
	CST_CELL_SAVED_INITIAL = 1u << 0, // initial holds the spawn one
	CST_CELL_SUPERVISED = 1u << 1,    // cold->strategy applies
	CST_CELL_REPLAYING = 1u << 2,     // replaying the restart stash
};

typedef struct cst_cell_cold cst_cell_cold;

// Laid out in three cache lines so that a producer and the consumer of
// a busy actor do not write the same line: the first holds what every
// tell reads or writes (the generation, the mailbox's head, the bounded
// count), the second what the consumer writes on every message (the
// mailbox's tail), the third the behavior. The mailbox straddles the
// first two: its head ends the first line, its tail starts the second.
struct casty_cell {
	// Line 1: producers. Read on every tell; written at spawn and stop.
	_Atomic uint32_t gen;  // incarnation; grows at each stop
	uint8_t          kind; // cst_cell_kind, fixed for the cell's life
	// casty_overflow, 0 for an unbounded mailbox. Set at spawn, read by
	// producers (relaxed: a producer that raced with a respawn sends to a
	// stale generation, and the consumer dead-letters it whatever it
	// counted).
	_Atomic uint8_t  overflow;
	// 1 while a worker takes messages out of the mailbox: the one that
	// owns the cell's schedule, or a sender helping it (see sched.c's
	// consumer claim). Written once per run, not per message.
	_Atomic uint8_t  busy;
	uint8_t          flags; // cst_cell_flags; owner only
	casty_system    *sys;
	cst_inject_node  ready; // link in the injection queue
	// Bounded mailboxes: the user messages counted in, and the limit.
	// Relaxed: producers reserve with an atomic add, the consumer gives
	// back what it pops; the count orders nothing else.
	_Atomic uint32_t queued;
	_Atomic uint32_t capacity;
	// Written by the spawner before the start message, read-only after.
	struct casty_cell *parent;
	char              *name; // NULL: generated from the cell and gen
	// The behavior the actor was spawned with, saved (on the heap, 64
	// bytes) when the running one first replaces it
	// (CST_CELL_SAVED_INITIAL); restarts run clones of it. In the cell,
	// not the cold part: most actors spawned with a setup need it, and
	// few need the rest of the cold part.
	casty_behavior *initial;
	cst_mbox        mbox; // head on line 1; tail and stub on line 2

	// Line 2, after the mailbox's tail: owned by the worker running the
	// actor.
	uint32_t              status;
	uint32_t              nchildren;
	const casty_protocol *proto;
	// The sibling links are owned by the parent.
	union {
		struct casty_cell *first_child; // live cells
		// Free lists. Not ready: a free cell can still be scheduled
		// by a late producer, to drain what it pushed; such a run
		// reads no child link.
		struct casty_cell *next_free;
	};
	struct casty_cell *next_sibling;
	struct casty_cell *prev_sibling;
	cst_cell_cold     *cold; // watchers and watched refs, when any

	// Line 3: written by the consumer on every state change.
	union {
		casty_behavior behavior; // actors
		struct {                 // promises (see ask.c)
			_Atomic uintptr_t slot;
			_Atomic uint32_t  signal;
		} promise;
	};
};

_Static_assert(offsetof(struct casty_cell, mbox) + sizeof(_Atomic uintptr_t) ==
		64 && offsetof(struct casty_cell, behavior) == 128 &&
		sizeof(struct casty_cell) == 192,
	"the mailbox's head ends line 1, its tail starts line 2; three lines");

// What few actors need, allocated on first use: death watch, named
// children, supervision, hooks, actor timers.
struct cst_cell_cold {
	casty_ref *watchers; // who gets casty_terminated from us
	uint32_t   nwatchers, capwatchers;
	casty_ref *watching; // whom we watch
	uint32_t   nwatching, capwatching;
	cst_names  children; // named children, by name

	casty_strategy  strategy; // with CST_CELL_SUPERVISED
	casty_lifecycle hooks;
	int64_t        *restarts; // ring of restart times (ns), for the window
	uint32_t        nrestarts, restart_head, caprestarts;
	// User messages that arrived during a restart, handled after it,
	// and the failure that caused the restart.
	struct casty_msg   *stash_head, *stash_tail;
	struct cst_failure *restart_cause;
	// A layer's per-incarnation state (event sourcing): released at stop
	// and at restart (see cst_actor_set_ext).
	void *ext;
	void (*ext_fini)(struct casty_cell *cell, void *ext, bool restarting);
	struct cst_actor_timers *timers; // live actor timers (actor_timers.c)
};

/** cst_cell_ref returns the ref of the cell's current incarnation. */
static inline casty_ref
cst_cell_ref(casty_cell *cell)
{
	// Relaxed: the caller runs the cell or spawned it, so it already
	// synchronised with the last change of gen.
	casty_ref r = {cell,
		atomic_load_explicit(&cell->gen, memory_order_relaxed), 0};
	return r;
}

typedef struct cst_cell_chunk cst_cell_chunk;

// Cells come in chunks of this many bytes, aligned to it.
#define CST_CELL_CHUNK_BYTES ((size_t)128 << 10)
// A cell id is (chunk number << 10 | index in the chunk) + 1.
#define CST_CELL_ID_INDEX_BITS 10
#define CST_CELL_ID_INDEX_MAX (1u << CST_CELL_ID_INDEX_BITS)
// The directory of chunks by number: pages allocated as chunks come.
#define CST_CELL_DIR_PAGE 1024
#define CST_CELL_DIR_PAGES 1024

/** cst_cell_slab hands out cells of one system. */
typedef struct cst_cell_slab {
	pthread_mutex_t lock;
	casty_cell     *free[2]; // per kind
	cst_cell_chunk *chunks;
	uint32_t        nchunks; // under lock
	// Written under lock (release), read by cst_cell_by_id (acquire).
	_Atomic(cst_cell_chunk *) *_Atomic dir[CST_CELL_DIR_PAGES];
} cst_cell_slab;

void cst_cell_slab_init(cst_cell_slab *slab);

/**
 * cst_cell_slab_fini frees every chunk, and every message the mailboxes
 * still hold. Thread: single, after the workers have stopped.
 */
void cst_cell_slab_fini(cst_cell_slab *slab);

/**
 * cst_cell_alloc returns a free cell of the given kind: from the current
 * worker's cache, the slab's list, or a new chunk. Its mailbox is marked
 * empty, or holds only stale messages a run will dead-letter. Aborts on
 * out-of-memory. Thread: any.
 */
casty_cell *cst_cell_alloc(casty_system *sys, enum cst_cell_kind kind);

/**
 * cst_cell_id names cell within its system: a number that a remote node
 * can hand back (cluster/), which never changes for the cell's life.
 * Thread: any.
 */
uint64_t cst_cell_id(const casty_cell *cell);

/**
 * cst_cell_by_id returns the cell of sys with that id, or NULL when no
 * cell has it. Any number is safe to try: nothing is read but the
 * directory. The cell may be free or run another incarnation: compare
 * generations, as a tell does. Thread: any.
 */
casty_cell *cst_cell_by_id(casty_system *sys, uint64_t id);

/**
 * cst_cell_release returns a stopped cell for reuse. Its generation must
 * already have grown. Thread: any.
 */
void cst_cell_release(casty_cell *cell);

#endif // CASTY_RUNTIME_CELL_H
