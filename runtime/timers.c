// runtime/timers.c: timers on the reactor: the table of live timers, the
// requests that change it, firing, and the system-level public calls.
//
// Everything here but the public entry points runs on the reactor thread:
// the table and the timers in it have one writer and no locks. Callers
// allocate a request and submit it (cst_reactor_submit), so the requests
// of one thread apply in the order it made them, and a schedule followed
// by a cancel of the same key never leaves the timer alive.
//
// The table is open addressing with linear probing over a power-of-two
// array, deletion by backward shift (no tombstones), load at most 1/2;
// it shrinks when a mass cancel leaves it mostly empty. A system timer is
// found by its key, an actor timer by its id (actor_timers.c keeps the
// key on the actor's side). Each timer is one allocation of 64 bytes (a
// system timer adds its type, payload and key) plus two pointers: its
// table slot and its heap slot.
#include "runtime/timers.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/park.h"
#include "runtime/reactor.h"
#include "runtime/system.h"

#define MIN_CAP 64

struct cst_timer {
	cst_reactor_timer rt; // first: a heap node is a timer
	int64_t           interval_ns; // 0: once
	casty_ref         to;
	uint64_t          id;     // actor timers; 0 for system timers
	uint32_t          hash;   // of the key or of the id
	uint16_t          tag;    // system timers: the message's tag
	uint16_t          keylen; // system timers: the key follows the payload
};

// Small on purpose: 100,000 live timers are 6.4 MB here, plus 8 bytes in
// the heap and 16 to 32 in the table.
_Static_assert(sizeof(cst_timer) <= 64, "keep a timer in one cache line");

// A system timer carries its message: type, payload, then the key.
typedef struct {
	cst_timer             base;
	const casty_msg_type *type;
	alignas(8) unsigned char data[];
} sys_timer;

static inline bool
is_actor_timer(const cst_timer *t)
{
	return t->id != 0;
}

static const char *
key_of(const cst_timer *t)
{
	const sys_timer *s = (const sys_timer *)t;
	return (const char *)s->data + s->type->size;
}

static size_t
size_of(const cst_timer *t)
{
	if (is_actor_timer(t)) {
		return sizeof(cst_timer);
	}
	return sizeof(sys_timer) + ((const sys_timer *)t)->type->size +
	       t->keylen + 1;
}

static uint32_t
hash_key(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t
hash_id(uint64_t id)
{
	id ^= id >> 33; // murmur3's finaliser
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (uint32_t)id;
}

static int64_t
ms_to_ns(int64_t ms)
{
	return ms > INT64_MAX / 1000000 ? INT64_MAX : ms * 1000000;
}

static int64_t
add_sat(int64_t a, int64_t b) // b >= 0
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

// The table.

void
cst_timers_init(cst_timers *t)
{
	t->slots = NULL;
	t->cap = t->len = 0;
	atomic_init(&t->next_id, 1);
	atomic_init(&t->live, 0);
}

static void
count_changed(cst_timers *t)
{
	// Relaxed: a statistic; tests read it after a reactor barrier,
	// which orders it.
	atomic_store_explicit(&t->live, t->len, memory_order_relaxed);
}

static void
place(cst_timer **slots, uint32_t cap, cst_timer *timer)
{
	uint32_t i = timer->hash & (cap - 1);
	while (slots[i] != NULL) {
		i = (i + 1) & (cap - 1);
	}
	slots[i] = timer;
}

static void
resize(cst_timers *t, uint32_t cap)
{
	cst_timer **slots = cst_calloc(cap * sizeof(*slots));
	if (slots == NULL) {
		cst_oom("timer table");
	}
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->slots[i] != NULL) {
			place(slots, cap, t->slots[i]);
		}
	}
	cst_free_sized(t->slots, t->cap * sizeof(*t->slots));
	t->slots = slots;
	t->cap = cap;
}

// Returns the slot of the system timer key, or of the actor timer id.
static cst_timer **
find(cst_timers *t, uint32_t hash, const char *key, size_t keylen,
	uint64_t id)
{
	if (t->len == 0) {
		return NULL;
	}
	for (uint32_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		cst_timer *x = t->slots[i];
		if (x == NULL) {
			return NULL;
		}
		if (x->hash != hash || x->id != id) {
			continue;
		}
		if (id != 0 || (x->keylen == keylen &&
				       memcmp(key_of(x), key, keylen) == 0)) {
			return &t->slots[i];
		}
	}
}

static void
insert(cst_timers *t, cst_timer *timer)
{
	if ((t->len + 1) * 2 > t->cap) {
		resize(t, t->cap ? t->cap * 2 : MIN_CAP);
	}
	place(t->slots, t->cap, timer);
	t->len++;
	count_changed(t);
}

