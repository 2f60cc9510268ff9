// tests/runtime/test_events.c: the system event stream (events.h): dead
// letters, unhandled messages, lifecycle events, subscribing and
// unsubscribing. A subscriber actor records what it receives; the test
// reads the records only after an ask round trip with it (EvAwait), which
// orders them. No sleeps: every wait is an ask or the probe.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(events, .init = sys_setup, .fini = sys_teardown, .timeout = 60);

// The subscriber.

enum { K_DEAD, K_UNHANDLED, K_STARTED, K_STOPPED, K_RESTARTED, K_COUNT };

// EvAwait is answered (casty_int: the number of matching events) once the
// subscriber has recorded at least n events of kind about `about` (any
// ref when about is the empty ref). n = 0 answers at once.
typedef struct {
	int32_t   kind;
	int32_t   n;
	casty_ref about;
	casty_ref reply_to;
} EvAwait;
typedef struct {
	int32_t unused;
} EvQuit;
CASTY_MESSAGE(EvAwait, kind, n, about, reply_to);
CASTY_MESSAGE(EvQuit, unused);
CASTY_PROTOCOL(EvSub, casty_dead_letter, casty_unhandled_message,
	casty_actor_started, casty_actor_stopped, casty_actor_restarted,
	EvAwait, EvQuit);

#define SUBS 2
#define MAXEV 64

// What subscriber id received, written by its handler only and read by
// the test after an EvAwait round trip.
typedef struct {
	casty_dead_letter       dead[MAXEV];
	casty_unhandled_message unhandled[MAXEV];
	casty_actor_started     started[MAXEV];
	casty_actor_stopped     stopped[MAXEV];
	casty_actor_restarted   restarted[MAXEV];
	int                     n[K_COUNT]; // received, also past MAXEV
	// The pending EvAwait, if any.
	bool      waiting;
	EvAwait   wait;
} sub_record;

static sub_record rec[SUBS];

static casty_ref
about_of(const sub_record *r, int kind, int i)
{
	switch (kind) {
	case K_DEAD:
		return r->dead[i].recipient;
	case K_UNHANDLED:
		return r->unhandled[i].recipient;
	case K_STARTED:
		return r->started[i].ref;
	case K_STOPPED:
		return r->stopped[i].ref;
	default:
		return r->restarted[i].ref;
	}
}

static int
matching(const sub_record *r, int kind, casty_ref about)
{
	if (casty_ref_is_none(about)) {
		return r->n[kind];
	}
	int m = 0;
	for (int i = 0; i < r->n[kind] && i < MAXEV; i++) {
		m += casty_ref_eq(about_of(r, kind, i), about);
	}
	return m;
}

static void
answer_if_done(sub_record *r)
{
	if (!r->waiting) {
		return;
	}
	int m = matching(r, r->wait.kind, r->wait.about);
	if (m >= r->wait.n) {
		r->waiting = false;
		casty_send(r->wait.reply_to, casty_int, m);
	}
}

#define RECORD(r, kind, field, T, msg)                                        \
	do {                                                                  \
		if ((r)->n[kind] < MAXEV) {                                   \
			(r)->field[(r)->n[kind]] = *CASTY_AS(T, msg);         \
		}                                                             \
		(r)->n[kind]++;                                               \
	} while (0)

CASTY_HANDLER(sub_receive, int)
{
	sub_record *r = &rec[*state];
	switch (EvSub_tag_of(msg)) {
	case EvSub_casty_dead_letter:
		RECORD(r, K_DEAD, dead, casty_dead_letter, msg);
		break;
	case EvSub_casty_unhandled_message:
		RECORD(r, K_UNHANDLED, unhandled, casty_unhandled_message, msg);
		break;
	case EvSub_casty_actor_started:
		RECORD(r, K_STARTED, started, casty_actor_started, msg);
		break;
	case EvSub_casty_actor_stopped:
		RECORD(r, K_STOPPED, stopped, casty_actor_stopped, msg);
		break;
	case EvSub_casty_actor_restarted:
		RECORD(r, K_RESTARTED, restarted, casty_actor_restarted, msg);
		break;
	case EvSub_EvAwait:
		r->waiting = true;
		r->wait = *CASTY_AS(EvAwait, msg);
		break;
	case EvSub_EvQuit:
		return casty_stopped();
	}
	answer_if_done(r);
	return casty_same();
}

