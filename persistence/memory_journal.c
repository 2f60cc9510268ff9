// persistence/memory_journal.c: the in-memory journal, for tests. Per
// entity, a vector of events and the newest snapshot, under one mutex.
// Completions run on the caller's thread before the call returns, after
// the mutex is released (so a callback may call the journal again); a
// load copies what it reports first, so the data stays valid while the
// callbacks run even if another thread appends meanwhile.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <casty/journal.h>

#include "persistence/entity_map.h"
#include "runtime/alloc.h"

typedef struct mem_event {
	uint64_t seq;
	uint32_t len;
	uint8_t *data;
} mem_event;

typedef struct mem_entity {
	mem_event *events; // seq 1.. in order: events[i].seq == i + 1
	size_t     count, cap;
	bool       has_snapshot;
	uint64_t   snapshot_seq;
	uint8_t   *snapshot;
	uint32_t   snapshot_len;
} mem_entity;

typedef struct memory_journal {
	casty_journal   base;
	pthread_mutex_t lock;
	cst_entity_map  entities; // under lock
	bool            closed;   // under lock
} memory_journal;

static uint8_t *
copy_bytes(const void *data, uint32_t len)
{
	uint8_t *p = cst_alloc(len > 0 ? len : 1);
	if (p != NULL && len > 0) {
		memcpy(p, data, len);
	}
	return p;
}

static void
free_bytes(uint8_t *p, uint32_t len)
{
	cst_free_sized(p, len > 0 ? len : 1);
}

// Under lock: the entity, created if create is set; NULL on OOM or when
// absent.
static mem_entity *
entity(memory_journal *m, const char *id, bool create)
{
	size_t      len = strlen(id);
	mem_entity *e = cst_entity_map_find(&m->entities, id, len);
	if (e != NULL || !create) {
		return e;
	}
	e = cst_calloc(sizeof(*e));
	if (e != NULL && cst_entity_map_insert(&m->entities, id, len, e) != 0) {
		cst_free_sized(e, sizeof(*e));
		e = NULL;
	}
	return e;
}

static int
mem_persist(casty_journal *j, const char *entity_id, uint64_t first_seq,
	const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg)
{
	memory_journal *m = (memory_journal *)j;
	int             rc = CASTY_OK;

	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		pthread_mutex_unlock(&m->lock);
		return CASTY_ESTOPPED;
	}
	mem_entity *e = entity(m, entity_id, true);
	if (e == NULL) {
		rc = -ENOMEM;
	} else if (first_seq != e->count + 1) {
		rc = -ESTALE;
	} else if (e->count + n > e->cap) {
		size_t     cap = e->cap == 0 ? 16 : e->cap;
		while (cap < e->count + n) {
			cap *= 2;
		}
		mem_event *grown = cst_alloc(cap * sizeof(*grown));
		if (grown == NULL) {
			rc = -ENOMEM;
		} else {
			if (e->count > 0) {
				memcpy(grown, e->events,
					e->count * sizeof(*grown));
			}
			cst_free_sized(e->events, e->cap * sizeof(*grown));
			e->events = grown;
			e->cap = cap;
		}
	}
	// All-or-nothing: copy every event before any becomes visible.
	size_t copied = 0;
	for (; rc == CASTY_OK && copied < n; copied++) {
		mem_event *ev = &e->events[e->count + copied];
		ev->seq = first_seq + copied;
		ev->len = events[copied].len;
		ev->data = copy_bytes(events[copied].data, ev->len);
		if (ev->data == NULL) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == CASTY_OK) {
		e->count += n;
	} else if (e != NULL) {
		for (size_t i = 0; i < copied; i++) {
			mem_event *ev = &e->events[e->count + i];
			free_bytes(ev->data, ev->len);
		}
	}
	pthread_mutex_unlock(&m->lock);
	done(arg, rc);
	return CASTY_OK;
}

