// tests/support/journal_contract.h: the journal contract of
// include/casty/journal.h as tests, written once and run against every
// implementation. The including file defines `static casty_journal
// *journal;`, a suite whose .init opens it and whose .fini closes it, and
// then writes JOURNAL_CONTRACT(suite).
#ifndef CASTY_TESTS_SUPPORT_JOURNAL_CONTRACT_H
#define CASTY_TESTS_SUPPORT_JOURNAL_CONTRACT_H

#include <errno.h>

#include "tests/support/journal_sync.h"

static inline int
save_snapshot_sync(casty_journal *j, const char *entity, uint64_t seq,
	const char *state)
{
	sync_op *op = sync_op_new();
	casty_journal_record rec = {state, (uint32_t)strlen(state)};
	int rc = sync_wait(op, casty_journal_save_snapshot(j, entity, seq, rec,
				       sync_done, op));
	sync_op_free(op);
	return rc;
}

static inline sync_op *
load_snapshot_sync(casty_journal *j, const char *entity)
{
	sync_op *op = sync_op_new();
	op->rc = sync_wait(op,
		casty_journal_load_snapshot(j, entity, sync_snapshot, op));
	return op;
}

static inline void
ignore_done(void *arg, int rc)
{
	(void)arg;
	(void)rc;
	cr_assert(false, "a rejected call ran its callback");
}

static inline void
ignore_replay(void *arg, uint64_t seq, const void *data, size_t len)
{
	(void)arg;
	(void)seq;
	(void)data;
	(void)len;
}

static inline void
ignore_snapshot(void *arg, int rc, bool found, uint64_t seq,
	const void *data, size_t len)
{
	(void)arg;
	(void)rc;
	(void)found;
	(void)seq;
	(void)data;
	(void)len;
	cr_assert(false, "a rejected call ran its callback");
}