// ev_await waits until subscriber sub has n events of kind about `about`
// and returns how many it has.
static int
ev_await(EvSub_ref sub, int kind, int n, casty_ref about)
{
	casty_msg *reply;
	int rc = casty_ask(sys, sub, EvAwait, reply_to, 30000, &reply,
		.kind = kind, .n = n, .about = about);
	cr_assert(eq(int, rc, CASTY_OK), "EvAwait: %s", casty_strerror(rc));
	int m = (int)CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return m;
}

// sub_spawn starts subscriber id and returns once it runs (so its own
// casty_actor_started is behind it, before any subscription).
static EvSub_ref
sub_spawn(const char *name, int id)
{
	EvSub_ref s;
	cr_assert(eq(int, casty_spawn(sys, EvSub,
				  casty_receive(sub_receive, &id, sizeof id),
				  name, &s),
		CASTY_OK));
	cr_assert(eq(int, ev_await(s, K_DEAD, 0, CASTY_REF_NONE), 0));
	return s;
}

// The observed actor.

typedef struct {
	int32_t n;
} Ping;
typedef struct {
	int16_t   i;
	uint32_t  u;
	bool      b;
	char      s[8];
	casty_ref r;
	casty_ref none;
	double    d;
} Mixed;
typedef struct {
	int32_t unused;
} Fail;
typedef struct {
	int32_t unused;
} Quit;
typedef struct {
	casty_ref reply_to;
} Hello;
typedef struct {
	char s[16];
} Foreign;
CASTY_MESSAGE(Ping, n);
CASTY_MESSAGE(Mixed, i, u, b, s, r, none, d);
CASTY_MESSAGE(Fail, unused);
CASTY_MESSAGE(Quit, unused);
CASTY_MESSAGE(Hello, reply_to);
CASTY_MESSAGE(Foreign, s);
CASTY_PROTOCOL(TgtMsg, Ping, Mixed, Fail, Quit, Hello);

// Ping with n < 0 is unhandled; Fail fails; Quit stops; Hello answers.
CASTY_HANDLER(tgt_receive, void)
{
	switch (TgtMsg_tag_of(msg)) {
	case TgtMsg_Ping:
		if (CASTY_AS(Ping, msg)->n < 0) {
			return casty_unhandled();
		}
		return casty_same();
	case TgtMsg_Mixed:
		return casty_same();
	case TgtMsg_Fail:
		return casty_failed(42, "boom %d", 7);
	case TgtMsg_Quit:
		return casty_stopped();
	case TgtMsg_Hello:
		casty_send(CASTY_AS(Hello, msg)->reply_to, casty_int, 1);
		return casty_same();
	}
	return casty_unhandled();
}

static TgtMsg_ref
tgt_spawn(const char *name)
{
	TgtMsg_ref t;
	cr_assert(eq(int, casty_spawn(sys, TgtMsg,
				  casty_receive(tgt_receive, NULL, 0), name, &t),
		CASTY_OK));
	return t;
}

// stop_and_wait stops t (Quit) and returns once the probe saw it go:
// its generation has grown by then, so every later tell is a dead letter.
static void
stop_and_wait(ProbeMsg_ref probe, TgtMsg_ref t)
{
	cr_assert(eq(int, probe_watch(sys, probe, t.ref), CASTY_OK));
	cr_assert(eq(int, casty_tell(t, Quit, 0), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, t.ref), 0));
}

// A ref to an actor that has fully stopped.
static TgtMsg_ref
stale_ref(ProbeMsg_ref probe, const char *name)
{
	TgtMsg_ref t = tgt_spawn(name);
	stop_and_wait(probe, t);
	return t;
}

static uint64_t
dead_letters(void)
{
	casty_system_stats st;
	casty_system_stats_get(sys, &st);
	return st.dead_letters;
}

static uint64_t
unhandled_count(void)
{
	casty_system_stats st;
	casty_system_stats_get(sys, &st);
	return st.unhandled;
}

// Formatting.