static int
mem_load(casty_journal *j, const char *entity_id, uint64_t from_seq,
	casty_journal_replay_fn replay, casty_journal_done_fn done, void *arg)
{
	memory_journal *m = (memory_journal *)j;
	mem_event      *copy = NULL;
	size_t          n = 0, copied = 0;
	int             rc = CASTY_OK;

	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		pthread_mutex_unlock(&m->lock);
		return CASTY_ESTOPPED;
	}
	mem_entity *e = entity(m, entity_id, false);
	size_t      first = from_seq > 1 ? from_seq - 1 : 0;
	if (e != NULL && first < e->count) {
		n = e->count - first;
		copy = cst_alloc(n * sizeof(*copy));
		rc = copy == NULL ? -ENOMEM : CASTY_OK;
		for (; rc == CASTY_OK && copied < n; copied++) {
			mem_event *ev = &e->events[first + copied];
			copy[copied] = *ev;
			copy[copied].data = copy_bytes(ev->data, ev->len);
			if (copy[copied].data == NULL) {
				rc = -ENOMEM;
			}
		}
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < copied; i++) {
		if (rc == CASTY_OK) {
			replay(arg, copy[i].seq, copy[i].data, copy[i].len);
		}
		if (copy[i].data != NULL) {
			free_bytes(copy[i].data, copy[i].len);
		}
	}
	if (copy != NULL) {
		cst_free_sized(copy, n * sizeof(*copy));
	}
	done(arg, rc);
	return CASTY_OK;
}

static int
mem_save_snapshot(casty_journal *j, const char *entity_id, uint64_t seq,
	casty_journal_record state, casty_journal_done_fn done, void *arg)
{
	memory_journal *m = (memory_journal *)j;
	int             rc = CASTY_OK;

	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		pthread_mutex_unlock(&m->lock);
		return CASTY_ESTOPPED;
	}
	mem_entity *e = entity(m, entity_id, true);
	uint8_t    *data = copy_bytes(state.data, state.len);
	if (e == NULL || data == NULL) {
		rc = -ENOMEM;
		if (data != NULL) {
			free_bytes(data, state.len);
		}
	} else if (e->has_snapshot && e->snapshot_seq > seq) {
		// An older snapshot than the one kept: the newest counts.
		free_bytes(data, state.len);
	} else {
		if (e->has_snapshot) {
			free_bytes(e->snapshot, e->snapshot_len);
		}
		e->has_snapshot = true;
		e->snapshot_seq = seq;
		e->snapshot = data;
		e->snapshot_len = state.len;
	}
	pthread_mutex_unlock(&m->lock);
	done(arg, rc);
	return CASTY_OK;
}

static int
mem_load_snapshot(casty_journal *j, const char *entity_id,
	casty_journal_snapshot_fn done, void *arg)
{
	memory_journal *m = (memory_journal *)j;
	uint8_t        *data = NULL;
	uint32_t        len = 0;
	uint64_t        seq = 0;
	bool            found = false;
	int             rc = CASTY_OK;

	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		pthread_mutex_unlock(&m->lock);
		return CASTY_ESTOPPED;
	}
	mem_entity *e = entity(m, entity_id, false);
	if (e != NULL && e->has_snapshot) {
		data = copy_bytes(e->snapshot, e->snapshot_len);
		if (data == NULL) {
			rc = -ENOMEM;
		} else {
			found = true;
			seq = e->snapshot_seq;
			len = e->snapshot_len;
		}
	}
	pthread_mutex_unlock(&m->lock);
	done(arg, rc, found, seq, data, len);
	if (data != NULL) {
		free_bytes(data, len);
	}
	return CASTY_OK;
}

static void
mem_close(casty_journal *j)
{
	memory_journal *m = (memory_journal *)j;
	cst_entity_map *map = &m->entities;

	// Completions are synchronous, so nothing is in flight once the
	// callers have returned; the lock orders us after the last one.
	pthread_mutex_lock(&m->lock);
	m->closed = true;
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < map->cap; i++) {
		mem_entity *e = map->slot[i].value;
		if (map->slot[i].key == NULL) {
			continue;
		}
		for (size_t k = 0; k < e->count; k++) {
			free_bytes(e->events[k].data, e->events[k].len);
		}
		cst_free_sized(e->events, e->cap * sizeof(*e->events));
		if (e->has_snapshot) {
			free_bytes(e->snapshot, e->snapshot_len);
		}
		cst_free_sized(e, sizeof(*e));
	}
	cst_entity_map_fini(map);
	pthread_mutex_destroy(&m->lock);
	cst_free_sized(m, sizeof(*m));
}

static const casty_journal_ops memory_ops = {
	.persist = mem_persist,
	.load = mem_load,
	.save_snapshot = mem_save_snapshot,
	.load_snapshot = mem_load_snapshot,
	.close = mem_close,
};

int
casty_memory_journal_create(casty_journal **out)
{
	memory_journal *m = cst_calloc(sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	m->base.ops = &memory_ops;
	pthread_mutex_init(&m->lock, NULL);
	*out = &m->base;
	return CASTY_OK;
}
