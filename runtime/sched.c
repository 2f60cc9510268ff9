// runtime/sched.c: workers, stealing and parking.
//
// Each worker runs, in order of preference: every 61st round the
// injection queue first (so outside work is never starved by local work);
// its LIFO slot (the actor it messaged last: message-passing locality, as
// in Tokio); the bottom of its own deque; the injection queue; then it
// searches: it steals from the top of other workers' deques in random
// order and spins a little; then it parks.
//
// Parking, without lost wake-ups or herds (Tokio's idle protocol):
// - `searching` counts workers looking for work, `nparked` parked ones.
//   At most half the workers (rounded up) search at once.
// - Whoever makes work visible (deque push, injection) then calls notify:
//   a seq_cst fence, and if nobody searches and somebody is parked, one
//   parked worker is woken as a searcher (counted in `searching` by the
//   waker, so a second notify does not wake a second one).
// - A searcher that finds work and was the last searcher notifies, so
//   wake-ups ripple one at a time while work keeps appearing.
// - A worker parks by first registering in the idle list and `nparked`
//   and leaving `searching` (seq_cst RMWs), then re-checking every deque
//   and the injection queue with seq_cst loads. The producer's
//   sequence is: publish work, fence, read the counters. In the single
//   order of the seq_cst operations either the producer's fence comes
//   before the parker's re-check, which then sees the work, or the
//   parker's registration comes before the fence, and the producer sees
//   it parked (or sees a searcher whose own later re-check sees the
//   work). So work is never left with everyone asleep.
// - The futex word is the worker's `park`: 1 parked, 0 or 2 woken. The
//   waker changes it under idle_lock before futex_wake, and the sleeper
//   waits only while it reads 1, so a wake between its check and its
//   sleep makes the futex call return at once.
//
// Sender help (cst_sched_help), Erlang's answer to a fast sender in C:
// Erlang charges a process that sends to a long queue and so schedules
// the receiver sooner; a C handler cannot be paused, so while every
// worker runs a long handler (fanin: producers that send millions of
// messages from one run), the receiver would wait for one of them to end
// while its backlog grows by hundreds of megabytes. Instead, a long
// handler whose send has just pushed a full chain to an actor, or is its
// CST_HELP_PERIOD-th send (a sender feeding many actors round-robin
// fills few chains), runs a batch of that actor right there, on its own
// stack, when nobody else is taking its messages. The backlog stays a
// few chains long, in cache, and the envelopes go back to the pool of the
// worker that made them.
// The helper never owns the actor's schedule (its place in a queue, the
// empty mark): it only claims the mailbox's consumer side for the batch
// (cell->busy). Whoever owns the schedule claims it too, from taking the
// cell out of a queue until it puts it back or marks it empty; the hot
// and LIFO slots keep their claim, so ping-pong pays no claim at all. An
// owner whose claim fails (a helper is inside) puts the cell back in the
// injection queue and runs it later. With one worker, or when the system
// is created with no_sender_help, there is no helping and no claim.
// Tested by: tests/runtime/test_park.c, test_sched.c (suites *_stress
// and sender_help).
#include "runtime/sched.h"

#include <errno.h>
#include <time.h>
#include <stdlib.h>

#include "runtime/actor.h"
#include "runtime/fence.h"
#include "runtime/park.h"
#include "runtime/system.h"

#define FAIRNESS_TICKS 61  // rounds between injection-first checks
#define LIFO_MAX       64  // LIFO runs in a row while others wait
// Steal sweeps before parking. Few: on a machine with as many workers as
// cores, a spinning worker takes the CPU from the thread that would bring
// it work (bench/micro_ask: 32 sweeps 15 us per ask, 2000 sweeps 95 us,
// 4 sweeps 8 us; the throughput benchmarks did not move).
#define SEARCH_ROUNDS 4
#define SPINS_PER_ROUND 16
#define LONG_HANDLER_SENDS CST_OUTBOX_CHAIN
// Messages a helping sender handles for its receiver per chain it sent:
// two chains' worth, so that two senders helping in turn keep up with
// two senders sending.
#define HELP_BUDGET (2 * CST_OUTBOX_CHAIN)
// How often a parked worker checks for a hot actor held through a long
// run elsewhere; such an actor waits at most about two periods.
#define RESCUE_PERIOD_NS (5 * 1000 * 1000)

