// runtime/events.c: the event stream. Subscriptions are few and rare,
// publications many: a subscriber list per event kind under one lock,
// and a lock-free "anyone listening?" count so that publishing a kind
// nobody listens to costs one load. Subscribers are actors, so an event
// is an ordinary message; the lock is never held while delivering (a
// delivery can itself publish a dead letter).
#include "runtime/events.h"

#include <errno.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/msg.h"
#include "runtime/system.h"

#define EVENT_TYPE(T, ...)                                                    \
	static const casty_field T##__fields[] = {                            \
	    CASTY__EACH(CASTY__FIELD, T, __VA_ARGS__){NULL, 0, 0, 0}};         \
	const casty_msg_type     T##__type = {#T, sizeof(T), alignof(T),      \
		    CASTY__NARG(__VA_ARGS__), CASTY_MSG_EVENT, T##__fields}

EVENT_TYPE(casty_actor_started, ref, path);
EVENT_TYPE(casty_actor_stopped, ref, path);
EVENT_TYPE(casty_actor_restarted, ref, path, code, reason);
EVENT_TYPE(casty_dead_letter, recipient, reason, message_type, message);
EVENT_TYPE(casty_unhandled_message, recipient, path, message_type, message);
EVENT_TYPE(casty_member_joined, system, host, port, incarnation, roles);
EVENT_TYPE(casty_member_up, system, host, port, incarnation, roles);
EVENT_TYPE(casty_member_left, system, host, port, incarnation, roles);
EVENT_TYPE(casty_member_downed, system, host, port, incarnation, roles);
EVENT_TYPE(casty_member_removed, system, host, port, incarnation, roles);
EVENT_TYPE(casty_unreachable_member, system, host, port, incarnation, roles);
EVENT_TYPE(casty_reachable_member, system, host, port, incarnation, roles);
EVENT_TYPE(casty_leader_changed, has_leader, system, host, port, incarnation,
	roles);

static const casty_msg_type *const kind_types[CST_EV_COUNT] = {
	[CST_EV_ACTOR_STARTED] = &casty_actor_started__type,
	[CST_EV_ACTOR_STOPPED] = &casty_actor_stopped__type,
	[CST_EV_ACTOR_RESTARTED] = &casty_actor_restarted__type,
	[CST_EV_DEAD_LETTER] = &casty_dead_letter__type,
	[CST_EV_UNHANDLED] = &casty_unhandled_message__type,
	[CST_EV_MEMBER_JOINED] = &casty_member_joined__type,
	[CST_EV_MEMBER_UP] = &casty_member_up__type,
	[CST_EV_MEMBER_LEFT] = &casty_member_left__type,
	[CST_EV_MEMBER_DOWNED] = &casty_member_downed__type,
	[CST_EV_MEMBER_REMOVED] = &casty_member_removed__type,
	[CST_EV_UNREACHABLE_MEMBER] = &casty_unreachable_member__type,
	[CST_EV_REACHABLE_MEMBER] = &casty_reachable_member__type,
	[CST_EV_LEADER_CHANGED] = &casty_leader_changed__type,
};

// Events are small bursts; larger fan-outs copy the list to the heap.
#define STACK_SUBSCRIBERS 16

const char *
casty_dead_letter_reason_name(int reason)
{
	switch (reason) {
	case CASTY_DEAD_STOPPED:
		return "stopped";
	case CASTY_DEAD_DROP_NEW:
		// A remote actor's node not connected, with its pending
		// messages at their bound, drops new ones too (cluster.h).
		return "mailbox or pending messages full (drop_new)";
	case CASTY_DEAD_DROP_OLDEST:
		return "mailbox full (drop_oldest)";
	case CASTY_DEAD_UNKNOWN_TYPE:
		return "unknown message type";
	case CASTY_DEAD_INVALID:
		return "invalid message";
	case CASTY_DEAD_NOT_MEMBER:
		return "recipient's node is not a member of the cluster";
	}
	return "unknown";
}

void
cst_events_init(cst_event_stream *es)
{
	pthread_mutex_init(&es->lock, NULL);
	for (int k = 0; k < CST_EV_COUNT; k++) {
		atomic_init(&es->subs[k].n, 0);
		es->subs[k].cap = 0;
		es->subs[k].refs = NULL;
	}
}

void
cst_events_fini(cst_event_stream *es)
{
	for (int k = 0; k < CST_EV_COUNT; k++) {
		cst_free_sized(es->subs[k].refs,
			es->subs[k].cap * sizeof(casty_ref));
	}
	pthread_mutex_destroy(&es->lock);
}

