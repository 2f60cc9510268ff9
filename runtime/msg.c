// runtime/msg.c: envelopes, tell, delivery and dead letters.
#include "runtime/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/pool.h"
#include "runtime/ask.h"
#include "runtime/events.h"
#include "runtime/remote.h"
#include "runtime/sched.h"
#include "runtime/system.h"

CASTY_MESSAGE(casty_int, value);
CASTY_MESSAGE(casty_text, value);
CASTY_MESSAGE(casty_terminated, ref, path);

#define SYSTEM_TYPE(T)                                                        \
	const casty_msg_type T##__type = {                                    \
		#T, sizeof(T), alignof(T), 0, CASTY_MSG_SYSTEM, NULL}

SYSTEM_TYPE(cst_sys_start);
SYSTEM_TYPE(cst_sys_stop);
SYSTEM_TYPE(cst_sys_watch);
SYSTEM_TYPE(cst_sys_child_stopped);
SYSTEM_TYPE(cst_sys_timer);
SYSTEM_TYPE(cst_sys_identify);
const casty_msg_type cst_identified__type = {"cst_identified",
	sizeof(cst_identified), alignof(cst_identified), 0, CST_MSG_INTERNAL,
	NULL};
const casty_msg_type cst_sys_unwatch__type = {"cst_sys_unwatch",
	sizeof(cst_sys_watch), alignof(cst_sys_watch), 0, CASTY_MSG_SYSTEM,
	NULL};
const casty_msg_type cst_sys_failed__type = {"cst_sys_failed",
	sizeof(cst_failure), alignof(cst_failure), 0, CASTY_MSG_SYSTEM,
	NULL};
const casty_msg_type cst_sys_child_failed__type = {"cst_sys_child_failed",
	sizeof(cst_failure), alignof(cst_failure), 0, CASTY_MSG_SYSTEM,
	NULL};

// Most payloads are a few 8-byte fields: copy those word by word inline
// rather than through a call to memcpy with a size it cannot see.
static inline void
copy_payload(unsigned char *dst, const void *src, size_t size)
{
	if (size <= 64 && size % 8 == 0) {
		for (size_t i = 0; i < size; i += 8) {
			uint64_t w;
			__builtin_memcpy(&w, (const unsigned char *)src + i, 8);
			__builtin_memcpy(dst + i, &w, 8);
		}
	} else {
		memcpy(dst, src, size);
	}
}

static inline casty_msg *
fill(casty_msg *msg, unsigned c, const casty_msg_type *type, unsigned tag,
	const void *payload, uint32_t target_gen)
{
	msg->type = type;
	msg->target_gen = target_gen;
	msg->tag = (uint16_t)tag;
	msg->size_class = (uint8_t)c;
	msg->flags = 0;
	if (payload != NULL) {
		copy_payload(msg->payload, payload, type->size);
	} else {
		memset(msg->payload, 0, type->size);
	}
	return msg;
}

casty_msg *
cst_msg_new(const casty_msg_type *type, unsigned tag, const void *payload,
	uint32_t target_gen)
{
	size_t   size = sizeof(casty_msg) + type->size;
	unsigned c = cst_pool_class_of(size);
	return fill(cst_pool_get(cst_worker_pool(), c, size), c, type, tag,
		payload, target_gen);
}

// A message a handler sends to cell: while the handler's sends are
// batched, its envelope comes from cell's lane (lanes.c), beside the ones
// before it. (cst_deliver may still push it directly, to a bounded
// mailbox say: any pool block will do there.)
static casty_msg *
msg_new_to(casty_cell *cell, const casty_msg_type *type, unsigned tag,
	const void *payload, uint32_t target_gen)
{
	size_t      size = sizeof(casty_msg) + type->size;
	unsigned    c = cst_pool_class_of(size);
	cst_worker *w = cst_tls_worker;
	void       *block;

	if (w == NULL) {
		block = cst_pool_get(NULL, c, size);
	} else if (cst_outbox_batching(&w->outbox)) {
		block = cst_lanes_get(&w->lanes, &w->pool, cell, c, size);
	} else {
		block = cst_pool_get(&w->pool, c, size);
	}
	return fill(block, c, type, tag, payload, target_gen);
}

void
cst_msg_free(casty_msg *msg)
{
	cst_pool_put(cst_worker_pool(), msg->size_class, msg,
		sizeof(casty_msg) + msg->type->size);
}

