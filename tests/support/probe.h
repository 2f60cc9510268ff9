// tests/support/probe.h: a probe actor for tests. It watches refs on
// request and answers AwaitTerminated once it has seen casty_terminated
// for a ref, so a test can wait for a stop without sleeping. It keeps the
// order of the terminations it saw, for ordering assertions.
#ifndef CASTY_TESTS_SUPPORT_PROBE_H
#define CASTY_TESTS_SUPPORT_PROBE_H

#include <casty/casty.h>
#include <string.h>

typedef struct {
	casty_ref ref;
	casty_ref reply_to; // answered once the watch request is sent
} ProbeWatch;
typedef struct {
	casty_ref ref;
	casty_ref reply_to;
} ProbeAwait;
CASTY_MESSAGE(ProbeWatch, ref, reply_to);
CASTY_MESSAGE(ProbeAwait, ref, reply_to);
CASTY_PROTOCOL(ProbeMsg, ProbeWatch, ProbeAwait, casty_terminated);

#define PROBE_MAX 8

// The probe's state: what it has seen, and who waits for what.
typedef struct {
	casty_ref seen[PROBE_MAX];
	char      paths[PROBE_MAX][112];
	int       nseen;
	casty_ref waiting_for;
	casty_ref waiter;
} probe_state;

// Terminations seen, in order; written by the probe, read by the test
// after an ask (which orders them).
static probe_state probe_last;

static casty_behavior probe_behavior(probe_state s);

static int
probe_index(const probe_state *s, casty_ref ref)
{
	for (int i = 0; i < s->nseen; i++) {
		if (casty_ref_eq(s->seen[i], ref)) {
			return i;
		}
	}
	return -1;
}

CASTY_HANDLER(probe_receive, probe_state)
{
	probe_state s = *state;
	switch (ProbeMsg_tag_of(msg)) {
	case ProbeMsg_ProbeWatch: {
		const ProbeWatch *w = CASTY_AS(ProbeWatch, msg);
		casty_ctx_watch(ctx, w->ref);
		casty_send(w->reply_to, casty_int, 0);
		return casty_same();
	}
	case ProbeMsg_ProbeAwait: {
		const ProbeAwait *a = CASTY_AS(ProbeAwait, msg);
		int               i = probe_index(&s, a->ref);
		if (i >= 0) {
			casty_send(a->reply_to, casty_int, i);
			return casty_same();
		}
		s.waiting_for = a->ref;
		s.waiter = a->reply_to;
		return probe_behavior(s);
	}
	case ProbeMsg_casty_terminated: {
		const casty_terminated *t = CASTY_AS(casty_terminated, msg);
		if (s.nseen < PROBE_MAX) {
			s.seen[s.nseen] = t->ref;
			memcpy(s.paths[s.nseen], t->path, sizeof t->path);
			s.nseen++;
		}
		probe_last = s;
		if (!casty_ref_is_none(s.waiter) &&
		    casty_ref_eq(s.waiting_for, t->ref)) {
			casty_send(s.waiter, casty_int, s.nseen - 1);
			s.waiter = CASTY_REF_NONE;
		}
		return probe_behavior(s);
	}
	}
	return casty_unhandled();
}

static casty_behavior
probe_behavior(probe_state s)
{
	return casty_receive(probe_receive, &s, sizeof s);
}

// probe_await asks the probe to report once ref has terminated; returns
// the index of that termination in the order the probe saw them.
static int
probe_await(casty_system *sys, ProbeMsg_ref probe, casty_ref ref)
{
	casty_msg *reply;
	int rc = casty_ask(sys, probe, ProbeAwait, reply_to, 60000, &reply,
		.ref = ref);
	if (rc != CASTY_OK) {
		return rc;
	}
	int i = (int)CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return i;
}

// probe_watch makes the probe watch ref and returns once the watch
// request is on its way: whatever the caller sends ref afterwards
// arrives behind it.
static int
probe_watch(casty_system *sys, ProbeMsg_ref probe, casty_ref ref)
{
	casty_msg *reply;
	int rc = casty_ask(sys, probe, ProbeWatch, reply_to, 60000, &reply,
		.ref = ref);
	if (rc == CASTY_OK) {
		casty_msg_free(reply);
	}
	return rc;
}

static ProbeMsg_ref
probe_spawn(casty_system *sys, const char *name)
{
	ProbeMsg_ref p = {.ref = CASTY_REF_NONE};
	probe_state  s;
	memset(&s, 0, sizeof s);
	casty_spawn(sys, ProbeMsg, probe_behavior(s), name, &p);
	return p;
}

#endif // CASTY_TESTS_SUPPORT_PROBE_H