_Thread_local cst_worker *cst_tls_worker
	__attribute__((tls_model("initial-exec")));

static void
inject_push(cst_sched *s, casty_cell *cell)
{
	cst_inject_push(&s->inject, &cell->ready);
}

static casty_cell *
inject_pop(cst_sched *s)
{
	cst_inject_node *node = cst_inject_pop(&s->inject);
	return node != NULL ? (casty_cell *)((char *)node -
					   offsetof(casty_cell, ready))
			    : NULL;
}

static void
notify(cst_sched *s)
{
	// seq_cst: orders the publication of work before the loads of the
	// counters, against the parker's seq_cst registration and re-check
	// (see the top of this file).
	cst_fence_seq_cst();
	if (atomic_load_explicit(&s->searching, memory_order_seq_cst) != 0 ||
	    atomic_load_explicit(&s->nparked, memory_order_seq_cst) == 0) {
		return;
	}
	pthread_mutex_lock(&s->idle_lock);
	if (s->nidle == 0 ||
	    atomic_load_explicit(&s->searching, memory_order_relaxed) != 0) {
		pthread_mutex_unlock(&s->idle_lock);
		return;
	}
	cst_worker *w = &s->workers[s->idle[--s->nidle]];
	atomic_fetch_sub_explicit(&s->nparked, 1, memory_order_seq_cst);
	atomic_fetch_add_explicit(&s->searching, 1, memory_order_seq_cst);
	// Release: the woken worker's acquire load of park sees the counts.
	atomic_store_explicit(&w->park, 2, memory_order_release);
	pthread_mutex_unlock(&s->idle_lock);
	cst_futex_wake(&w->park, 1);
}

// Makes cell runnable on this worker. claimed: the caller holds the
// cell's consumer claim, which the LIFO slot keeps (only this worker
// takes from it: a ping-pong pays no claim), while the deque, which
// others steal from, gets cells unclaimed.
static void
schedule_here(cst_worker *w, casty_cell *cell, bool claimed)
{
	cst_sched *s = w->sched;

	if (w->outbox.sent > LONG_HANDLER_SENDS) {
		// The running handler is a long one (it has sent a lot): do not
		// hoard what it wakes in the LIFO slot, which no other worker
		// can take.
		if (claimed) {
			cst_unclaim(s, cell);
		}
		cst_deque_push(&w->deque, cell);
		notify(s);
		return;
	}
	casty_cell *prev = w->lifo;
	bool        prev_claimed = w->lifo_claimed;
	w->lifo = cell;
	w->lifo_claimed = claimed;
	if (prev == NULL) {
		return; // we will run it next: nobody to wake
	}
	if (prev_claimed) {
		cst_unclaim(s, prev);
	}
	cst_deque_push(&w->deque, prev);
	notify(s);
}

void
cst_schedule(casty_cell *cell)
{
	cst_worker *w = cst_tls_worker;
	cst_sched  *s = &cell->sys->sched;

	if (w != NULL && w->sched == s) {
		schedule_here(w, cell, false);
		return;
	}
	inject_push(s, cell);
	notify(s);
}

static bool
work_visible(cst_sched *s)
{
	if (cst_inject_len(&s->inject, memory_order_seq_cst) != 0) {
		return true;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (!cst_deque_looks_empty(&s->workers[i].deque)) {
			return true;
		}
	}
	return false;
}

static bool
local_has_work(cst_worker *w)
{
	return w->lifo != NULL || !cst_deque_looks_empty(&w->deque) ||
	       cst_inject_len(&w->sched->inject, memory_order_relaxed) != 0;
}