void
casty_msg_free(casty_msg *msg)
{
	if (msg != NULL) {
		cst_msg_free(msg);
	}
}

bool
casty_msg_is(const casty_msg *msg, const casty_msg_type *t)
{
	if (msg == NULL || t == NULL) {
		return false;
	}
	// Descriptors are shared through weak symbols; a program that still
	// ends up with two copies (a static and a shared link, say) is caught
	// by the name.
	return msg->type == t || strcmp(msg->type->name, t->name) == 0;
}

static void
publish_dead_letter(casty_cell *cell, const casty_msg *msg, int reason)
{
	casty_dead_letter ev = {
		.recipient = {cell, msg->target_gen, 0},
		.reason = reason,
	};
	snprintf(ev.message_type, sizeof ev.message_type, "%s",
		msg->type->name);
	casty_msg_format(msg->type, msg->payload, ev.message,
		sizeof ev.message);
	cst_events_publish(&cell->sys->events, CST_EV_DEAD_LETTER, &ev);
}

void
cst_dead_letter_undecoded(casty_system *sys, casty_ref recipient, int reason,
	const char *type_name, const char *detail)
{
	// Relaxed: a statistic.
	atomic_fetch_add_explicit(&sys->dead_letters, 1, memory_order_relaxed);
	if (cst_events_wanted(&sys->events, CST_EV_DEAD_LETTER)) {
		casty_dead_letter ev = {.recipient = recipient, .reason = reason};
		snprintf(ev.message_type, sizeof ev.message_type, "%s",
			type_name);
		snprintf(ev.message, sizeof ev.message, "%s", detail);
		cst_events_publish(&sys->events, CST_EV_DEAD_LETTER, &ev);
	}
}

void
cst_dead_letter(casty_cell *cell, casty_msg *msg, int reason)
{
	casty_system *sys = cell->sys;

	if (msg->type == &cst_sys_identify__type) {
		// The path led to an actor that is gone: nobody has it.
		const cst_sys_identify *m = (const void *)msg->payload;
		cst_identified          a = {m->request, CASTY_REF_NONE};
		cst_deliver(m->reply_to.cell, cst_msg_new(&cst_identified__type,
						      CASTY_TAG_UNKNOWN, &a,
						      m->reply_to.gen));
		return;
	}
	if (msg->type == &cst_sys_watch__type) {
		// Watching an actor that is gone: it is terminated already.
		const cst_sys_watch *w = (const void *)msg->payload;
		casty_terminated     t = {.ref = {cell, msg->target_gen, 0}};
		casty_send_copy(w->watcher, casty_terminated, &t);
		return;
	}
	if (msg->type->flags & CASTY_MSG_SYSTEM) {
		return; // a stop or unwatch for a stopped actor: nothing to do
	}
	if (msg->type->flags & (CASTY_MSG_EVENT | CST_MSG_INTERNAL)) {
		return; // for a gone subscriber, or a layer's: not a user's
	}
	// Relaxed: a statistic.
	atomic_fetch_add_explicit(&sys->dead_letters, 1, memory_order_relaxed);
	if (cst_events_wanted(&sys->events, CST_EV_DEAD_LETTER)) {
		publish_dead_letter(cell, msg, reason);
	}
}

// A bounded mailbox: reserve a place for a user message, or refuse it.
// Returns CASTY_OK with msg marked counted, CASTY_EFULL (backpressure) or
// 1 when msg was dropped (drop_new); a refused or dropped msg is freed.
static int
reserve(casty_cell *cell, casty_msg *msg, unsigned overflow)
{
	if (msg->type->flags & CASTY_MSG_SYSTEM) {
		return CASTY_OK; // never refused, never counted
	}
	uint32_t cap = atomic_load_explicit(&cell->capacity,
		memory_order_relaxed);
	uint32_t before = atomic_fetch_add_explicit(&cell->queued, 1,
		memory_order_relaxed);
	if (before >= cap && overflow != CASTY_DROP_OLDEST) {
		atomic_fetch_sub_explicit(&cell->queued, 1,
			memory_order_relaxed);
		if (overflow == CASTY_BACKPRESSURE) {
			cst_msg_free(msg);
			return CASTY_EFULL;
		}
		cst_dead_letter(cell, msg, CASTY_DEAD_DROP_NEW);
		cst_msg_free(msg);
		return 1;
	}
	// drop_oldest accepts past the limit: the consumer drops from the
	// head until the backlog is back within it (actor.c).
	msg->flags |= CST_MSG_COUNTED;
	return CASTY_OK;
}

