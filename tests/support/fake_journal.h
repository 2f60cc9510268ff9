// tests/support/fake_journal.h: a journal for tests of the layers above
// the journal interface. In memory; each operation either completes at
// once, or, while the journal is held, waits until fake_release, so that
// a test decides when a persist or a load completes. It can also fail the
// next persist or load with a given code, and counts what it replays.
#ifndef CASTY_TESTS_SUPPORT_FAKE_JOURNAL_H
#define CASTY_TESTS_SUPPORT_FAKE_JOURNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <casty/casty.h>

#define FAKE_MAX_EVENTS 4096
#define FAKE_MAX_HELD   64

typedef struct fake_record {
	char     entity[64];
	uint64_t seq;
	size_t   len;
	char    *data;
} fake_record;

typedef enum { HELD_PERSIST, HELD_LOAD, HELD_SNAPSHOT } held_kind;

typedef struct fake_held {
	held_kind                 kind;
	char                      entity[64];
	uint64_t                  from_seq;
	casty_journal_done_fn     done;
	casty_journal_replay_fn   replay;
	casty_journal_snapshot_fn snap_done;
	void                     *arg;
	int                       rc;
} fake_held;

typedef struct fake_journal {
	casty_journal   base;
	pthread_mutex_t lock;
	fake_record     events[FAKE_MAX_EVENTS];
	size_t          nevents;
	fake_record     snapshots[16];
	size_t          nsnapshots;
	bool            hold;
	fake_held       held[FAKE_MAX_HELD];
	size_t          nheld;
	int             fail_persist, fail_load; // next one, 0: none
	size_t          replayed;                // events passed to replay
	size_t          persists;                // persist calls accepted
} fake_journal;

static uint64_t
fake_highest(fake_journal *f, const char *entity)
{
	uint64_t h = 0;
	for (size_t i = 0; i < f->nevents; i++) {
		if (strcmp(f->events[i].entity, entity) == 0) {
			h = f->events[i].seq;
		}
	}
	return h;
}

// Runs a load: replays and calls done, without the lock held.
static void
fake_run_load(fake_journal *f, const char *entity, uint64_t from,
	casty_journal_replay_fn replay, casty_journal_done_fn done, void *arg,
	int rc)
{
	if (rc == 0) {
		for (size_t i = 0;; i++) {
			pthread_mutex_lock(&f->lock);
			if (i >= f->nevents) {
				pthread_mutex_unlock(&f->lock);
				break;
			}
			fake_record r = f->events[i];
			bool mine = strcmp(r.entity, entity) == 0 && r.seq >= from;
			if (mine) {
				f->replayed++;
			}
			pthread_mutex_unlock(&f->lock);
			if (mine) {
				replay(arg, r.seq, r.data, r.len);
			}
		}
	}
	done(arg, rc);
}

static void
fake_run_snapshot(fake_journal *f, const char *entity,
	casty_journal_snapshot_fn done, void *arg)
{
	pthread_mutex_lock(&f->lock);
	fake_record *best = NULL;
	for (size_t i = 0; i < f->nsnapshots; i++) {
		if (strcmp(f->snapshots[i].entity, entity) == 0 &&
		    (best == NULL || f->snapshots[i].seq > best->seq)) {
			best = &f->snapshots[i];
		}
	}
	fake_record copy = best ? *best : (fake_record){0};
	pthread_mutex_unlock(&f->lock);
	done(arg, 0, best != NULL, copy.seq, copy.data, copy.len);
}