// The hot actor: an actor whose mailbox a run found empty is not marked
// idle at once (a CAS on its mailbox, a line the producer also writes),
// but kept unmarked in w->hot, still owned by this worker: a producer
// pushing to it sees no mark and schedules nothing, and this worker runs
// it again when its mailbox shows a message. In a ping-pong on one worker
// each side is hot while the other runs, so a message costs one exchange
// on this worker's own line and no CAS on a shared one. When another
// actor takes the slot, or before the worker searches or parks, the hot
// one is settled: run again when it has mail, else marked idle (and run
// again if the CAS finds a push in flight).
//
// A hot actor must not wait while its worker is stuck in one long run of
// another actor (a handler that computes for seconds): an idle worker
// that sees the same run count twice, a rescue period apart, with a hot
// actor still there, takes it by exchange and settles it (rescue_hot).
// Whoever gets the cell out of the exchange owns it, so the owner also
// takes it only by exchange; the count only decides when to try (a
// worker that merely paused between runs loses its hot actor to the
// injection queue, which is harmless).
//
// A hot actor keeps its consumer claim; settle gives it up after the
// mark, so that no helper reads the mailbox while it is being marked, or
// passes it on with the cell (schedule_here).
static void
settle(cst_worker *w, casty_cell *cell)
{
	if (cst_mbox_has_next(&cell->mbox) ||
	    !cst_mbox_mark_empty(&cell->mbox)) {
		schedule_here(w, cell, true);
	} else {
		cst_unclaim(w->sched, cell);
	}
}

// Exchanges the hot slot's content. A lone worker has no rescuer, so it
// needs no atomic read-modify-write (the ping-pong of a one-worker system
// pays none); otherwise, acq_rel: releases what this worker did with the
// cell it leaves to a rescuer that takes it, and acquires nothing new
// (only the owner stores a cell).
static inline casty_cell *
swap_hot(cst_worker *w, casty_cell *cell)
{
	if (w->sched->nworkers == 1) {
		casty_cell *prev =
			atomic_load_explicit(&w->hot, memory_order_relaxed);
		atomic_store_explicit(&w->hot, cell, memory_order_relaxed);
		return prev;
	}
	return atomic_exchange_explicit(&w->hot, cell, memory_order_acq_rel);
}

static void
keep_hot(cst_worker *w, casty_cell *cell)
{
	casty_cell *prev = swap_hot(w, cell);
	if (prev != NULL) {
		settle(w, prev);
	}
}

// Takes the hot actor out of the slot, if a rescuer has not.
static casty_cell *
take_hot(cst_worker *w)
{
	if (atomic_load_explicit(&w->hot, memory_order_relaxed) == NULL) {
		return NULL;
	}
	return swap_hot(w, NULL);
}

// Runs a batch of cell for a sender (see sender help at the top). The
// handler that sent is in the middle of its run: what it batched is
// pushed first, and its outbox counts are kept aside, so each nested
// handler starts counting its own sends from zero and pushes them when
// it returns.
static void
help_run(cst_worker *w, casty_cell *cell)
{
	cst_outbox *ob = &w->outbox;
	uint32_t    sent = ob->sent, appended = ob->appended;
	uint32_t    displaced = ob->displaced;
	bool        bypass = ob->bypass;

	// An offer made between full chains (CST_HELP_PERIOD) finds the
	// receiver's latest messages still in our chain to it.
	cst_outbox_flush(ob);
	ob->sent = ob->appended = ob->displaced = 0;
	ob->bypass = false;
	w->helping = true;
	cst_actor_run(w, cell, HELP_BUDGET);
	w->helping = false;
	ob->armed = true;
	ob->sent = sent;
	ob->appended = appended;
	ob->displaced = displaced;
	ob->bypass = bypass;
}