static int
kind_of(const casty_msg_type *type)
{
	for (int k = 0; k < CST_EV_COUNT; k++) {
		// By name too: a second copy of a descriptor (see casty_msg_is).
		if (type == kind_types[k] ||
		    (type != NULL && strcmp(type->name, kind_types[k]->name) == 0)) {
			return k;
		}
	}
	return -1;
}

// Called with the lock held.
static void
remove_at(cst_subscribers *s, uint32_t i)
{
	uint32_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	s->refs[i] = s->refs[n - 1];
	atomic_store_explicit(&s->n, n - 1, memory_order_relaxed);
}

int
casty_subscribe_type(
	casty_system *sys, casty_ref subscriber, const casty_msg_type *type)
{
	if (sys == NULL) {
		return -EINVAL;
	}
	int k = kind_of(type);
	if (k < 0) {
		return -EINVAL;
	}
	if (subscriber.cell == NULL || subscriber.node != 0) {
		return CASTY_ENOREF;
	}
	if (atomic_load_explicit(&sys->state, memory_order_relaxed) ==
	    CST_SYS_TERMINATED) {
		return CASTY_ESTOPPED;
	}
	cst_event_stream *es = &sys->events;
	cst_subscribers  *s = &es->subs[k];
	pthread_mutex_lock(&es->lock);
	uint32_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++) {
		if (casty_ref_eq(s->refs[i], subscriber)) {
			pthread_mutex_unlock(&es->lock);
			return CASTY_OK;
		}
	}
	if (n == s->cap) {
		uint32_t   cap = s->cap ? s->cap * 2 : 4;
		casty_ref *refs = cst_alloc(cap * sizeof(casty_ref));
		if (refs == NULL) {
			pthread_mutex_unlock(&es->lock);
			return -ENOMEM;
		}
		if (n != 0) {
			memcpy(refs, s->refs, n * sizeof(casty_ref));
		}
		cst_free_sized(s->refs, s->cap * sizeof(casty_ref));
		s->refs = refs;
		s->cap = cap;
	}
	s->refs[n] = subscriber;
	atomic_store_explicit(&s->n, n + 1, memory_order_relaxed);
	pthread_mutex_unlock(&es->lock);
	return CASTY_OK;
}

int
casty_unsubscribe_type(
	casty_system *sys, casty_ref subscriber, const casty_msg_type *type)
{
	int k = sys != NULL ? kind_of(type) : -1;
	if (k < 0) {
		return -EINVAL;
	}
	cst_event_stream *es = &sys->events;
	cst_subscribers  *s = &es->subs[k];
	pthread_mutex_lock(&es->lock);
	uint32_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++) {
		if (casty_ref_eq(s->refs[i], subscriber)) {
			remove_at(s, i);
			break;
		}
	}
	pthread_mutex_unlock(&es->lock);
	return CASTY_OK;
}

// A subscriber whose incarnation is over is dropped from the list, so a
// stopped subscriber costs nothing after the next event.
static bool
gone(casty_ref ref)
{
	// Acquire: as in cst_deliver, pairs with the increment at stop.
	return atomic_load_explicit(&ref.cell->gen, memory_order_acquire) !=
	       ref.gen;
}

static void
forget_gone(cst_event_stream *es, cst_subscribers *s)
{
	pthread_mutex_lock(&es->lock);
	for (uint32_t i = 0;
	     i < atomic_load_explicit(&s->n, memory_order_relaxed);) {
		if (gone(s->refs[i])) {
			remove_at(s, i);
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&es->lock);
}

void
cst_events_publish(
	cst_event_stream *es, enum cst_event_kind kind, const void *payload)
{
	cst_subscribers      *s = &es->subs[kind];
	const casty_msg_type *type = kind_types[kind];
	casty_ref             local[STACK_SUBSCRIBERS];
	casty_ref            *refs = local;
	size_t                bytes = 0;

	pthread_mutex_lock(&es->lock);
	uint32_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	if (n > STACK_SUBSCRIBERS) {
		bytes = n * sizeof(casty_ref);
		refs = cst_alloc(bytes);
		if (refs == NULL) {
			cst_oom("event stream");
		}
	}
	if (n != 0) {
		memcpy(refs, s->refs, n * sizeof(casty_ref));
	}
	pthread_mutex_unlock(&es->lock);

	bool stale = false;
	for (uint32_t i = 0; i < n; i++) {
		if (gone(refs[i])) {
			stale = true;
			continue;
		}
		cst_deliver(refs[i].cell, cst_msg_new(type, CASTY_TAG_UNKNOWN,
						  payload, refs[i].gen));
	}
	if (bytes != 0) {
		cst_free_sized(refs, bytes);
	}
	if (stale) {
		forget_gone(es, s);
	}
}