static int
fake_persist(casty_journal *j, const char *entity, uint64_t first,
	const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg)
{
	fake_journal *f = (fake_journal *)j;
	pthread_mutex_lock(&f->lock);
	int rc = 0;
	if (f->fail_persist) {
		rc = f->fail_persist;
		f->fail_persist = 0;
	} else if (first != fake_highest(f, entity) + 1) {
		rc = -ESTALE;
	} else if (f->nevents + n > FAKE_MAX_EVENTS) {
		rc = -ENOSPC;
	} else {
		for (size_t i = 0; i < n; i++) {
			fake_record *r = &f->events[f->nevents++];
			snprintf(r->entity, sizeof r->entity, "%s", entity);
			r->seq = first + i;
			r->len = events[i].len;
			r->data = malloc(r->len ? r->len : 1);
			memcpy(r->data, events[i].data, r->len);
		}
		f->persists++;
	}
	if (f->hold && f->nheld < FAKE_MAX_HELD) {
		fake_held *h = &f->held[f->nheld++];
		*h = (fake_held){.kind = HELD_PERSIST, .done = done, .arg = arg,
			.rc = rc};
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	pthread_mutex_unlock(&f->lock);
	done(arg, rc);
	return 0;
}

static int
fake_load(casty_journal *j, const char *entity, uint64_t from,
	casty_journal_replay_fn replay, casty_journal_done_fn done, void *arg)
{
	fake_journal *f = (fake_journal *)j;
	pthread_mutex_lock(&f->lock);
	int rc = f->fail_load;
	f->fail_load = 0;
	if (f->hold && f->nheld < FAKE_MAX_HELD) {
		fake_held *h = &f->held[f->nheld++];
		*h = (fake_held){.kind = HELD_LOAD, .from_seq = from,
			.done = done, .replay = replay, .arg = arg, .rc = rc};
		snprintf(h->entity, sizeof h->entity, "%s", entity);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	pthread_mutex_unlock(&f->lock);
	fake_run_load(f, entity, from, replay, done, arg, rc);
	return 0;
}

static int
fake_save_snapshot(casty_journal *j, const char *entity, uint64_t seq,
	casty_journal_record state, casty_journal_done_fn done, void *arg)
{
	fake_journal *f = (fake_journal *)j;
	pthread_mutex_lock(&f->lock);
	if (f->nsnapshots < 16) {
		fake_record *r = &f->snapshots[f->nsnapshots++];
		snprintf(r->entity, sizeof r->entity, "%s", entity);
		r->seq = seq;
		r->len = state.len;
		r->data = malloc(state.len ? state.len : 1);
		memcpy(r->data, state.data, state.len);
	}
	pthread_mutex_unlock(&f->lock);
	done(arg, 0);
	return 0;
}

static int
fake_load_snapshot(casty_journal *j, const char *entity,
	casty_journal_snapshot_fn done, void *arg)
{
	fake_journal *f = (fake_journal *)j;
	pthread_mutex_lock(&f->lock);
	if (f->hold && f->nheld < FAKE_MAX_HELD) {
		fake_held *h = &f->held[f->nheld++];
		*h = (fake_held){.kind = HELD_SNAPSHOT, .snap_done = done,
			.arg = arg};
		snprintf(h->entity, sizeof h->entity, "%s", entity);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	pthread_mutex_unlock(&f->lock);
	fake_run_snapshot(f, entity, done, arg);
	return 0;
}

static void
fake_close(casty_journal *j)
{
	fake_journal *f = (fake_journal *)j;
	for (size_t i = 0; i < f->nevents; i++) {
		free(f->events[i].data);
	}
	for (size_t i = 0; i < f->nsnapshots; i++) {
		free(f->snapshots[i].data);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const casty_journal_ops fake_ops = {fake_persist, fake_load,
	fake_save_snapshot, fake_load_snapshot, fake_close};

static fake_journal *
fake_journal_new(void)
{
	fake_journal *f = calloc(1, sizeof *f);
	f->base.ops = &fake_ops;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

// Completes every held operation, in order, on the calling thread, and
// stops holding.
static size_t
fake_release(fake_journal *f)
{
	pthread_mutex_lock(&f->lock);
	fake_held held[FAKE_MAX_HELD];
	size_t    n = f->nheld;
	memcpy(held, f->held, n * sizeof held[0]);
	f->nheld = 0;
	f->hold = false;
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; i < n; i++) {
		fake_held *h = &held[i];
		switch (h->kind) {
		case HELD_PERSIST:
			h->done(h->arg, h->rc);
			break;
		case HELD_LOAD:
			fake_run_load(f, h->entity, h->from_seq, h->replay,
				h->done, h->arg, h->rc);
			break;
		case HELD_SNAPSHOT:
			fake_run_snapshot(f, h->entity, h->snap_done, h->arg);
			break;
		}
	}
	return n;
}

static size_t
fake_held_count(fake_journal *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->nheld;
	pthread_mutex_unlock(&f->lock);
	return n;
}

#endif // CASTY_TESTS_SUPPORT_FAKE_JOURNAL_H
