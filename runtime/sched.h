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
	uint64_t    runs_local; // the owner's copy of runs
	casty_cell *free_cells[2]; // cell cache, per kind
	uint32_t    nfree_cells[2];
	const casty_protocol *last_proto; // spawned last (actor.c)
	cst_pool    pool;   // envelopes
	cst_outbox  outbox; // what the running handler sent
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
};

struct cst_sched {
	casty_system *sys;
	unsigned      nworkers;
	unsigned      throughput;
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

/** cst_sched_start starts nworkers threads. Returns 0 or an errno. */
int cst_sched_start(cst_sched *s, casty_system *sys, unsigned nworkers,
	unsigned throughput);

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