void
cst_sched_help(cst_worker *w, casty_cell *cell)
{
	cst_sched *s = w->sched;

	if (!s->sender_help || w->helping || cell->kind != CST_CELL_ACTOR) {
		return;
	}
	// Our own hot actor: its schedule and claim are ours to take.
	// Only we store into the slot, so the exchange finds cell there or
	// nothing (an idle worker rescued it meanwhile).
	if (atomic_load_explicit(&w->hot, memory_order_relaxed) == cell &&
	    take_hot(w) == cell) {
		help_run(w, cell);
		settle(w, cell); // to our deque: this handler is a long one
		return;
	}
	// A worker that is idle or looking for work takes the cell from our
	// deque and runs it beside us: better than running it here. Relaxed:
	// hints; a wrong guess costs one batch run here or one not run.
	if (atomic_load_explicit(&s->nparked, memory_order_relaxed) != 0 ||
	    atomic_load_explicit(&s->searching, memory_order_relaxed) != 0) {
		return;
	}
	// Fails while the cell runs elsewhere, is another worker's hot actor
	// or another sender helps it: its messages are being taken then, and
	// this sender goes on sending (waiting for the other helper was
	// tried: it halves fanin, one core idles while the other handles).
	if (!cst_claim(s, cell)) {
		return;
	}
	help_run(w, cell);
	cst_unclaim(s, cell);
}

// Counts a run (see the hot actor above).
static inline void
count_run(cst_worker *w)
{
	// Relaxed: a hint; the exchange on hot carries ownership.
	atomic_store_explicit(&w->runs, ++w->runs_local, memory_order_relaxed);
}

// Called by an idle worker every rescue period: settles the hot actor of
// every worker that has been inside the same run since the last period.
static void
rescue_hot(cst_worker *me)
{
	cst_sched *s = me->sched;
	for (unsigned i = 0; i < s->nworkers; i++) {
		cst_worker *v = &s->workers[i];
		if (v == me) {
			continue;
		}
		// Relaxed: hints, see runs.
		uint64_t n = atomic_load_explicit(&v->runs, memory_order_relaxed);
		uint64_t seen = atomic_exchange_explicit(
			&v->rescue_seen, n, memory_order_relaxed);
		if (n != seen ||
		    atomic_load_explicit(&v->hot, memory_order_relaxed) == NULL) {
			continue;
		}
		// Acquire: pairs with the owner's release in keep_hot, so this
		// worker sees the cell as the owner left it.
		casty_cell *cell = atomic_exchange_explicit(
			&v->hot, NULL, memory_order_acquire);
		// Settled into the injection queue, not this parked worker's
		// own slots, and announced, so an awake worker takes it. The
		// slot's claim came with the cell.
		if (cell == NULL) {
			continue;
		}
		bool runnable = cst_mbox_has_next(&cell->mbox) ||
				!cst_mbox_mark_empty(&cell->mbox);
		cst_unclaim(s, cell);
		if (runnable) {
			inject_push(s, cell);
			notify(s);
		}
	}
}

// Returns the next cell to run; *claimed tells whether it comes with its
// consumer claim (the hot actor's).
static casty_cell *
local_next(cst_worker *w, bool *claimed)
{
	cst_sched  *s = w->sched;
	casty_cell *cell;

	if (++w->tick % FAIRNESS_TICKS == 0 && (cell = inject_pop(s))) {
		return cell;
	}
	if (w->lifo != NULL) {
		cell = w->lifo;
		w->lifo = NULL;
		if (++w->lifo_runs <= LIFO_MAX || !local_has_work(w)) {
			*claimed = w->lifo_claimed;
			return cell;
		}
		// A message ping-pong has held this worker while others
		// wait: send the LIFO actor to the back of the line.
		w->lifo_runs = 0;
		if (w->lifo_claimed) {
			cst_unclaim(s, cell);
		}
		inject_push(s, cell);
		notify(s);
	}
	w->lifo_runs = 0;
	if ((cell = cst_deque_take(&w->deque)) != NULL) {
		return cell;
	}
	if ((cell = inject_pop(s)) != NULL) {
		return cell;
	}
	// Nothing else here: the hot actor if it has mail, else settled
	// before the worker looks elsewhere, so nothing it was sent waits
	// on this worker.
	if ((cell = take_hot(w)) != NULL) {
		if (cst_mbox_has_next(&cell->mbox)) {
			*claimed = true;
			return cell;
		}
		settle(w, cell);
		return local_next(w, claimed); // once: the slot is empty now
	}
	return NULL;
}