Test(events, msg_format_prints_every_field_kind)
{
	TgtMsg_ref self = tgt_spawn("t");
	Mixed      m = {.i = -3, .u = 7, .b = true, .s = "hi", .r = self.ref,
		     .none = CASTY_REF_NONE, .d = 1.5};
	char       buf[192];
	const char *want =
		"Mixed{i=-3, u=7, b=true, s=\"hi\", r=<ref>, none=<none>, d=1.5}";
	size_t n = casty_msg_format(&Mixed__type, &m, buf, sizeof buf);
	cr_assert(eq(str, buf, (char *)want));
	cr_assert(eq(sz, n, strlen(want)));

	Ping p = {.n = 5};
	casty_msg_format(&Ping__type, &p, buf, sizeof buf);
	cr_assert(eq(str, buf, "Ping{n=5}"));

	// Truncated to the buffer, NUL-terminated, full length returned.
	char small[6];
	cr_assert(eq(sz, casty_msg_format(&Ping__type, &p, small, sizeof small),
		strlen("Ping{n=5}")));
	cr_assert(eq(str, small, "Ping{"));
}

// Dead letters.

Test(events, a_tell_to_a_stopped_actor_publishes_a_dead_letter)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));

	uint64_t before = dead_letters();
	cr_assert(eq(int, casty_tell(gone, Ping, 5), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_DEAD, 1, CASTY_REF_NONE), 1));
	cr_assert(eq(u64, dead_letters(), before + 1));

	const casty_dead_letter *d = &rec[0].dead[0];
	cr_assert(casty_ref_eq(d->recipient, gone.ref),
		"the recipient is the stale ref itself");
	cr_assert(eq(i32, d->reason, CASTY_DEAD_STOPPED));
	cr_assert(eq(str, (char *)d->message_type, "Ping"));
	cr_assert(eq(str, (char *)d->message, "Ping{n=5}"));
	cr_assert(eq(str, (char *)casty_dead_letter_reason_name(d->reason),
		"stopped"));
}

Test(events, a_dead_letter_prints_every_field_kind)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));

	cr_assert(eq(int, casty_tell(gone, Mixed, .i = -3, .u = 7, .b = false,
				  .s = "abc", .r = sub.ref,
				  .none = CASTY_REF_NONE, .d = -0.25),
		CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_DEAD, 1, CASTY_REF_NONE), 1));
	cr_assert(eq(str, (char *)rec[0].dead[0].message_type, "Mixed"));
	cr_assert(eq(str, (char *)rec[0].dead[0].message,
		"Mixed{i=-3, u=7, b=false, s=\"abc\", r=<ref>, none=<none>, "
		"d=-0.25}"));
}

Test(events, dead_letters_from_one_thread_arrive_in_order)
{
	enum { N = 50 };
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));

	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, casty_tell(gone, Ping, i), CASTY_OK));
	}
	cr_assert(eq(int, ev_await(sub, K_DEAD, N, CASTY_REF_NONE), N));
	for (int i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof want, "Ping{n=%d}", i);
		cr_assert(eq(str, rec[0].dead[i].message, want), "event %d", i);
	}
}

// Unhandled messages.

Test(events, an_unhandled_message_is_published_with_the_path)
{
	EvSub_ref  sub = sub_spawn("sub", 0);
	TgtMsg_ref t = tgt_spawn("target");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_unhandled_message),
		CASTY_OK));

	uint64_t before = unhandled_count();
	// Handled (n >= 0): no event. Then one the handler refuses, and one
	// of a type outside the protocol, sent untyped.
	cr_assert(eq(int, casty_tell(t, Ping, 1), CASTY_OK));
	cr_assert(eq(int, casty_tell(t, Ping, -1), CASTY_OK));
	cr_assert(eq(int, casty_send(t.ref, Foreign, "stray"), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_UNHANDLED, 2, t.ref), 2));

	const casty_unhandled_message *u = rec[0].unhandled;
	cr_assert(eq(int, rec[0].n[K_UNHANDLED], 2));
	cr_assert(casty_ref_eq(u[0].recipient, t.ref));
	cr_assert(eq(str, (char *)u[0].path, "/target"));
	cr_assert(eq(str, (char *)u[0].message_type, "Ping"));
	cr_assert(eq(str, (char *)u[0].message, "Ping{n=-1}"));
	cr_assert(casty_ref_eq(u[1].recipient, t.ref));
	cr_assert(eq(str, (char *)u[1].path, "/target"));
	cr_assert(eq(str, (char *)u[1].message_type, "Foreign"));
	cr_assert(eq(str, (char *)u[1].message, "Foreign{s=\"stray\"}"));
	cr_assert(eq(u64, unhandled_count(), before + 2));
}