static void
remove_slot(cst_timers *t, cst_timer **slot)
{
	uint32_t mask = t->cap - 1;
	uint32_t hole = (uint32_t)(slot - t->slots);
	// Backward shift: pull later entries of the probe run into the hole
	// unless their home lies cyclically in (hole, j].
	for (uint32_t j = (hole + 1) & mask; t->slots[j] != NULL;
		j = (j + 1) & mask) {
		uint32_t home = t->slots[j]->hash & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole] = NULL;
	t->len--;
	count_changed(t);
	if (t->cap > MIN_CAP && t->len * 8 < t->cap) {
		resize(t, t->cap / 2);
	}
}

// Disarms, unlinks and frees the timer in slot.
static void
forget(cst_reactor *r, cst_timers *t, cst_timer **slot)
{
	cst_timer *timer = *slot;
	cst_reactor_timer_disarm(r, &timer->rt);
	remove_slot(t, slot);
	cst_free_sized(timer, size_of(timer));
}

void
cst_timers_fini(cst_timers *t)
{
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->slots[i] != NULL) {
			cst_free_sized(t->slots[i], size_of(t->slots[i]));
		}
	}
	cst_free_sized(t->slots, t->cap * sizeof(*t->slots));
	cst_timers_init(t);
}

static cst_timers *
timers_of(cst_reactor *r)
{
	return &((casty_system *)cst_reactor_user(r))->timers;
}

// Firing.

static void
fire(cst_reactor *r, cst_reactor_timer *rt, int64_t now)
{
	cst_timer *t = (cst_timer *)rt;

	if (is_actor_timer(t)) {
		// The actor looks the id up: a cancelled one is dropped there.
		cst_sys_timer m = {t->id};
		cst_send_sys(t->to, &cst_sys_timer__type, &m);
	} else {
		const sys_timer *s = (const sys_timer *)t;
		cst_deliver(t->to.cell,
			cst_msg_new(s->type, t->tag, s->data, t->to.gen));
	}
	if (t->interval_ns == 0) {
		cst_timers *timers = timers_of(r);
		const char *key = is_actor_timer(t) ? NULL : key_of(t);
		forget(r, timers, find(timers, t->hash, key, t->keylen, t->id));
		return;
	}
	// Keep the rate; after a stall, skip the firings that are late.
	int64_t next = add_sat(t->rt.node.deadline, t->interval_ns);
	if (next <= now) {
		next = add_sat(now, t->interval_ns);
	}
	t->rt.node.deadline = next;
	cst_reactor_timer_arm(r, rt);
}

// Requests.

typedef struct {
	cst_reactor_req req;
	cst_timer      *timer;
} add_req;

static void
run_add(cst_reactor *r, cst_reactor_req *req)
{
	cst_timers *timers = timers_of(r);
	cst_timer  *timer = ((add_req *)req)->timer;
	cst_free_sized(req, sizeof(add_req));

	if (!is_actor_timer(timer)) { // a system key is replaced
		cst_timer **old = find(timers, timer->hash, key_of(timer),
			timer->keylen, 0);
		if (old != NULL) {
			forget(r, timers, old);
		}
	}
	insert(timers, timer);
	cst_reactor_timer_arm(r, &timer->rt);
}

static void
init_timer(cst_timer *t, int64_t delay_ms, int64_t interval_ms,
	casty_ref to)
{
	t->rt.node.deadline = add_sat(cst_now_ns(), ms_to_ns(delay_ms));
	t->rt.node.index = CST_TIMER_NOT_QUEUED;
	t->rt.fire = fire;
	t->interval_ns = ms_to_ns(interval_ms);
	t->to = to;
}

typedef struct {
	cst_reactor_req req;
	uint32_t        hash;
	uint32_t        keylen;
	char            key[];
} cancel_key_req;

static void
run_cancel_key(cst_reactor *r, cst_reactor_req *req)
{
	cst_timers     *timers = timers_of(r);
	cancel_key_req *c = (cancel_key_req *)req;
	cst_timer     **slot = find(timers, c->hash, c->key, c->keylen, 0);
	if (slot != NULL) {
		forget(r, timers, slot);
	}
	cst_free_sized(c, sizeof(*c) + c->keylen + 1);
}

typedef struct {
	cst_reactor_req req;
	uint32_t        n;
	uint64_t        ids[];
} cancel_ids_req;

static void
run_cancel_ids(cst_reactor *r, cst_reactor_req *req)
{
	cst_timers     *timers = timers_of(r);
	cancel_ids_req *c = (cancel_ids_req *)req;
	for (uint32_t i = 0; i < c->n; i++) {
		cst_timer **slot =
			find(timers, hash_id(c->ids[i]), NULL, 0, c->ids[i]);
		if (slot != NULL) {
			forget(r, timers, slot);
		}
	}
	cst_free_sized(c, sizeof(*c) + c->n * sizeof(uint64_t));
}

