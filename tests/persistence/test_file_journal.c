// tests/persistence/test_file_journal.c: the file journal
// (persistence/file_journal.c) against the journal contract, then group
// commit from many threads, reopening, and segment rotation.
#include <errno.h>
#include <stdatomic.h>

#include <casty/casty.h>

#include "tests/support/journal_contract.h"
#include "tests/support/system_fixture.h"

static casty_system  *sys;
static casty_journal *journal;
static char          *dir;

static void
open_journal(const casty_file_journal_options *opts)
{
	cr_assert(eq(int, casty_file_journal_open(sys, dir, opts, &journal),
		CASTY_OK));
}

static void
reopen(const casty_file_journal_options *opts)
{
	casty_journal_close(journal);
	journal = NULL;
	open_journal(opts);
}

static void
setup(void)
{
	sys_setup(); // skips where io_uring is not available
	dir = make_tmpdir();
	open_journal(NULL);
}

static void
teardown(void)
{
	casty_journal_close(journal);
	journal = NULL;
	casty_system_destroy(sys);
	remove_tmpdir(dir);
	dir = NULL;
}

TestSuite(file_journal, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(file_journal_stress, .init = setup, .fini = teardown,
	.timeout = 240);

JOURNAL_CONTRACT(file_journal)

Test(file_journal, events_and_snapshots_survive_close_and_reopen)
{
	cr_assert(eq(int, persist_n(journal, "a", 1, 3), 0));
	cr_assert(eq(int, save_snapshot_sync(journal, "a", 2, "state@2"), 0));
	cr_assert(eq(int, persist_n(journal, "b", 1, 1), 0));
	reopen(NULL);
	assert_events(journal, "a", 1, 3);
	assert_events(journal, "b", 1, 1);
	sync_op *op = load_snapshot_sync(journal, "a");
	cr_assert(op->found);
	cr_assert(eq(u64, op->seq[0], 2));
	cr_assert(memcmp(op->data[0], "state@2", 7) == 0);
	sync_op_free(op);
	// The highest survives too: the next persist continues from it.
	cr_assert(eq(int, persist_n(journal, "a", 2, 1), -ESTALE));
	cr_assert(eq(int, persist_n(journal, "a", 4, 2), 0));
	reopen(NULL);
	assert_events(journal, "a", 1, 5);
}

Test(file_journal, small_segments_rotate_and_load_across_them)
{
	casty_file_journal_options opts = {.segment_bytes = 512};
	reopen(&opts);
	for (uint64_t seq = 1; seq <= 60; seq += 3) {
		cr_assert(eq(int, persist_n(journal, "e", seq, 3), 0));
	}
	reopen(&opts);
	assert_events(journal, "e", 1, 60);
	cr_assert(eq(int, persist_n(journal, "e", 61, 1), 0));
	reopen(NULL);
	assert_events(journal, "e", 1, 61);
}

// ---- Many threads, 1,000 entities, group commit ----

#define THREADS 4
#define ENTITIES 1000
#define ROUNDS 5 // persists per entity, of 1..3 events each

typedef struct {
	_Atomic uint32_t ok, failed, calls;
	_Atomic uint32_t outstanding;
} counters;

static counters count;

static void
counted_done(void *arg, int rc)
{
	(void)arg;
	// Relaxed: totals read after close, which orders every callback
	// before it returns.
	atomic_fetch_add_explicit(&count.calls, 1, memory_order_relaxed);
	if (rc == CASTY_OK) {
		atomic_fetch_add_explicit(&count.ok, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(
			&count.failed, 1, memory_order_relaxed);
	}
	// Release: pairs with the acquire load of the waiting thread, which
	// then persists the entity's next batch.
	atomic_fetch_sub_explicit(&count.outstanding, 1, memory_order_release);
}

static uint64_t highest[ENTITIES];

static size_t
batch_size(unsigned entity, unsigned round)
{
	return 1 + (entity + round) % 3;
}

static void *
persister(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	for (unsigned round = 0; round < ROUNDS; round++) {
		// This thread's entities, one persist each per round; the
		// next round waits until all of them are acknowledged (one
		// writer per entity, one write in flight, as Akka requires).
		for (unsigned e = t; e < ENTITIES; e += THREADS) {
			char id[32];
			snprintf(id, sizeof id, "entity-%u", e);
			size_t  n = batch_size(e, round);
			uint8_t bufs[3][64];
			casty_journal_record recs[3];
			for (size_t i = 0; i < n; i++) {
				recs[i].data = bufs[i];
				recs[i].len = (uint32_t)test_payload(
					id, highest[e] + 1 + i, bufs[i], 64);
			}
			atomic_fetch_add_explicit(&count.outstanding, 1,
				memory_order_relaxed);
			cr_assert(eq(int,
				casty_journal_persist(journal, id,
					highest[e] + 1, recs, n, counted_done,
					NULL),
				0));
			highest[e] += n;
		}
		// Spin until this round is durable; no sleeps.
		while (atomic_load_explicit(&count.outstanding,
			       memory_order_acquire) != 0) {
			sched_yield();
		}
	}
	return NULL;
}

Test(file_journal_stress, many_threads_persist_for_a_thousand_entities)
{
	pthread_t threads[THREADS];
	atomic_init(&count.outstanding, 0);
	for (uintptr_t t = 0; t < THREADS; t++) {
		pthread_create(&threads[t], NULL, persister, (void *)t);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(threads[t], NULL);
	}
	reopen(NULL);
	uint32_t persists = (uint32_t)ENTITIES * ROUNDS;
	cr_assert(eq(u32, atomic_load(&count.calls), persists));
	cr_assert(eq(u32, atomic_load(&count.ok), persists));
	cr_assert(eq(u32, atomic_load(&count.failed), 0));
	for (unsigned e = 0; e < ENTITIES; e++) {
		char id[32];
		snprintf(id, sizeof id, "entity-%u", e);
		assert_events(journal, id, 1, highest[e]);
	}
}
