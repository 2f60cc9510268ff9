// tests/support/journal_sync.h: blocking wrappers over the asynchronous
// journal calls (wait for the completion), what they collected, and a
// fresh temporary directory per test.
#ifndef CASTY_TESTS_SUPPORT_JOURNAL_SYNC_H
#define CASTY_TESTS_SUPPORT_JOURNAL_SYNC_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <casty/journal.h>

#include "tests/support/journal_payload.h"

// One completion to wait for, and what a load replayed.
typedef struct sync_op {
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            finished;
	int             rc;
	size_t          calls; // done calls: must end at 1
	// load: the replayed events; load_snapshot: the snapshot
	size_t    count;
	uint64_t  seq[4096];
	uint8_t  *data[4096];
	size_t    len[4096];
	bool      found;
} sync_op;

static inline sync_op *
sync_op_new(void)
{
	sync_op *op = calloc(1, sizeof(*op));
	pthread_mutex_init(&op->lock, NULL);
	pthread_cond_init(&op->cond, NULL);
	return op;
}

static inline void
sync_op_free(sync_op *op)
{
	for (size_t i = 0; i < op->count; i++) {
		free(op->data[i]);
	}
	pthread_cond_destroy(&op->cond);
	pthread_mutex_destroy(&op->lock);
	free(op);
}

static inline void
sync_finish(sync_op *op, int rc)
{
	pthread_mutex_lock(&op->lock);
	op->rc = rc;
	op->calls++;
	op->finished = true;
	pthread_cond_broadcast(&op->cond);
	pthread_mutex_unlock(&op->lock);
}

static inline void
sync_done(void *arg, int rc)
{
	sync_finish(arg, rc);
}

static inline void
keep(sync_op *op, uint64_t seq, const void *data, size_t len)
{
	cr_assert(op->count < 4096);
	op->seq[op->count] = seq;
	op->data[op->count] = malloc(len + 1);
	memcpy(op->data[op->count], data, len);
	op->len[op->count] = len;
	op->count++;
}

static inline void
sync_replay(void *arg, uint64_t seq, const void *data, size_t len)
{
	sync_op *op = arg;
	pthread_mutex_lock(&op->lock);
	keep(op, seq, data, len);
	pthread_mutex_unlock(&op->lock);
}

static inline void
sync_snapshot(void *arg, int rc, bool found, uint64_t seq, const void *data,
	size_t len)
{
	sync_op *op = arg;
	pthread_mutex_lock(&op->lock);
	op->found = found;
	if (found) {
		keep(op, seq, data, len);
	}
	pthread_mutex_unlock(&op->lock);
	sync_finish(op, rc);
}

// Waits for the completion of a call that returned call_rc; returns the
// call's error, or the completion's rc.
static inline int
sync_wait(sync_op *op, int call_rc)
{
	if (call_rc != CASTY_OK) {
		return call_rc;
	}
	pthread_mutex_lock(&op->lock);
	while (!op->finished) {
		pthread_cond_wait(&op->cond, &op->lock);
	}
	pthread_mutex_unlock(&op->lock);
	return op->rc;
}

static inline int
persist_n(casty_journal *j, const char *entity, uint64_t first, size_t n)
{
	static _Thread_local uint8_t bufs[64][64];
	casty_journal_record          recs[64];
	cr_assert(n <= 64);
	for (size_t i = 0; i < n; i++) {
		recs[i].data = bufs[i];
		recs[i].len =
			(uint32_t)test_payload(entity, first + i, bufs[i], 64);
	}
	sync_op *op = sync_op_new();
	int rc = sync_wait(op, casty_journal_persist(j, entity, first, recs, n,
				       sync_done, op));
	sync_op_free(op);
	return rc;
}

// Loads entity from from_seq; the caller frees the op.
static inline sync_op *
load_all(casty_journal *j, const char *entity, uint64_t from_seq)
{
	sync_op *op = sync_op_new();
	op->rc = sync_wait(op, casty_journal_load(j, entity, from_seq,
				       sync_replay, sync_done, op));
	return op;
}

// Checks that entity holds exactly the events from..to with their
// payloads.
static inline void
assert_events(casty_journal *j, const char *entity, uint64_t from,
	uint64_t to)
{
	sync_op *op = load_all(j, entity, from);
	cr_assert(eq(int, op->rc, CASTY_OK), "load of %s: %d", entity, op->rc);
	cr_assert(eq(sz, op->calls, 1));
	cr_assert(eq(sz, op->count, (size_t)(to >= from ? to - from + 1 : 0)),
		"entity %s", entity);
	for (size_t i = 0; i < op->count; i++) {
		uint8_t want[64];
		size_t  len = test_payload(entity, from + i, want, 64);
		cr_assert(eq(u64, op->seq[i], from + i));
		cr_assert(eq(sz, op->len[i], len));
		cr_assert(memcmp(op->data[i], want, len) == 0);
	}
	sync_op_free(op);
}

static inline int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

// A fresh directory under $TMPDIR (or /tmp); free with remove_tmpdir.
static inline char *
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char       *path = malloc(4096);
	snprintf(path, 4096, "%s/casty-journal-XXXXXX",
		base != NULL && base[0] != '\0' ? base : "/tmp");
	cr_assert(mkdtemp(path) != NULL);
	return path;
}

static inline void
remove_tmpdir(char *path)
{
	if (path != NULL) {
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(path);
	}
}

#endif // CASTY_TESTS_SUPPORT_JOURNAL_SYNC_H
