// tests/runtime/test_mbox.c: the mailbox (runtime/mbox.c), a Vyukov MPSC
// queue whose empty mark is the actor's schedule state.
//
// Worker threads never call cr_assert (Criterion's assertions abort the
// test from its own thread only); they count what went wrong and the test
// thread asserts on the counts after joining them.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/mbox.h"

// A message of the tests: the link first, so a node is also the item.
typedef struct item {
	cst_mbox_node node;
	uint32_t      producer;
	uint64_t      seq;
} item;

static item *
item_of(cst_mbox_node *n)
{
	return (item *)n;
}

static item *
item_new(uint32_t producer, uint64_t seq)
{
	item *it = malloc(sizeof(*it));
	if (it == NULL) {
		abort();
	}
	it->producer = producer;
	it->seq = seq;
	return it;
}

static cst_mbox mb;

static void
setup(void)
{
	cst_mbox_init(&mb);
}

TestSuite(mbox, .init = setup);
TestSuite(mbox_stress, .init = setup, .timeout = 120);

Test(mbox, pop_on_empty_returns_null)
{
	cst_mbox_node *released = (cst_mbox_node *)&released;

	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), NULL));
	cr_assert(eq(ptr, released, NULL));
}

Test(mbox, first_push_schedules_and_second_does_not)
{
	item a, b;

	cr_assert(cst_mbox_push(&mb, &a.node), "a new mailbox is marked empty");
	cr_assert(not(cst_mbox_push(&mb, &b.node)));
}

Test(mbox, pop_returns_pushes_in_order_and_releases_the_previous_node)
{
	item           a, b, c;
	cst_mbox_node *released;

	cst_mbox_push(&mb, &a.node);
	cst_mbox_push(&mb, &b.node);
	cst_mbox_push(&mb, &c.node);

	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &a.node));
	cr_assert(eq(ptr, released, NULL), "the stub is never released");
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &b.node));
	cr_assert(eq(ptr, released, &a.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &c.node));
	cr_assert(eq(ptr, released, &b.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), NULL));
	cr_assert(eq(ptr, released, NULL));
	cr_assert(eq(ptr, cst_mbox_tail_to_free(&mb), &c.node));
}

Test(mbox, tail_to_free_is_null_while_the_stub_is_the_tail)
{
	item           a;
	cst_mbox_node *released;

	cr_assert(eq(ptr, cst_mbox_tail_to_free(&mb), NULL));
	cst_mbox_push(&mb, &a.node);
	cr_assert(eq(ptr, cst_mbox_tail_to_free(&mb), NULL));
	cst_mbox_pop(&mb, &released);
	cr_assert(eq(ptr, cst_mbox_tail_to_free(&mb), &a.node));
}

Test(mbox, mark_empty_after_draining_makes_the_next_push_schedule)
{
	item           a, b, c;
	cst_mbox_node *released;

	cr_assert(cst_mbox_push(&mb, &a.node));
	cr_assert(not(cst_mbox_push(&mb, &b.node)));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &a.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &b.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), NULL));

	cr_assert(cst_mbox_mark_empty(&mb));
	cr_assert(cst_mbox_push(&mb, &c.node), "the push after the mark");
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &c.node));
	cr_assert(eq(ptr, released, &b.node));
}

Test(mbox, mark_empty_fails_while_a_pushed_node_is_unread)
{
	item           a, b, c;
	cst_mbox_node *released;

	cst_mbox_push(&mb, &a.node);
	cst_mbox_push(&mb, &b.node);
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &a.node));

	cr_assert(not(cst_mbox_mark_empty(&mb)));
	cr_assert(not(cst_mbox_push(&mb, &c.node)), "still scheduled");
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &b.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &c.node));
	cr_assert(cst_mbox_mark_empty(&mb));
}

Test(mbox, mark_empty_fails_when_a_push_lands_after_the_last_pop)
{
	item           a, b;
	cst_mbox_node *released;

	cst_mbox_push(&mb, &a.node);
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &a.node));
	cr_assert(not(cst_mbox_push(&mb, &b.node)));

	cr_assert(not(cst_mbox_mark_empty(&mb)));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &b.node));
	cr_assert(cst_mbox_mark_empty(&mb));
}

// Stress 1: many producers, one consumer that only pops.

#define FIFO_PRODUCERS 8
#define FIFO_PUSHES    100000

typedef struct fifo_producer {
	pthread_t thread;
	uint32_t  id;
	uint64_t  schedules; // pushes that returned true
} fifo_producer;

typedef struct fifo_consumer {
	pthread_t thread;
	uint64_t  received;
	uint64_t  out_of_order; // wrong producer id or sequence number
} fifo_consumer;