// Lifecycle events.

Test(events, started_and_stopped_are_published_with_path_and_ref)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_actor_started),
		CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_actor_stopped),
		CASTY_OK));

	TgtMsg_ref t = tgt_spawn("worker");
	cr_assert(eq(int, ev_await(sub, K_STARTED, 1, t.ref), 1));
	cr_assert(eq(int, matching(&rec[0], K_STOPPED, t.ref), 0),
		"not stopped yet");
	stop_and_wait(probe, t);
	cr_assert(eq(int, ev_await(sub, K_STOPPED, 1, t.ref), 1));

	const sub_record *r = &rec[0];
	for (int i = 0; i < r->n[K_STARTED] && i < MAXEV; i++) {
		if (casty_ref_eq(r->started[i].ref, t.ref)) {
			cr_assert(eq(str, (char *)r->started[i].path, "/worker"));
		}
	}
	for (int i = 0; i < r->n[K_STOPPED] && i < MAXEV; i++) {
		if (casty_ref_eq(r->stopped[i].ref, t.ref)) {
			cr_assert(eq(str, (char *)r->stopped[i].path, "/worker"));
		}
	}
}

Test(events, a_supervised_restart_is_published_with_code_and_reason)
{
	EvSub_ref  sub = sub_spawn("sub", 0);
	TgtMsg_ref t;
	cr_assert(eq(int, casty_spawn(sys, TgtMsg,
				  casty_supervise(casty_receive(tgt_receive,
							  NULL, 0),
					  CASTY_ONE_FOR_ONE),
				  "flaky", &t),
		CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_actor_restarted),
		CASTY_OK));

	cr_assert(eq(int, casty_tell(t, Fail, 0), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_RESTARTED, 1, t.ref), 1));
	const casty_actor_restarted *e = &rec[0].restarted[0];
	cr_assert(casty_ref_eq(e->ref, t.ref), "a restart keeps the ref");
	cr_assert(eq(str, (char *)e->path, "/flaky"));
	cr_assert(eq(i32, e->code, 42));
	cr_assert(eq(str, (char *)e->reason, "boom 7"));

	// Still alive, behind the same ref.
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, t, Hello, reply_to, 30000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
}

// Subscriptions.

Test(events, no_event_after_unsubscribe_returns)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));
	cr_assert(eq(int, casty_unsubscribe(sys, sub, casty_dead_letter),
		CASTY_OK));
	cr_assert(eq(int, casty_tell(gone, Ping, 1), CASTY_OK));

	// Published in this thread after the first: had the first been sent,
	// it would have been recorded before the second.
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));
	cr_assert(eq(int, casty_tell(gone, Ping, 2), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_DEAD, 1, CASTY_REF_NONE), 1));
	cr_assert(eq(str, rec[0].dead[0].message, "Ping{n=2}"));
}

Test(events, subscribing_twice_delivers_once)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    sub = sub_spawn("sub", 0);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));

	cr_assert(eq(int, casty_tell(gone, Ping, 1), CASTY_OK));
	cr_assert(eq(int, casty_tell(gone, Ping, 2), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_DEAD, 2, CASTY_REF_NONE), 2));
	cr_assert(eq(str, rec[0].dead[0].message, "Ping{n=1}"));
	cr_assert(eq(str, rec[0].dead[1].message, "Ping{n=2}"),
		"a second copy of the first would come before this");

	// And one unsubscribe undoes both.
	cr_assert(eq(int, casty_unsubscribe(sys, sub, casty_dead_letter),
		CASTY_OK));
	cr_assert(eq(int, casty_tell(gone, Ping, 3), CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, sub, casty_dead_letter), CASTY_OK));
	cr_assert(eq(int, casty_tell(gone, Ping, 4), CASTY_OK));
	cr_assert(eq(int, ev_await(sub, K_DEAD, 3, CASTY_REF_NONE), 3));
	cr_assert(eq(str, rec[0].dead[2].message, "Ping{n=4}"));
}

