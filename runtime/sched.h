// runtime/sched.h: the worker pool: per-worker Chase-Lev deques and LIFO
// slots, an injection queue for other threads, stealing and parking.
#ifndef CASTY_RUNTIME_SCHED_H
#define CASTY_RUNTIME_SCHED_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/alloc.h"
#include "runtime/cell.h"
#include "runtime/deque.h"
#include "runtime/lanes.h"
#include "runtime/pool.h"
#include "runtime/outbox.h"

typedef struct cst_sched cst_sched;

struct cst_worker {
	// Owner only.
	cst_sched  *sched;
	unsigned    index;
	bool        searching; // counted in sched->searching
	uint32_t    tick;      // scheduling rounds, for fairness checks
	uint32_t    lifo_runs; // consecutive runs from the LIFO slot
	uint64_t    rng;       // victim selection
	casty_cell *lifo;      // the actor messaged last, run next
	bool        lifo_claimed; // lifo holds its consumer claim
	uint64_t    runs_local; // the owner's copy of runs
	casty_cell *free_cells[2]; // cell cache, per kind
	uint32_t    nfree_cells[2];
	const casty_protocol *last_proto; // spawned last (actor.c)
	cst_pool    pool;   // envelopes
	cst_outbox  outbox; // what the running handler sent
	bool        helping; // inside cst_sched_help: no nested help
	pthread_t   thread;

	// Owner pushes and takes; thieves steal (see deque.c).
	cst_deque deque;

	// The hot actor (sched.c): ran dry last, not marked idle yet. Taken
	// only by exchange, by the owner or by an idle worker rescuing it
	// from a worker stuck in a long run.
	alignas(64) _Atomic(casty_cell *) hot;
	// Runs started. Relaxed everywhere: a hint for rescuers, never a
	// guarantee.
	_Atomic uint64_t runs;
	_Atomic uint64_t rescue_seen; // the runs a rescuer last saw here

	// 1 while parked, 0 when woken to look around, 2 when woken as a
	// searcher (the waker counted it). Futex word; see sched.c.
	alignas(64) _Atomic uint32_t park;

	// Owner only; its own lines, away from park.
	alignas(64) cst_lanes lanes; // envelopes reserved per target
};

struct cst_sched {
	casty_system *sys;
	unsigned      nworkers;
	unsigned      throughput;
	// Senders may run their receiver's backlog (cst_sched_help); only
	// then do consumers claim cells (cst_claim). Fixed at start.
	bool          sender_help;
	cst_worker   *workers;

	// The injection queue: runnable actors from threads that are not
	// workers, and actors yielded after a full batch.
	cst_inject inject;

	// Idle bookkeeping (see sched.c for the protocol).
	alignas(64) _Atomic uint32_t searching; // workers looking for work
	_Atomic uint32_t nparked;
	pthread_mutex_t  idle_lock;
	unsigned        *idle; // stack of parked worker indices
	unsigned         nidle;
	_Atomic bool     shutdown;

	// Quiescence: broadcast when the last worker parks (see sched.c).
	pthread_mutex_t drain_lock;
	pthread_cond_t  drain_cond;
};

/**
 * cst_tls_worker is the worker the current thread is, or NULL. The
 * initial-exec model makes it one %fs-relative load instead of a call to
 * __tls_get_addr per access from libcasty.so (it is read on every tell);
 * like jemalloc's own, it needs libcasty loaded at start-up or dlopen'ed
 * while static TLS space remains, which glibc reserves for this.
 */
extern _Thread_local cst_worker *cst_tls_worker
	__attribute__((tls_model("initial-exec")));

/**
 * cst_sched_start starts nworkers threads; sender_help allows
 * cst_sched_help (it needs two workers or more). Returns 0 or an errno.
 */
int cst_sched_start(cst_sched *s, casty_system *sys, unsigned nworkers,
	unsigned throughput, bool sender_help);

/** cst_sched_stop wakes and joins every worker. Thread: not a worker. */
void cst_sched_stop(cst_sched *s);

/** cst_sched_fini frees what the workers held. After cst_sched_stop. */
void cst_sched_fini(cst_sched *s);

/**
 * cst_schedule makes cell runnable: into the current worker's LIFO slot
 * (displacing the previous one to its deque), or the injection queue from
 * other threads; then wakes a parked worker if nobody is searching.
 * The caller must own the cell's schedule (cst_mbox_push returned true).
 * Thread: any.
 */
void cst_schedule(casty_cell *cell);

/**
 * cst_claim makes the calling worker the one consumer of cell's mailbox
 * (pop, has_next, mark_empty) and returns true, or returns false when a
 * helping sender is inside it (see cst_sched_help). Without sender help
 * the owner of the cell's schedule is its only consumer: no claim.
 */
static inline bool
cst_claim(cst_sched *s, casty_cell *cell)
{
	// Acquire: pairs with the release in cst_unclaim, so this consumer
	// sees the mailbox and the actor as the last one left them.
	return !s->sender_help || atomic_exchange_explicit(&cell->busy, 1,
					  memory_order_acquire) == 0;
}

/** cst_unclaim ends the calling worker's cst_claim of cell. */
static inline void
cst_unclaim(cst_sched *s, casty_cell *cell)
{
	if (s->sender_help) {
		// Release: see cst_claim.
		atomic_store_explicit(&cell->busy, 0, memory_order_release);
	}
}

/**
 * A long handler's sends offer help (cst_sched_help) every time one
 * pushes a full chain (a sender feeding one actor: fanin), and besides
 * at every CST_HELP_PERIOD-th send of the run (a sender feeding many:
 * forkjoin's driver fills sixty chains at once, and a helper's nested
 * run pushes them all, so few ever fill). Without the period, the
 * driver outran the one worker left to consume and its backlog went to
 * 100-150 MB and out of cache; every 64 sends, help cost more than it
 * saved; 256 kept the backlog near 10 MB and was fastest (128 and 512:
 * a little slower; bench/RESULTS.md).
 */
#define CST_HELP_PERIOD 256

/**
 * cst_sched_help is called by a handler's send to cell, at the moments
 * above: when every worker is busy and nobody else is taking cell's
 * messages, it runs a batch of them on this thread before the send
 * returns (see sched.c). Thread: a worker of cell's system, inside a
 * handler.
 */
void cst_sched_help(cst_worker *w, casty_cell *cell);

/**
 * cst_sched_wait_quiescent waits until every worker is parked with no
 * runnable actor anywhere (so every mailbox is empty), or timeout_ns has
 * passed. Returns true when quiescent. Thread: not a worker.
 */
bool cst_sched_wait_quiescent(cst_sched *s, int64_t timeout_ns);

/** cst_worker_pool returns the calling worker's pool, or NULL. */
static inline cst_pool *
cst_worker_pool(void)
{
	cst_worker *w = cst_tls_worker;
	return w != NULL ? &w->pool : NULL;
}

#endif // CASTY_RUNTIME_SCHED_H
