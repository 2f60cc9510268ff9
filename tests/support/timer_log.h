// tests/support/timer_log.h: a log of which timer fired, in arrival
// order, kept in an actor's state, and answered on request once a given
// timer has fired often enough. Tests wait for a firing with an ask and
// prove that a timer did not fire by the order of the log (a cancelled
// timer would have arrived before a later marker), never by sleeping.
#ifndef CASTY_TESTS_SUPPORT_TIMER_LOG_H
#define CASTY_TESTS_SUPPORT_TIMER_LOG_H

#include <casty/casty.h>
#include <stdio.h>
#include <string.h>

// Timer ids are 1 .. TIMER_LOG_IDS - 1.
#define TIMER_LOG_IDS 8
#define TIMER_LOG_MAX 24

typedef struct {
	int64_t id;
} Fired;
typedef struct {
	int64_t   id;
	int64_t   count;
	casty_ref reply_to;
} AwaitFired;
CASTY_MESSAGE(Fired, id);
CASTY_MESSAGE(AwaitFired, id, count, reply_to);

typedef struct {
	int64_t   seen[TIMER_LOG_MAX]; // the first firings, in order
	int       nseen;
	int64_t   counts[TIMER_LOG_IDS];
	int64_t   wait_id, wait_count; // the pending AwaitFired, if any
	casty_ref waiter;
} timer_log;

// The log as text: "3 2 1" (ids in arrival order).
static void
timer_log_send(const timer_log *log, casty_ref to)
{
	casty_text t;
	size_t     len = 0;
	t.value[0] = '\0';
	for (int i = 0; i < log->nseen && len + 24 < sizeof t.value; i++) {
		len += (size_t)snprintf(t.value + len, sizeof t.value - len,
			i ? " %lld" : "%lld", (long long)log->seen[i]);
	}
	casty_send_copy(to, casty_text, &t);
}

static void
timer_log_answer(timer_log *log)
{
	if (!casty_ref_is_none(log->waiter) &&
	    log->counts[log->wait_id] >= log->wait_count) {
		timer_log_send(log, log->waiter);
		log->waiter = CASTY_REF_NONE;
	}
}

static void
timer_log_fired(timer_log *log, const Fired *f)
{
	if (log->nseen < TIMER_LOG_MAX) {
		log->seen[log->nseen++] = f->id;
	}
	if (f->id > 0 && f->id < TIMER_LOG_IDS) {
		log->counts[f->id]++;
	}
	timer_log_answer(log);
}

static void
timer_log_await(timer_log *log, const AwaitFired *a)
{
	log->wait_id = a->id > 0 && a->id < TIMER_LOG_IDS ? a->id : 0;
	log->wait_count = a->count;
	log->waiter = a->reply_to;
	timer_log_answer(log);
}

#endif // CASTY_TESTS_SUPPORT_TIMER_LOG_H