static void *
fifo_produce(void *arg)
{
	fifo_producer *p = arg;

	for (uint64_t seq = 0; seq < FIFO_PUSHES; seq++) {
		if (cst_mbox_push(&mb, &item_new(p->id, seq)->node)) {
			p->schedules++;
		}
	}
	return NULL;
}

static void *
fifo_consume(void *arg)
{
	fifo_consumer *c = arg;
	uint64_t       next_seq[FIFO_PRODUCERS] = {0};
	const uint64_t total = (uint64_t)FIFO_PRODUCERS * FIFO_PUSHES;

	while (c->received < total) {
		cst_mbox_node *released;
		cst_mbox_node *n = cst_mbox_pop(&mb, &released);

		free(released); // NULL for the stub or when n is NULL
		if (n == NULL) {
			sched_yield(); // give the producers the core
			continue;
		}
		// Plain reads: the push's release store of ->next makes them
		// visible; TSan reports a race if it does not.
		item *it = item_of(n);
		if (it->producer >= FIFO_PRODUCERS ||
			it->seq != next_seq[it->producer]) {
			c->out_of_order++;
		} else {
			next_seq[it->producer]++;
		}
		c->received++;
	}
	return NULL;
}

Test(mbox_stress, eight_producers_lose_nothing_and_keep_per_sender_order)
{
	fifo_producer  p[FIFO_PRODUCERS];
	fifo_consumer  c = {0};
	cst_mbox_node *released;
	uint64_t       schedules = 0;

	cr_assert(eq(int,
		pthread_create(&c.thread, NULL, fifo_consume, &c), 0));
	for (uint32_t i = 0; i < FIFO_PRODUCERS; i++) {
		p[i] = (fifo_producer){.id = i};
		cr_assert(eq(int,
			pthread_create(&p[i].thread, NULL, fifo_produce, &p[i]),
			0));
	}
	for (uint32_t i = 0; i < FIFO_PRODUCERS; i++) {
		pthread_join(p[i].thread, NULL);
		schedules += p[i].schedules;
	}
	pthread_join(c.thread, NULL);

	cr_assert(eq(u64, c.received, (uint64_t)FIFO_PRODUCERS * FIFO_PUSHES));
	cr_assert(eq(u64, c.out_of_order, 0));
	// Nobody marked the mailbox empty, so only the very first push saw
	// the initial mark.
	cr_assert(eq(u64, schedules, 1));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), NULL));
	free(cst_mbox_tail_to_free(&mb));
}

// Stress 2: the mailbox as the actor's schedule state. A producer whose
// push returns true "schedules the actor": it takes ownership and posts a
// run token to the consumer (the worker). The worker runs the actor once
// per token: it drains the mailbox, gives up ownership and marks it
// empty; when the mark fails a push has begun, so it takes ownership back
// and drains again. Producers push bursts of 1 to 4 and wait for the
// worker to have handled them, so the mailbox goes empty and gets
// scheduled again many times, with pushes racing the marks.
//
// Invariants checked:
// - at most one owner at any time: whoever takes ownership (a producer
//   whose push returned true, or the worker after a failed mark) finds
//   none; the worker gives it up only just before a mark attempt, when
//   no push can return true because the head is not marked;
// - every run ends with exactly one successful mark, and runs happen only
//   on tokens, so schedules (true pushes) == runs == successful marks;
// - nothing lost, per-producer FIFO;
// - at the end the mailbox is marked: one more push returns true.
// The token and ownership handovers synchronise on their own, so under
// TSan it is stress 1 that checks push/pop publish the payload.

#define SCHED_PRODUCERS 8
#define SCHED_PUSHES    20000

static struct {
	pthread_mutex_t  lock;
	pthread_cond_t   cond;
	uint64_t         tokens; // under lock: runs posted, not yet started
	_Atomic int      owned;  // 1 while the actor is scheduled
	_Atomic uint64_t schedules;    // pushes that returned true
	_Atomic uint64_t double_owner; // ownership taken while held
	// Worker writes, producer i waits on [i]: its messages handled.
	_Atomic uint64_t handled[SCHED_PRODUCERS];
} model = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

typedef struct sched_worker {
	pthread_t thread;
	uint64_t  received;
	uint64_t  out_of_order;
	uint64_t  runs;
	uint64_t  marks;        // successful mark_empty calls
	uint64_t  failed_marks; // mark_empty returned false
	uint64_t  unowned_runs; // a run started without ownership
} sched_worker;

static void
take_ownership(void)
{
	// acq_rel: the owner before us released it (relaxed would do for
	// counting, but this keeps the handover visible to TSan too).
	if (atomic_exchange_explicit(&model.owned, 1, memory_order_acq_rel)) {
		atomic_fetch_add_explicit(
			&model.double_owner, 1, memory_order_relaxed);
	}
}

