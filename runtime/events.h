// runtime/events.h: publishing to the system event stream.
#ifndef CASTY_RUNTIME_EVENTS_H
#define CASTY_RUNTIME_EVENTS_H

#include <pthread.h>
#include <stdatomic.h>

#include <casty/casty.h>

enum cst_event_kind {
	CST_EV_ACTOR_STARTED,
	CST_EV_ACTOR_STOPPED,
	CST_EV_ACTOR_RESTARTED,
	CST_EV_DEAD_LETTER,
	CST_EV_UNHANDLED,
	CST_EV_MEMBER_JOINED,
	CST_EV_MEMBER_UP,
	CST_EV_MEMBER_LEFT,
	CST_EV_MEMBER_DOWNED,
	CST_EV_MEMBER_REMOVED,
	CST_EV_UNREACHABLE_MEMBER,
	CST_EV_REACHABLE_MEMBER,
	CST_EV_LEADER_CHANGED,
	CST_EV_COUNT,
};

typedef struct cst_subscribers {
	// Written under the stream's lock; read without it only to learn
	// whether anyone listens (relaxed: a publisher that misses a
	// subscription made concurrently had not been ordered after it).
	_Atomic uint32_t n;
	uint32_t         cap;
	casty_ref       *refs;
} cst_subscribers;

typedef struct cst_event_stream {
	pthread_mutex_t lock;
	cst_subscribers subs[CST_EV_COUNT];
} cst_event_stream;

void cst_events_init(cst_event_stream *es);
void cst_events_fini(cst_event_stream *es);

/** cst_events_wanted tells whether kind has a subscriber. Thread: any. */
static inline bool
cst_events_wanted(cst_event_stream *es, enum cst_event_kind kind)
{
	return atomic_load_explicit(&es->subs[kind].n, memory_order_relaxed) !=
	       0;
}

/**
 * cst_events_publish sends a copy of the event payload (of kind's type)
 * to every subscriber of kind. Thread: any.
 */
void cst_events_publish(
	cst_event_stream *es, enum cst_event_kind kind, const void *payload);

#endif // CASTY_RUNTIME_EVENTS_H