#define JOURNAL_CONTRACT(suite)                                               \
	Test(suite, persisted_events_load_back_in_order)                      \
	{                                                                     \
		cr_assert(eq(int, persist_n(journal, "acct-1", 1, 3), 0));    \
		cr_assert(eq(int, persist_n(journal, "acct-1", 4, 1), 0));    \
		cr_assert(eq(int, persist_n(journal, "acct-2", 1, 2), 0));    \
		assert_events(journal, "acct-1", 1, 4);                       \
		assert_events(journal, "acct-2", 1, 2);                       \
	}                                                                     \
	Test(suite, persist_not_after_the_highest_is_stale_and_writes_nothing) \
	{                                                                     \
		cr_assert(eq(int, persist_n(journal, "e", 1, 2), 0));         \
		cr_assert(eq(int, persist_n(journal, "e", 2, 3), -ESTALE));   \
		cr_assert(eq(int, persist_n(journal, "e", 1, 1), -ESTALE));   \
		cr_assert(eq(int, persist_n(journal, "e", 5, 1), -ESTALE));   \
		cr_assert(eq(int, persist_n(journal, "new", 2, 1), -ESTALE)); \
		assert_events(journal, "e", 1, 2);                            \
		assert_events(journal, "new", 1, 0);                          \
		cr_assert(eq(int, persist_n(journal, "e", 3, 1), 0));         \
		assert_events(journal, "e", 1, 3);                            \
	}                                                                     \
	Test(suite, load_from_a_seq_skips_the_earlier_events)                 \
	{                                                                     \
		cr_assert(eq(int, persist_n(journal, "e", 1, 10), 0));        \
		assert_events(journal, "e", 4, 10);                           \
		assert_events(journal, "e", 10, 10);                          \
		assert_events(journal, "e", 11, 10);                          \
		assert_events(journal, "e", 0 + 1, 10);                       \
		sync_op *op = load_all(journal, "e", 0);                      \
		cr_assert(eq(sz, op->count, 10));                             \
		sync_op_free(op);                                             \
	}                                                                     \
	Test(suite, load_of_an_unknown_entity_replays_nothing)                \
	{                                                                     \
		assert_events(journal, "nobody", 1, 0);                       \
		sync_op *op = load_snapshot_sync(journal, "nobody");          \
		cr_assert(eq(int, op->rc, CASTY_OK));                         \
		cr_assert(not(op->found));                                    \
		sync_op_free(op);                                             \
	}                                                                     \
	Test(suite, the_newest_snapshot_counts)                               \
	{                                                                     \
		cr_assert(eq(int, persist_n(journal, "e", 1, 9), 0));         \
		cr_assert(eq(int, save_snapshot_sync(journal, "e", 3, "s3"),  \
			0));                                                  \
		cr_assert(eq(int, save_snapshot_sync(journal, "e", 7, "s7"),  \
			0));                                                  \
		cr_assert(eq(int, save_snapshot_sync(journal, "e", 5, "s5"),  \
			0));                                                  \
		sync_op *op = load_snapshot_sync(journal, "e");               \
		cr_assert(eq(int, op->rc, CASTY_OK));                         \
		cr_assert(op->found);                                         \
		cr_assert(eq(u64, op->seq[0], 7));                            \
		cr_assert(eq(sz, op->len[0], 2));                             \
		cr_assert(memcmp(op->data[0], "s7", 2) == 0);                 \
		sync_op_free(op);                                             \
		assert_events(journal, "e", 8, 9);                            \
	}                                                                     \
	Test(suite, a_stale_batch_leaves_nothing_and_a_good_one_all)          \
	{                                                                     \
		cr_assert(eq(int, persist_n(journal, "e", 1, 5), 0));         \
		cr_assert(eq(int, persist_n(journal, "e", 3, 40), -ESTALE));  \
		assert_events(journal, "e", 1, 5);                            \
		cr_assert(eq(int, persist_n(journal, "e", 6, 40), 0));        \
		assert_events(journal, "e", 1, 45);                           \
	}                                                                     \
	Test(suite, bad_arguments_are_refused_without_a_callback)             \
	{                                                                     \
		char                 longid[CASTY_JOURNAL_MAX_ENTITY + 2];    \
		casty_journal_record rec = {"x", 1};                          \
		casty_journal_record big = {"x",                              \
			CASTY_JOURNAL_MAX_RECORD + 1};                        \
		memset(longid, 'a', sizeof longid - 1);                       \
		longid[sizeof longid - 1] = '\0';                             \
		cr_assert(eq(int,                                             \
			casty_journal_persist(NULL, "e", 1, &rec, 1,          \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, NULL, 1, &rec, 1,      \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, "", 1, &rec, 1,        \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, longid, 1, &rec, 1,    \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, "e", 0, &rec, 1,       \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, "e", 1, &big, 1,       \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_persist(journal, "e", 1, &rec, 1, NULL, \
				NULL),                                        \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_load(journal, "e", 1, NULL,             \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_load(journal, longid, 1, ignore_replay, \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_save_snapshot(journal, "e", 1, big,     \
				ignore_done, NULL),                           \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_load_snapshot(journal, NULL,            \
				ignore_snapshot, NULL),                       \
			-EINVAL));                                            \
		cr_assert(eq(int,                                             \
			casty_journal_load_snapshot(journal, "e", NULL,       \
				NULL),                                        \
			-EINVAL));                                            \
		longid[CASTY_JOURNAL_MAX_ENTITY] = '\0';                      \
		cr_assert(eq(int, persist_n(journal, longid, 1, 1), 0));      \
		assert_events(journal, longid, 1, 1);                         \
	}                                                                     \
	Test(suite, close_waits_for_what_is_in_flight)                        \
	{                                                                     \
		enum { N = 200 };                                             \
		sync_op *ops[N];                                              \
		uint8_t  payload[8] = "payload";                              \
		casty_journal_record rec = {payload, sizeof payload};         \
		for (int i = 0; i < N; i++) {                                 \
			ops[i] = sync_op_new();                               \
			cr_assert(eq(int,                                     \
				casty_journal_persist(journal, "e",           \
					(uint64_t)i + 1, &rec, 1, sync_done,  \
					ops[i]),                              \
				0));                                          \
		}                                                             \
		casty_journal_close(journal);                                 \
		journal = NULL;                                               \
		for (int i = 0; i < N; i++) {                                 \
			cr_assert(ops[i]->finished, "op %d not done", i);     \
			cr_assert(eq(sz, ops[i]->calls, 1));                  \
			cr_assert(eq(int, ops[i]->rc, CASTY_OK));             \
			sync_op_free(ops[i]);                                 \
		}                                                             \
	}

#endif // CASTY_TESTS_SUPPORT_JOURNAL_CONTRACT_H