static void *
sched_produce(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	for (uint64_t seq = 0; seq < SCHED_PUSHES; seq++) {
		if (cst_mbox_push(&mb, &item_new(id, seq)->node)) {
			atomic_fetch_add_explicit(
				&model.schedules, 1, memory_order_relaxed);
			take_ownership();
			pthread_mutex_lock(&model.lock);
			model.tokens++;
			pthread_cond_signal(&model.cond);
			pthread_mutex_unlock(&model.lock);
		}
		if (seq % 4 != id % 4 && seq + 1 < SCHED_PUSHES) {
			continue; // bursts of up to 4, phase by producer
		}
		// Wait for the worker to have handled the burst. A lost
		// schedule hangs here, and the test's timeout fails it.
		while (atomic_load_explicit(&model.handled[id],
			       memory_order_acquire) <= seq) {
			sched_yield();
		}
	}
	return NULL;
}

static void
drain(sched_worker *w, uint64_t *next_seq)
{
	cst_mbox_node *released;
	cst_mbox_node *n;

	while ((n = cst_mbox_pop(&mb, &released)) != NULL) {
		free(released);
		item *it = item_of(n);
		if (it->producer >= SCHED_PRODUCERS ||
			it->seq != next_seq[it->producer]) {
			w->out_of_order++;
		} else {
			next_seq[it->producer]++;
			atomic_store_explicit(&model.handled[it->producer],
				next_seq[it->producer], memory_order_release);
		}
		w->received++;
	}
}

static void *
sched_work(void *arg)
{
	sched_worker  *w = arg;
	uint64_t       next_seq[SCHED_PRODUCERS] = {0};
	const uint64_t total = (uint64_t)SCHED_PRODUCERS * SCHED_PUSHES;

	// When everything is received after a run, every true push has had
	// its run: its node is popped only in a run started by its token or
	// later, and each run ends with a mark. A wrong push result would
	// leave us waiting here, and the test's timeout fails it.
	while (w->received < total) {
		pthread_mutex_lock(&model.lock);
		while (model.tokens == 0) {
			pthread_cond_wait(&model.cond, &model.lock);
		}
		model.tokens--;
		pthread_mutex_unlock(&model.lock);

		w->runs++;
		if (!atomic_load_explicit(&model.owned, memory_order_acquire)) {
			w->unowned_runs++;
		}
		for (;;) {
			drain(w, next_seq);
			// Give up ownership before the mark: once the mark is
			// set, the next push takes it.
			atomic_store_explicit(
				&model.owned, 0, memory_order_release);
			if (cst_mbox_mark_empty(&mb)) {
				w->marks++;
				break;
			}
			// A push is between its exchange and its link, or
			// linked after our last pop: the actor stays ours.
			w->failed_marks++;
			take_ownership();
			sched_yield(); // let a preempted producer link
		}
	}
	return NULL;
}

Test(mbox_stress, push_schedules_exactly_once_per_mark_empty)
{
	pthread_t      producers[SCHED_PRODUCERS];
	sched_worker   w = {0};
	item           last;
	cst_mbox_node *released;

	cr_assert(eq(int, pthread_create(&w.thread, NULL, sched_work, &w), 0));
	for (uintptr_t i = 0; i < SCHED_PRODUCERS; i++) {
		cr_assert(eq(int, pthread_create(&producers[i], NULL,
					  sched_produce, (void *)i),
			0));
	}
	for (int i = 0; i < SCHED_PRODUCERS; i++) {
		pthread_join(producers[i], NULL);
	}
	pthread_join(w.thread, NULL);

	uint64_t schedules =
		atomic_load_explicit(&model.schedules, memory_order_relaxed);
	cr_log_info("%llu schedules, %llu failed marks",
		(unsigned long long)schedules,
		(unsigned long long)w.failed_marks);
	cr_assert(eq(u64, w.received,
		(uint64_t)SCHED_PRODUCERS * SCHED_PUSHES));
	cr_assert(eq(u64, w.out_of_order, 0));
	cr_assert(eq(u64, atomic_load(&model.double_owner), 0));
	cr_assert(eq(u64, w.unowned_runs, 0));
	cr_assert(eq(u64, w.runs, schedules));
	cr_assert(eq(u64, w.marks, schedules));
	cr_assert(eq(u64, model.tokens, 0));
	cr_assert(eq(int, atomic_load(&model.owned), 0));

	// The last run marked the mailbox: the next push schedules again.
	cr_assert(cst_mbox_push(&mb, &last.node));
	cr_assert(eq(ptr, cst_mbox_pop(&mb, &released), &last.node));
	free(released);
}