static void
stop_searching(cst_worker *w)
{
	if (!w->searching) {
		return;
	}
	w->searching = false;
	// seq_cst: part of the parking protocol (see the top of this file).
	if (atomic_fetch_sub_explicit(&w->sched->searching, 1,
		    memory_order_seq_cst) == 1) {
		notify(w->sched); // we were the last searcher: pass it on
	}
}

static casty_cell *
steal_from(cst_worker *victim)
{
	for (int tries = 0; tries < 4; tries++) {
		void *x = cst_deque_steal(&victim->deque);
		if (x != CST_DEQUE_ABORT) {
			return x;
		}
	}
	return NULL;
}

static uint64_t
next_random(cst_worker *w)
{
	// xorshift64: cheap and good enough to spread victims.
	uint64_t x = w->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return w->rng = x;
}

static casty_cell *
search(cst_worker *w)
{
	cst_sched *s = w->sched;
	unsigned   n = s->nworkers;

	if (!w->searching) {
		uint32_t now = atomic_load_explicit(
			&s->searching, memory_order_relaxed);
		if (2 * now >= n && n > 1) {
			return NULL; // enough searchers already
		}
		atomic_fetch_add_explicit(&s->searching, 1,
			memory_order_seq_cst);
		w->searching = true;
	}
	for (int round = 0; round < SEARCH_ROUNDS; round++) {
		unsigned start = (unsigned)(next_random(w) % n);
		for (unsigned i = 0; i < n; i++) {
			cst_worker *v = &s->workers[(start + i) % n];
			if (v == w) {
				continue;
			}
			casty_cell *cell = steal_from(v);
			if (cell != NULL) {
				return cell;
			}
		}
		casty_cell *cell = inject_pop(s);
		if (cell != NULL) {
			return cell;
		}
		if (atomic_load_explicit(&s->shutdown, memory_order_relaxed)) {
			break;
		}
		for (int i = 0; i < SPINS_PER_ROUND; i++) {
			cst_cpu_relax();
		}
	}
	return NULL;
}

