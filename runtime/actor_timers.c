// runtime/actor_timers.c: actor timers, the actor's side.
//
// The guarantee (Akka's): once casty_ctx_cancel_timer returns, or a timer
// is replaced by one with the same key, the handler sees no message of
// the old timer, not even one already in the mailbox. So the message is
// not what the reactor sends. The actor keeps the table of its live
// timers (key, a unique 64-bit id, the message template); the reactor
// knows only (id, owner, deadline, interval) and sends the owner a
// cst_sys_timer{id}. On arrival the id is looked up: unknown (cancelled,
// replaced, or a firing from before a stop) means stale, dropped
// silently; known means the runtime builds the user message from the
// template and dispatches it like any other. Cancelling removes the
// entry at once, on the actor's own thread, and tells the reactor to
// forget the id; ids are never reused, so nothing can revive an entry.
//
// The table is a small array: an actor has a handful of timers. It lives
// in the cell's cold part and is freed when the actor stops.
#include "runtime/actor_timers.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/system.h"
#include "runtime/timers.h"

typedef struct {
	uint64_t              id;
	const casty_msg_type *type;
	uint16_t              tag;
	uint16_t              keylen;
	bool                  repeat;
	alignas(8) unsigned char data[]; // the payload, then the key
} entry;

struct cst_actor_timers {
	entry  **entries;
	uint32_t n, cap;
};

static const char *
key_of(const entry *e)
{
	return (const char *)e->data + e->type->size;
}

static void
entry_free(entry *e)
{
	cst_free_sized(e, sizeof(*e) + e->type->size + e->keylen + 1);
}

static struct cst_actor_timers *
table_of(casty_cell *cell)
{
	return cell->cold != NULL ? cell->cold->timers : NULL;
}

static struct cst_actor_timers *
table_get(casty_cell *cell)
{
	if (cell->cold == NULL) {
		cell->cold = cst_calloc(sizeof(cst_cell_cold));
		if (cell->cold == NULL) {
			cst_oom("actor timers");
		}
	}
	if (cell->cold->timers == NULL) {
		cell->cold->timers = cst_calloc(sizeof(struct cst_actor_timers));
		if (cell->cold->timers == NULL) {
			cst_oom("actor timers");
		}
	}
	return cell->cold->timers;
}

static int
find_key(struct cst_actor_timers *t, const char *key, size_t keylen)
{
	for (uint32_t i = 0; t != NULL && i < t->n; i++) {
		if (t->entries[i]->keylen == keylen &&
		    memcmp(key_of(t->entries[i]), key, keylen) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void
remove_at(struct cst_actor_timers *t, uint32_t i)
{
	entry_free(t->entries[i]);
	t->entries[i] = t->entries[--t->n];
}

static void
append(struct cst_actor_timers *t, entry *e)
{
	if (t->n == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 4;
		entry  **grown = cst_alloc(ncap * sizeof(*grown));
		if (grown == NULL) {
			cst_oom("actor timers");
		}
		if (t->n > 0) {
			memcpy(grown, t->entries, t->n * sizeof(*grown));
		}
		cst_free_sized(t->entries, t->cap * sizeof(*t->entries));
		t->entries = grown;
		t->cap = ncap;
	}
	t->entries[t->n++] = e;
}

int
casty_ctx_timer_msg(casty_ctx *ctx, const char *key,
	const casty_msg_type *type, unsigned tag, const void *payload,
	int64_t delay_ms, int64_t interval_ms)
{
	if (ctx == NULL) {
		return -EINVAL;
	}
	int rc = cst_timers_check(key, type, payload, delay_ms, interval_ms);
	if (rc != CASTY_OK) {
		return rc;
	}
	// Relaxed: a late view lets one more timer in, which the actor's
	// stop cancels.
	if (ctx->status != CST_ALIVE ||
	    atomic_load_explicit(&ctx->sys->state, memory_order_relaxed) !=
		    CST_SYS_RUNNING) {
		return CASTY_ESTOPPED;
	}
	size_t keylen = strlen(key);
	entry *e = cst_alloc(sizeof(*e) + type->size + keylen + 1);
	if (e == NULL) {
		cst_oom("actor timer"); // a worker: nobody to report it to
	}
	e->id = cst_timers_new_id(ctx->sys);
	e->type = type;
	e->tag = (uint16_t)tag;
	e->keylen = (uint16_t)keylen;
	e->repeat = interval_ms > 0;
	memcpy(e->data, payload, type->size);
	memcpy(e->data + type->size, key, keylen + 1);

	struct cst_actor_timers *t = table_get(ctx);
	int                      old = find_key(t, key, keylen);
	if (old >= 0) {
		// Replaced: the old id is unknown from now on.
		cst_timers_cancel_actor(ctx->sys, &t->entries[old]->id, 1);
		remove_at(t, (uint32_t)old);
	}
	append(t, e);
	cst_timers_start_actor(
		ctx->sys, cst_cell_ref(ctx), e->id, delay_ms, interval_ms);
	return CASTY_OK;
}

int
casty_ctx_cancel_timer(casty_ctx *ctx, const char *key)
{
	if (ctx == NULL || key == NULL || key[0] == '\0' ||
	    strnlen(key, CASTY_TIMER_KEY_MAX + 1) > CASTY_TIMER_KEY_MAX) {
		return -EINVAL;
	}
	struct cst_actor_timers *t = table_of(ctx);
	int                      i = find_key(t, key, strlen(key));
	if (i >= 0) {
		cst_timers_cancel_actor(ctx->sys, &t->entries[i]->id, 1);
		remove_at(t, (uint32_t)i);
	}
	return CASTY_OK;
}

casty_msg *
cst_actor_timer_fired(casty_cell *cell, const casty_msg *sys_timer_msg)
{
	const cst_sys_timer     *m = (const void *)sys_timer_msg->payload;
	struct cst_actor_timers *t = table_of(cell);

	for (uint32_t i = 0; t != NULL && i < t->n; i++) {
		entry *e = t->entries[i];
		if (e->id != m->id) {
			continue;
		}
		casty_msg *msg = cst_msg_new(e->type, e->tag, e->data,
			cst_cell_ref(cell).gen);
		if (!e->repeat) {
			// The reactor forgot it when it fired; so do we.
			remove_at(t, i);
		}
		return msg;
	}
	return NULL;
}

void
cst_actor_timers_cancel_all(casty_cell *cell)
{
	struct cst_actor_timers *t = table_of(cell);
	if (t == NULL) {
		return;
	}
	if (t->n > 0) {
		uint64_t  few[16];
		uint64_t *ids = t->n <= 16 ? few
					   : cst_alloc(t->n * sizeof(uint64_t));
		if (ids == NULL) {
			cst_oom("actor timers");
		}
		for (uint32_t i = 0; i < t->n; i++) {
			ids[i] = t->entries[i]->id;
			entry_free(t->entries[i]);
		}
		cst_timers_cancel_actor(cell->sys, ids, t->n);
		if (ids != few) {
			cst_free_sized(ids, t->n * sizeof(uint64_t));
		}
	}
	cst_free_sized(t->entries, t->cap * sizeof(*t->entries));
	cst_free_sized(t, sizeof(*t));
	cell->cold->timers = NULL;
}

uint32_t
cst_actor_timers_count(casty_cell *cell)
{
	struct cst_actor_timers *t = table_of(cell);
	return t != NULL ? t->n : 0;
}