Test(events, two_subscribers_both_receive)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    a = sub_spawn("a", 0);
	EvSub_ref    b = sub_spawn("b", 1);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, a, casty_dead_letter), CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, b, casty_dead_letter), CASTY_OK));

	cr_assert(eq(int, casty_tell(gone, Ping, 9), CASTY_OK));
	cr_assert(eq(int, ev_await(a, K_DEAD, 1, CASTY_REF_NONE), 1));
	cr_assert(eq(int, ev_await(b, K_DEAD, 1, CASTY_REF_NONE), 1));
	for (int id = 0; id < 2; id++) {
		cr_assert(casty_ref_eq(rec[id].dead[0].recipient, gone.ref));
		cr_assert(eq(str, rec[id].dead[0].message, "Ping{n=9}"));
	}
}

Test(events, a_stopped_subscriber_is_dropped_without_dead_letters)
{
	enum { K = 5 };
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	EvSub_ref    doomed = sub_spawn("doomed", 0);
	EvSub_ref    live = sub_spawn("live", 1);
	TgtMsg_ref   gone = stale_ref(probe, "gone");
	cr_assert(eq(int, casty_subscribe(sys, doomed, casty_dead_letter),
		CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, live, casty_dead_letter),
		CASTY_OK));

	cr_assert(eq(int, probe_watch(sys, probe, doomed.ref), CASTY_OK));
	cr_assert(eq(int, casty_tell(doomed, EvQuit, 0), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, doomed.ref), 0));

	uint64_t before = dead_letters();
	for (int i = 0; i < K; i++) {
		cr_assert(eq(int, casty_tell(gone, Ping, i), CASTY_OK));
	}
	cr_assert(eq(int, ev_await(live, K_DEAD, K, CASTY_REF_NONE), K));
	// Only the K tells: none of the events meant for the stopped
	// subscriber became a dead letter of its own.
	cr_assert(eq(u64, dead_letters(), before + K));
	cr_assert(eq(int, rec[1].n[K_DEAD], K));
}

Test(events, subscribe_rejects_bad_arguments)
{
	EvSub_ref sub = sub_spawn("sub", 0);
	cr_assert(eq(int, casty_subscribe_type(sys, sub.ref, &Ping__type),
		-EINVAL), "not an event type");
	cr_assert(eq(int, casty_subscribe_type(sys, sub.ref, &casty_int__type),
		-EINVAL));
	cr_assert(eq(int, casty_subscribe_type(sys, sub.ref, NULL), -EINVAL));
	cr_assert(eq(int, casty_subscribe_type(sys, CASTY_REF_NONE,
				  &casty_dead_letter__type),
		CASTY_ENOREF));
	cr_assert(eq(int, casty_unsubscribe_type(sys, sub.ref, &Ping__type),
		-EINVAL));
	cr_assert(eq(int, casty_unsubscribe_type(sys, sub.ref,
				  &casty_actor_started__type),
		CASTY_OK), "an unknown pair is ignored");
}

Test(events, reason_names)
{
	cr_assert(eq(str, (char *)casty_dead_letter_reason_name(
				  CASTY_DEAD_STOPPED), "stopped"));
	cr_assert(eq(str, (char *)casty_dead_letter_reason_name(
				  CASTY_DEAD_DROP_NEW),
		"mailbox or pending messages full (drop_new)"));
	cr_assert(eq(str, (char *)casty_dead_letter_reason_name(
				  CASTY_DEAD_DROP_OLDEST),
		"mailbox full (drop_oldest)"));
	cr_assert(eq(str, (char *)casty_dead_letter_reason_name(0), "unknown"));
}

TestSuite(events_stopped, .timeout = 60);

Test(events_stopped, subscribe_after_the_system_terminated_is_estopped)
{
	casty_system *s;
	cr_assert(eq(int, casty_system_create(NULL, &s), CASTY_OK));
	EvSub_ref sub;
	int       id = 0;
	cr_assert(eq(int, casty_spawn(s, EvSub,
				  casty_receive(sub_receive, &id, sizeof id),
				  "sub", &sub),
		CASTY_OK));
	casty_system_stop(s);
	casty_system_wait(s);
	cr_assert(eq(int, casty_subscribe(s, sub, casty_dead_letter),
		CASTY_ESTOPPED));
	casty_system_destroy(s);
}