// Entry points.

uint64_t
cst_timers_live(casty_system *sys)
{
	// Relaxed: see count_changed.
	return atomic_load_explicit(&sys->timers.live, memory_order_relaxed);
}

void
cst_timers_sync(casty_system *sys)
{
	cst_reactor_barrier(sys->reactor);
}

uint64_t
cst_timers_new_id(casty_system *sys)
{
	// Relaxed: only uniqueness matters.
	return atomic_fetch_add_explicit(
		&sys->timers.next_id, 1, memory_order_relaxed);
}

void
cst_timers_start_actor(casty_system *sys, casty_ref owner, uint64_t id,
	int64_t delay_ms, int64_t interval_ms)
{
	cst_timer *t = cst_calloc(sizeof(*t));
	add_req   *a = cst_alloc(sizeof(*a));
	if (t == NULL || a == NULL) {
		cst_oom("actor timer");
	}
	init_timer(t, delay_ms, interval_ms, owner);
	t->id = id;
	t->hash = hash_id(id);
	a->req.run = run_add;
	a->timer = t;
	cst_reactor_submit(sys->reactor, &a->req);
}

void
cst_timers_cancel_actor(casty_system *sys, const uint64_t *ids, uint32_t n)
{
	if (n == 0) {
		return;
	}
	cancel_ids_req *c = cst_alloc(sizeof(*c) + n * sizeof(uint64_t));
	if (c == NULL) {
		cst_oom("actor timer");
	}
	c->req.run = run_cancel_ids;
	c->n = n;
	memcpy(c->ids, ids, n * sizeof(uint64_t));
	cst_reactor_submit(sys->reactor, &c->req);
}

int
cst_timers_check(const char *key, const casty_msg_type *type,
	const void *payload, int64_t delay_ms, int64_t interval_ms)
{
	if (key == NULL || key[0] == '\0' ||
	    strnlen(key, CASTY_TIMER_KEY_MAX + 1) > CASTY_TIMER_KEY_MAX ||
	    type == NULL || (type->flags & CASTY_MSG_SYSTEM) ||
	    payload == NULL || delay_ms < 0 || interval_ms < 0) {
		return -EINVAL;
	}
	return CASTY_OK;
}

int
casty_schedule_msg(casty_system *sys, const char *key, casty_ref to,
	const casty_msg_type *type, unsigned tag, const void *payload,
	int64_t delay_ms, int64_t interval_ms)
{
	if (sys == NULL) {
		return -EINVAL;
	}
	int rc = cst_timers_check(key, type, payload, delay_ms, interval_ms);
	if (rc != CASTY_OK) {
		return rc;
	}
	if (to.cell == NULL || to.node != 0) {
		return CASTY_ENOREF;
	}
	if (to.cell->sys != sys) {
		return -EINVAL;
	}
	// Relaxed: a late view lets one more timer in, which destroy drops.
	if (atomic_load_explicit(&sys->state, memory_order_relaxed) !=
	    CST_SYS_RUNNING) {
		return CASTY_ESTOPPED;
	}
	size_t     keylen = strlen(key);
	size_t     size = sizeof(sys_timer) + type->size + keylen + 1;
	sys_timer *s = cst_calloc(size);
	add_req   *a = cst_alloc(sizeof(*a));
	if (s == NULL || a == NULL) {
		cst_free_sized(s, size);
		cst_free_sized(a, sizeof(*a));
		return -ENOMEM;
	}
	init_timer(&s->base, delay_ms, interval_ms, to);
	s->base.hash = hash_key(key, keylen);
	s->base.tag = (uint16_t)tag;
	s->base.keylen = (uint16_t)keylen;
	s->type = type;
	memcpy(s->data, payload, type->size);
	memcpy(s->data + type->size, key, keylen + 1);
	a->req.run = run_add;
	a->timer = &s->base;
	cst_reactor_submit(sys->reactor, &a->req);
	return CASTY_OK;
}

int
casty_cancel_schedule(casty_system *sys, const char *key)
{
	if (sys == NULL || key == NULL || key[0] == '\0' ||
	    strnlen(key, CASTY_TIMER_KEY_MAX + 1) > CASTY_TIMER_KEY_MAX) {
		return -EINVAL;
	}
	size_t          keylen = strlen(key);
	cancel_key_req *c = cst_alloc(sizeof(*c) + keylen + 1);
	if (c == NULL) {
		return -ENOMEM;
	}
	c->req.run = run_cancel_key;
	c->hash = hash_key(key, keylen);
	c->keylen = (uint32_t)keylen;
	memcpy(c->key, key, keylen + 1);
	cst_reactor_submit(sys->reactor, &c->req);
	return CASTY_OK;
}