int
cst_deliver(casty_cell *cell, casty_msg *msg)
{
	// Acquire: pairs with the release increment of gen at stop; a
	// mismatch is a dead letter here, and a stop that races with this
	// check is caught again by the consumer.
	if (atomic_load_explicit(&cell->gen, memory_order_acquire) !=
	    msg->target_gen) {
		cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
		cst_msg_free(msg);
		return CASTY_OK;
	}
	if (cell->kind == CST_CELL_PROMISE) {
		if (msg->type->flags & CASTY_MSG_SYSTEM) {
			// A promise is no actor: a watch of it is answered as for
			// a stopped one, anything else is dropped.
			cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
			cst_msg_free(msg);
			return CASTY_OK;
		}
		cst_promise_complete(cell, msg);
		return CASTY_OK;
	}
	// Relaxed: see casty_cell.overflow.
	unsigned overflow =
		atomic_load_explicit(&cell->overflow, memory_order_relaxed);
	if (overflow != 0) {
		int rc = reserve(cell, msg, overflow);
		if (rc != CASTY_OK) {
			return rc < 0 ? rc : CASTY_OK;
		}
		// Straight into the mailbox, never held in an outbox: the count
		// must stand for what the mailbox holds, or drop_oldest would
		// drop while the real backlog is within the limit.
		if (cst_mbox_push(&cell->mbox, &msg->link)) {
			cst_schedule(cell);
		}
		return CASTY_OK;
	}
	cst_worker *w = cst_tls_worker;
	if (w != NULL && w->sched == &cell->sys->sched &&
	    cst_outbox_take(&w->outbox)) {
		if (cst_outbox_add(&w->outbox, cell, &msg->link) ||
		    w->outbox.sent % CST_HELP_PERIOD == 0) {
			cst_sched_help(w, cell);
		}
		return CASTY_OK;
	}
	if (cst_mbox_push(&cell->mbox, &msg->link)) {
		cst_schedule(cell);
	}
	return CASTY_OK;
}

void
cst_send_sys(casty_ref ref, const casty_msg_type *type, const void *payload)
{
	cst_deliver(ref.cell, cst_msg_new(type, CASTY_TAG_UNKNOWN, payload,
				      ref.gen));
}

int
cst_identify(casty_ref root, const char *path, size_t len, casty_ref reply_to,
	uint64_t request)
{
	if (len >= CST_IDENTIFY_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	casty_msg *msg = cst_msg_new(
		&cst_sys_identify__type, CASTY_TAG_UNKNOWN, NULL, root.gen);
	cst_sys_identify *m = (void *)msg->payload;
	m->reply_to = reply_to;
	m->request = request;
	m->offset = 0;
	memcpy(m->path, path, len);
	m->path[len] = '\0';
	cst_deliver(root.cell, msg);
	return 0;
}

int
casty_tell_msg(casty_ref to, const casty_msg_type *type, unsigned tag,
	const void *payload)
{
	if (type == NULL || payload == NULL || (type->flags & CASTY_MSG_SYSTEM)) {
		return -EINVAL;
	}
	if (to.node != 0) {
		return cst_remote_tell(to, type, payload);
	}
	if (to.cell == NULL) {
		return CASTY_ENOREF;
	}
	// Relaxed: a late view only lets one more message become a dead
	// letter.
	if (atomic_load_explicit(&to.cell->sys->state, memory_order_relaxed) ==
	    CST_SYS_TERMINATED) {
		return CASTY_ESTOPPED;
	}
	return cst_deliver(
		to.cell, msg_new_to(to.cell, type, tag, payload, to.gen));
}

int
casty_send_textf(casty_ref ref, const char *fmt, ...)
{
	casty_text t;
	va_list    ap;

	if (fmt == NULL) {
		return -EINVAL;
	}
	va_start(ap, fmt);
	vsnprintf(t.value, sizeof t.value, fmt, ap);
	va_end(ap);
	return casty_send_copy(ref, casty_text, &t);
}