static bool
unpark_self(cst_worker *w)
{
	cst_sched *s = w->sched;
	bool       removed = false;

	pthread_mutex_lock(&s->idle_lock);
	for (unsigned i = 0; i < s->nidle; i++) {
		if (s->idle[i] == w->index) {
			s->idle[i] = s->idle[--s->nidle];
			atomic_fetch_sub_explicit(
				&s->nparked, 1, memory_order_seq_cst);
			atomic_store_explicit(&w->park, 0, memory_order_relaxed);
			removed = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->idle_lock);
	return removed;
}

static void
park(cst_worker *w)
{
	cst_sched *s = w->sched;

	pthread_mutex_lock(&s->idle_lock);
	atomic_store_explicit(&w->park, 1, memory_order_relaxed);
	s->idle[s->nidle++] = w->index;
	uint32_t parked = 1 + atomic_fetch_add_explicit(
		&s->nparked, 1, memory_order_seq_cst);
	pthread_mutex_unlock(&s->idle_lock);
	if (parked == s->nworkers) {
		// Perhaps quiescent: let a draining destroy look (under the
		// lock, so its check-then-wait cannot miss this).
		pthread_mutex_lock(&s->drain_lock);
		pthread_cond_broadcast(&s->drain_cond);
		pthread_mutex_unlock(&s->drain_lock);
	}

	if (w->searching) {
		w->searching = false;
		atomic_fetch_sub_explicit(
			&s->searching, 1, memory_order_seq_cst);
	}
	// No fence needed here: the RMWs above and the loads in work_visible
	// are all seq_cst, so they are ordered against the producer's fence
	// in the single total order (see the top of this file).
	if ((work_visible(s) ||
		atomic_load_explicit(&s->shutdown, memory_order_seq_cst)) &&
	    unpark_self(w)) {
		return;
	}
	uint32_t v;
	// Acquire: pairs with the waker's release store.
	while ((v = atomic_load_explicit(&w->park, memory_order_acquire)) ==
	       1) {
		// While another worker runs, wake up now and then to rescue
		// a hot actor it may be holding through a long run (see the
		// hot actor above); with everyone parked, sleep until woken.
		bool others_run = atomic_load_explicit(&s->nparked,
					  memory_order_relaxed) < s->nworkers;
		cst_futex_wait(&w->park, 1, others_run ? RESCUE_PERIOD_NS : -1);
		if (others_run &&
		    atomic_load_explicit(&w->park, memory_order_acquire) == 1) {
			rescue_hot(w);
		}
	}
	if (v == 2) {
		w->searching = true; // the waker counted us
	}
}

static void *
worker_main(void *arg)
{
	cst_worker *w = arg;
	cst_sched  *s = w->sched;

	cst_tls_worker = w;
	for (;;) {
		bool        claimed = false;
		casty_cell *cell = local_next(w, &claimed);
		if (cell == NULL) {
			cell = search(w);
		}
		if (cell == NULL) {
			if (atomic_load_explicit(
				    &s->shutdown, memory_order_acquire)) {
				break;
			}
			// Idle: what the lanes hold goes back for anyone to take.
			cst_lanes_release(&w->lanes, &w->pool);
			park(w);
			continue;
		}
		stop_searching(w);
		if (!claimed && !cst_claim(s, cell)) {
			// A sender is running a batch of it: after the others.
			inject_push(s, cell);
			notify(s);
			continue;
		}
		count_run(w);
		if (cst_actor_run(w, cell, s->throughput) == CST_RUN_EMPTY) {
			keep_hot(w, cell); // with its claim
			continue;
		}
		// A full batch. The hot actor must not wait behind an actor
		// that keeps its batches full: settle it now, which makes it
		// runnable (and stealable) if it has mail.
		casty_cell *hot = take_hot(w);
		if (hot != NULL) {
			settle(w, hot);
		}
		if (local_has_work(w)) {
			// Run it again after whatever else waits.
			cst_unclaim(s, cell);
			inject_push(s, cell);
			notify(s);
		} else {
			w->lifo = cell;
			w->lifo_claimed = true;
		}
	}
	stop_searching(w);
	cst_tls_worker = NULL;
	return NULL;
}

static bool
quiescent(cst_sched *s)
{
	// seq_cst: ordered after our own last tell, and against parking.
	return atomic_load_explicit(&s->nparked, memory_order_seq_cst) ==
		       s->nworkers &&
	       !work_visible(s);
}

bool
cst_sched_wait_quiescent(cst_sched *s, int64_t timeout_ns)
{
	int64_t deadline = cst_now_ns() + timeout_ns;
	bool    done;

	pthread_mutex_lock(&s->drain_lock);
	while (!(done = quiescent(s))) {
		int64_t left = deadline - cst_now_ns();
		if (left <= 0) {
			break;
		}
		// Wake now and then anyway: a worker that parks as the last one
		// broadcasts, but work can also vanish without a park (a
		// running worker finishing its last actor parks right after).
		if (left > 10000000) {
			left = 10000000;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += left;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&s->drain_cond, &s->drain_lock, &ts);
	}
	pthread_mutex_unlock(&s->drain_lock);
	return done;
}

static void
destroy_sync(cst_sched *s)
{
	cst_inject_fini(&s->inject);
	pthread_mutex_destroy(&s->idle_lock);
	pthread_mutex_destroy(&s->drain_lock);
	pthread_cond_destroy(&s->drain_cond);
}

int
cst_sched_start(cst_sched *s, casty_system *sys, unsigned nworkers,
	unsigned throughput, bool sender_help)
{
	s->sys = sys;
	s->nworkers = nworkers;
	s->throughput = throughput;
	// One worker has nobody to wait for: a receiver runs as soon as the
	// sender's run ends, and helping would only reorder the same work.
	s->sender_help = sender_help && nworkers > 1;
	cst_inject_init(&s->inject);
	atomic_init(&s->searching, 0);
	atomic_init(&s->nparked, 0);
	atomic_init(&s->shutdown, false);
	s->nidle = 0;
	pthread_mutex_init(&s->idle_lock, NULL);
	pthread_mutex_init(&s->drain_lock, NULL);
	pthread_cond_init(&s->drain_cond, NULL);
	s->workers = cst_alloc_aligned(sizeof(cst_worker) * nworkers, 64);
	s->idle = cst_calloc(sizeof(unsigned) * nworkers);
	if (s->workers == NULL || s->idle == NULL) {
		cst_free_aligned(s->workers, sizeof(cst_worker) * nworkers, 64);
		cst_free_sized(s->idle, sizeof(unsigned) * nworkers);
		s->workers = NULL;
		destroy_sync(s);
		return ENOMEM;
	}
	for (unsigned i = 0; i < nworkers; i++) {
		cst_worker *w = &s->workers[i];
		*w = (cst_worker){.sched = s, .index = i};
		w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
		atomic_init(&w->park, 0);
		atomic_init(&w->hot, NULL);
		atomic_init(&w->runs, 0);
		atomic_init(&w->rescue_seen, 0);
		cst_pool_init(&w->pool);
		cst_lanes_init(&w->lanes);
		if (cst_deque_init(&w->deque) != 0) {
			for (unsigned j = 0; j <= i; j++) {
				cst_pool_fini(&s->workers[j].pool);
			}
			for (unsigned j = 0; j < i; j++) {
				cst_deque_fini(&s->workers[j].deque);
			}
			cst_free_aligned(
				s->workers, sizeof(cst_worker) * nworkers, 64);
			cst_free_sized(s->idle, sizeof(unsigned) * nworkers);
			s->workers = NULL;
			destroy_sync(s);
			return ENOMEM;
		}
	}
	for (unsigned i = 0; i < nworkers; i++) {
		int rc = pthread_create(
			&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
		if (rc != 0) {
			s->nworkers = i; // join what started, then unwind
			cst_sched_stop(s);
			s->nworkers = nworkers;
			cst_sched_fini(s);
			return rc;
		}
	}
	return 0;
}

void
cst_sched_stop(cst_sched *s)
{
	atomic_store_explicit(&s->shutdown, true, memory_order_seq_cst);
	pthread_mutex_lock(&s->idle_lock);
	for (unsigned i = 0; i < s->nidle; i++) {
		cst_worker *w = &s->workers[s->idle[i]];
		atomic_store_explicit(&w->park, 0, memory_order_release);
		cst_futex_wake(&w->park, 1);
	}
	s->nidle = 0;
	atomic_store_explicit(&s->nparked, 0, memory_order_relaxed);
	pthread_mutex_unlock(&s->idle_lock);
	for (unsigned i = 0; i < s->nworkers; i++) {
		pthread_join(s->workers[i].thread, NULL);
	}
}

void
cst_sched_fini(cst_sched *s)
{
	if (s->workers == NULL) {
		return;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		cst_lanes_release(&s->workers[i].lanes, &s->workers[i].pool);
		cst_pool_fini(&s->workers[i].pool);
		cst_deque_fini(&s->workers[i].deque);
	}
	cst_free_aligned(s->workers, sizeof(cst_worker) * s->nworkers, 64);
	cst_free_sized(s->idle, sizeof(unsigned) * s->nworkers);
	s->workers = NULL;
	s->idle = NULL;
	destroy_sync(s);
}
