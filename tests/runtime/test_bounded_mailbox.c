// tests/runtime/test_bounded_mailbox.c: bounded mailboxes (mailbox.h)
// under 8 concurrent producers, for each overflow strategy. The actor is
// first held in a Block handler (spinning on an atomic flag, so its
// mailbox only fills); the producers then tell, the test releases it and
// counts what was handled, dropped and refused. Every wait is a spin on
// an atomic condition or an ask round trip, never a sleep.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <casty/casty.h>

#include "tests/support/probe.h"

TestSuite(bounded_mailbox, .timeout = 120);

enum { PRODUCERS = 8, N = 2000, CAPACITY = 64 };

static casty_system *sys;

static void
start_system(void)
{
	casty_system_config cfg;
	casty_system_config_init(&cfg);
	cfg.workers = 2; // one held by Block, one for everyone else
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
}

// The bounded actor.

typedef struct {
	int32_t unused;
} Block;
typedef struct {
	int32_t producer;
	int32_t seq;
} Item;
typedef struct {
	casty_ref reply_to;
} Verdict;
CASTY_MESSAGE(Block, unused);
CASTY_MESSAGE(Item, producer, seq);
CASTY_MESSAGE(Verdict, reply_to);
CASTY_PROTOCOL(SinkMsg, Block, Item, Verdict);

// Set by the Block handler once it holds its worker; it returns once the
// test sets release.
static atomic_bool entered;
static atomic_bool release;
// When set, the Block handler stops its own actor once released, while
// its mailbox is still as full as the test left it.
static atomic_bool stop_on_release;
static atomic_int  self_stop_rc; // what casty_ctx_stop returned there
// Items handled, for the test to spin on.
static atomic_long handled;

// Per producer, what the actor handled: written by the actor only, read
// by the test after a Verdict round trip.
static int32_t first_seq[PRODUCERS];
static int32_t last_seq[PRODUCERS];
static int32_t nhandled[PRODUCERS];
static bool    consecutive = true; // each producer's seqs: +1 each time

static void
reset_sink(void)
{
	atomic_store(&entered, false);
	atomic_store(&release, false);
	atomic_store(&stop_on_release, false);
	atomic_store(&self_stop_rc, 1);
	atomic_store(&handled, 0);
	for (int p = 0; p < PRODUCERS; p++) {
		first_seq[p] = -1;
		last_seq[p] = -1;
		nhandled[p] = 0;
	}
	consecutive = true;
}

CASTY_HANDLER(sink_receive, void)
{
	switch (SinkMsg_tag_of(msg)) {
	case SinkMsg_Block:
		atomic_store(&entered, true);
		while (!atomic_load(&release)) {
			sched_yield();
		}
		if (atomic_load(&stop_on_release)) {
			atomic_store(&self_stop_rc,
				casty_ctx_stop(ctx, casty_self(ctx)));
		}
		return casty_same();
	case SinkMsg_Item: {
		const Item *it = CASTY_AS(Item, msg);
		int         p = it->producer;
		if (nhandled[p] == 0) {
			first_seq[p] = it->seq;
		} else if (it->seq != last_seq[p] + 1) {
			consecutive = false;
		}
		last_seq[p] = it->seq;
		nhandled[p]++;
		atomic_fetch_add(&handled, 1);
		return casty_same();
	}
	case SinkMsg_Verdict:
		casty_send(CASTY_AS(Verdict, msg)->reply_to, casty_int,
			atomic_load(&handled));
		return casty_same();
	}
	return casty_unhandled();
}

static SinkMsg_ref
sink_spawn(const char *name, uint32_t capacity, casty_overflow overflow)
{
	casty_mailbox mb = {.capacity = capacity, .overflow = overflow};
	SinkMsg_ref   s;
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), name,
				  &mb, &s),
		CASTY_OK));
	return s;
}

// block tells s to Block and returns once its handler holds the worker.
static void
block(SinkMsg_ref s)
{
	cr_assert(eq(int, casty_tell(s, Block, 0), CASTY_OK));
	while (!atomic_load(&entered)) {
		sched_yield();
	}
}

// verdict asks s how many Items it handled; its mailbox must have room.
static int64_t
verdict(SinkMsg_ref s)
{
	casty_msg *reply;
	int rc = casty_ask(sys, s, Verdict, reply_to, 60000, &reply);
	cr_assert(eq(int, rc, CASTY_OK), "Verdict: %s", casty_strerror(rc));
	int64_t n = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return n;
}

static void
wait_handled(long n)
{
	while (atomic_load(&handled) < n) {
		sched_yield();
	}
}

// The dead letter counter.

typedef struct {
	casty_ref reply_to;
} DlCount;
CASTY_MESSAGE(DlCount, reply_to);
CASTY_PROTOCOL(DlMsg, casty_dead_letter, DlCount);

static atomic_long dl_by_reason[4]; // by casty_dead_letter_reason
static atomic_bool dl_wrong_recipient;
static casty_ref   dl_expected; // set before subscribing

CASTY_HANDLER(dl_receive, void)
{
	switch (DlMsg_tag_of(msg)) {
	case DlMsg_casty_dead_letter: {
		const casty_dead_letter *d = CASTY_AS(casty_dead_letter, msg);
		if (!casty_ref_eq(d->recipient, dl_expected) ||
		    strcmp(d->message_type, "Item") != 0) {
			atomic_store(&dl_wrong_recipient, true);
		}
		if (d->reason >= 0 && d->reason < 4) {
			atomic_fetch_add(&dl_by_reason[d->reason], 1);
		}
		return casty_same();
	}
	case DlMsg_DlCount:
		casty_send(CASTY_AS(DlCount, msg)->reply_to, casty_int,
			atomic_load(&dl_by_reason[CASTY_DEAD_STOPPED]) +
				atomic_load(&dl_by_reason[CASTY_DEAD_DROP_NEW]) +
				atomic_load(&dl_by_reason[CASTY_DEAD_DROP_OLDEST]));
		return casty_same();
	}
	return casty_unhandled();
}

// dl_spawn subscribes a counter to the dead letters of `about` and returns
// once it runs.
static DlMsg_ref
dl_spawn(casty_ref about)
{
	DlMsg_ref d;
	for (int r = 0; r < 4; r++) {
		atomic_store(&dl_by_reason[r], 0);
	}
	atomic_store(&dl_wrong_recipient, false);
	dl_expected = about;
	cr_assert(eq(int, casty_spawn(sys, DlMsg,
				  casty_receive(dl_receive, NULL, 0), "dl", &d),
		CASTY_OK));
	cr_assert(eq(int, casty_subscribe(sys, d, casty_dead_letter), CASTY_OK));
	return d;
}

// All dead letters the counter has received, after a round trip.
static int64_t
dl_total(DlMsg_ref d)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, d, DlCount, reply_to, 60000, &reply),
		CASTY_OK));
	int64_t n = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return n;
}

static void
wait_dead_letters(int reason, long n)
{
	while (atomic_load(&dl_by_reason[reason]) < n) {
		sched_yield();
	}
}

static uint64_t
dead_letters(void)
{
	casty_system_stats st;
	casty_system_stats_get(sys, &st);
	return st.dead_letters;
}

// Producers.

typedef struct {
	SinkMsg_ref to;
	int32_t     id;
	int32_t     n;
	// Results: tell's return codes.
	int32_t ok, full, other;
	int32_t first_refused;   // seq of the first non-OK tell, or -1
	bool    ok_after_refused; // an OK after a refusal
} producer;

static void *
produce(void *arg)
{
	producer *p = arg;
	p->first_refused = -1;
	for (int32_t i = 0; i < p->n; i++) {
		int rc = casty_tell(p->to, Item, p->id, i);
		if (rc == CASTY_OK) {
			p->ok++;
			if (p->first_refused >= 0) {
				p->ok_after_refused = true;
			}
		} else {
			if (rc == CASTY_EFULL) {
				p->full++;
			} else {
				p->other++;
			}
			if (p->first_refused < 0) {
				p->first_refused = i;
			}
		}
	}
	return NULL;
}

// run_producers starts PRODUCERS threads telling n Items each to s,
// joins them and fills prods.
static void
run_producers(SinkMsg_ref s, int32_t n, producer prods[PRODUCERS])
{
	pthread_t t[PRODUCERS];
	memset(prods, 0, PRODUCERS * sizeof *prods);
	for (int i = 0; i < PRODUCERS; i++) {
		prods[i].to = s;
		prods[i].id = i;
		prods[i].n = n;
		cr_assert(eq(int, pthread_create(&t[i], NULL, produce, &prods[i]),
			0));
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], NULL);
	}
}

static int64_t
sum(const producer prods[PRODUCERS], size_t offset)
{
	int64_t total = 0;
	for (int i = 0; i < PRODUCERS; i++) {
		total += *(const int32_t *)(const void *)((const char *)&prods[i] +
							  offset);
	}
	return total;
}

Test(bounded_mailbox, drop_new_keeps_the_first_capacity_and_drops_the_rest)
{
	start_system();
	reset_sink();
	SinkMsg_ref s = sink_spawn("sink", CAPACITY, CASTY_DROP_NEW);
	DlMsg_ref   dl = dl_spawn(s.ref);
	block(s);
	uint64_t before = dead_letters();

	producer prods[PRODUCERS];
	run_producers(s, N, prods);
	atomic_store(&release, true);

	const int64_t total = (int64_t)PRODUCERS * N;
	cr_assert(eq(i64, sum(prods, offsetof(producer, ok)), total),
		"drop_new: every tell returns CASTY_OK");
	wait_handled(CAPACITY);
	cr_assert(eq(i64, verdict(s), CAPACITY),
		"exactly capacity handled, none after");
	wait_dead_letters(CASTY_DEAD_DROP_NEW, (long)(total - CAPACITY));
	cr_assert(eq(i64, dl_total(dl), total - CAPACITY));
	cr_assert(eq(i64, atomic_load(&dl_by_reason[CASTY_DEAD_DROP_NEW]),
		total - CAPACITY));
	cr_assert(not(atomic_load(&dl_wrong_recipient)));
	cr_assert(eq(u64, dead_letters() - before, (uint64_t)(total - CAPACITY)));

	// FIFO per producer, and what was kept is each one's first messages.
	cr_assert(consecutive);
	int64_t kept = 0;
	for (int p = 0; p < PRODUCERS; p++) {
		if (nhandled[p] > 0) {
			cr_assert(eq(i32, first_seq[p], 0), "producer %d", p);
		}
		kept += nhandled[p];
	}
	cr_assert(eq(i64, kept + (total - CAPACITY), total),
		"handled + dropped == sent");
	casty_system_destroy(sys);
}

Test(bounded_mailbox, drop_oldest_keeps_the_newest_capacity)
{
	start_system();
	reset_sink();
	SinkMsg_ref s = sink_spawn("sink", CAPACITY, CASTY_DROP_OLDEST);
	DlMsg_ref   dl = dl_spawn(s.ref);
	block(s);
	uint64_t before = dead_letters();

	producer prods[PRODUCERS];
	run_producers(s, N, prods);
	atomic_store(&release, true);

	const int64_t total = (int64_t)PRODUCERS * N;
	cr_assert(eq(i64, sum(prods, offsetof(producer, ok)), total),
		"drop_oldest: every tell returns CASTY_OK");
	wait_handled(CAPACITY);
	cr_assert(eq(i64, verdict(s), CAPACITY),
		"exactly capacity handled, none after");
	wait_dead_letters(CASTY_DEAD_DROP_OLDEST, (long)(total - CAPACITY));
	cr_assert(eq(i64, dl_total(dl), total - CAPACITY));
	cr_assert(eq(i64, atomic_load(&dl_by_reason[CASTY_DEAD_DROP_OLDEST]),
		total - CAPACITY));
	cr_assert(not(atomic_load(&dl_wrong_recipient)));
	cr_assert(eq(u64, dead_letters() - before, (uint64_t)(total - CAPACITY)));

	// FIFO per producer, and what was kept is each one's last messages.
	cr_assert(consecutive);
	int64_t kept = 0;
	for (int p = 0; p < PRODUCERS; p++) {
		if (nhandled[p] > 0) {
			cr_assert(eq(i32, last_seq[p], N - 1), "producer %d", p);
		}
		kept += nhandled[p];
	}
	cr_assert(eq(i64, kept + (total - CAPACITY), total),
		"handled + dropped == sent");
	casty_system_destroy(sys);
}

Test(bounded_mailbox, backpressure_refuses_with_efull_and_drops_nothing)
{
	start_system();
	reset_sink();
	SinkMsg_ref s = sink_spawn("sink", CAPACITY, CASTY_BACKPRESSURE);
	DlMsg_ref   dl = dl_spawn(s.ref);
	block(s);
	uint64_t before = dead_letters();

	producer prods[PRODUCERS];
	run_producers(s, N, prods);
	atomic_store(&release, true);

	const int64_t total = (int64_t)PRODUCERS * N;
	int64_t       ok = sum(prods, offsetof(producer, ok));
	int64_t       full = sum(prods, offsetof(producer, full));
	cr_assert(eq(i64, sum(prods, offsetof(producer, other)), 0),
		"only CASTY_OK or CASTY_EFULL");
	cr_assert(eq(i64, ok, CAPACITY), "the mailbox was held full");
	cr_assert(eq(i64, ok + full, total));
	wait_handled(ok);
	cr_assert(eq(i64, verdict(s), ok), "handled == accepted");
	cr_assert(eq(i64, dl_total(dl), 0), "no dead letter");
	cr_assert(eq(u64, dead_letters(), before));

	cr_assert(consecutive);
	for (int p = 0; p < PRODUCERS; p++) {
		// Once full it stays full: a producer's accepted ones are its
		// first, and all of them were handled.
		cr_assert(not(prods[p].ok_after_refused), "producer %d", p);
		cr_assert(eq(i32, nhandled[p], prods[p].ok), "producer %d", p);
		if (nhandled[p] > 0) {
			cr_assert(eq(i32, first_seq[p], 0));
		}
	}
	casty_system_destroy(sys);
}

Test(bounded_mailbox, the_unbounded_default_takes_everything)
{
	enum { EACH = 12500 }; // 100,000 in all
	start_system();
	reset_sink();
	SinkMsg_ref s;
	cr_assert(eq(int, casty_spawn(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "sink",
				  &s),
		CASTY_OK));
	block(s);

	producer prods[PRODUCERS];
	run_producers(s, EACH, prods);
	atomic_store(&release, true);

	const int64_t total = (int64_t)PRODUCERS * EACH;
	cr_assert(eq(i64, sum(prods, offsetof(producer, ok)), total));
	wait_handled(total);
	cr_assert(eq(i64, verdict(s), total));
	cr_assert(consecutive);
	for (int p = 0; p < PRODUCERS; p++) {
		cr_assert(eq(i32, nhandled[p], EACH));
		cr_assert(eq(i32, first_seq[p], 0));
		cr_assert(eq(i32, last_seq[p], EACH - 1));
	}
	casty_system_destroy(sys);
}

Test(bounded_mailbox, an_explicit_capacity_of_zero_is_unbounded)
{
	start_system();
	reset_sink();
	// capacity 0: the overflow is not used, even an unknown one.
	SinkMsg_ref s = sink_spawn("sink", 0, (casty_overflow)99);
	block(s);
	for (int32_t i = 0; i < 10 * CAPACITY; i++) {
		cr_assert(eq(int, casty_tell(s, Item, 0, i), CASTY_OK));
	}
	atomic_store(&release, true);
	wait_handled(10 * CAPACITY);
	cr_assert(eq(i64, verdict(s), 10 * CAPACITY));
	cr_assert(consecutive);
	casty_system_destroy(sys);
}

Test(bounded_mailbox, invalid_settings_are_einval)
{
	start_system();
	SinkMsg_ref   s;
	casty_mailbox too_big = {CASTY_MAILBOX_MAX_CAPACITY + 1, CASTY_DROP_NEW};
	casty_mailbox no_overflow = {16, (casty_overflow)0};
	casty_mailbox bad_overflow = {16, (casty_overflow)99};
	casty_mailbox max = {CASTY_MAILBOX_MAX_CAPACITY, CASTY_BACKPRESSURE};
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "a",
				  &too_big, &s),
		-EINVAL));
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "b",
				  &no_overflow, &s),
		-EINVAL));
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "c",
				  &bad_overflow, &s),
		-EINVAL));
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "d", &max,
				  &s),
		CASTY_OK), "the maximum itself is accepted");
	cr_assert(eq(int, casty_spawn_mailbox(sys, SinkMsg,
				  casty_receive(sink_receive, NULL, 0), "e", NULL,
				  &s),
		CASTY_OK), "NULL: unbounded");
	casty_system_destroy(sys);
}

// fill blocks s (a backpressure mailbox of capacity cap) and fills it.
static void
fill(SinkMsg_ref s, uint32_t cap)
{
	block(s);
	for (int32_t i = 0; i < (int32_t)cap; i++) {
		cr_assert(eq(int, casty_tell(s, Item, 0, i), CASTY_OK));
	}
	cr_assert(eq(int, casty_tell(s, Item, 0, (int32_t)cap), CASTY_EFULL),
		"full");
}

Test(bounded_mailbox, a_stop_reaches_a_full_backpressure_mailbox)
{
	enum { CAP = 4 };
	start_system();
	reset_sink();
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	SinkMsg_ref  s = sink_spawn("sink", CAP, CASTY_BACKPRESSURE);
	cr_assert(eq(int, probe_watch(sys, probe, s.ref), CASTY_OK));
	// The stop is sent from the Block handler once released: the
	// mailbox then still holds CAP items, so only a message that is
	// never refused gets in. (Sent from another actor it would need a
	// second actor to run while this one holds its worker, which the
	// bug shown by worker_held/ below can prevent.)
	atomic_store(&stop_on_release, true);
	fill(s, CAP);
	atomic_store(&release, true);

	cr_assert(ge(int, probe_await(sys, probe, s.ref), 0));
	cr_assert(eq(int, atomic_load(&self_stop_rc), CASTY_OK));
	// The stop came behind the items already queued.
	cr_assert(eq(long, atomic_load(&handled), CAP));
	cr_assert(eq(int, casty_tell(s, Item, 0, 99), CASTY_OK),
		"a stopped actor: a dead letter, not a refusal");
	casty_system_destroy(sys);
}

Test(bounded_mailbox, an_ask_to_a_full_backpressure_mailbox_is_efull)
{
	enum { CAP = 4 };
	start_system();
	reset_sink();
	SinkMsg_ref s = sink_spawn("sink", CAP, CASTY_BACKPRESSURE);
	fill(s, CAP);

	casty_msg *reply = NULL;
	int rc = casty_ask(sys, s, Verdict, reply_to, 60000, &reply);
	atomic_store(&release, true);
	cr_assert(eq(int, rc, CASTY_EFULL));
	cr_assert(eq(ptr, reply, NULL));

	// Once drained, it has room again.
	wait_handled(CAP);
	cr_assert(eq(i64, verdict(s), CAP));
	casty_system_destroy(sys);
}

// Regression (runtime/sched.c, the "hot actor" of a worker): an actor
// whose run found its mailbox empty stays in its worker's hot slot,
// unmarked, so a later tell to it schedules nothing. If that worker's
// next run is a long handler (here Block, spinning on its worker), an
// idle worker must rescue the hot actor; before the rescue existed this
// ask timed out. Deterministic: the relay spawns the child and tells it
// Block in one handler, so the child (start + Block) sits in the relay's
// worker's LIFO slot and runs there right after the relay's run ends,
// with the relay left hot.
TestSuite(worker_held, .timeout = 120);

typedef struct {
	casty_ref reply_to;
} Kick;
typedef struct {
	casty_ref reply_to;
} Hello;
CASTY_MESSAGE(Kick, reply_to);
CASTY_MESSAGE(Hello, reply_to);
CASTY_PROTOCOL(RelayMsg, Kick, Hello);

CASTY_HANDLER(relay_receive, void)
{
	switch (RelayMsg_tag_of(msg)) {
	case RelayMsg_Kick: {
		SinkMsg_ref child;
		if (casty_ctx_spawn(ctx, SinkMsg,
			    casty_receive(sink_receive, NULL, 0), "held",
			    &child) == CASTY_OK) {
			casty_tell(child, Block, 0);
		}
		return casty_same(); // the test waits for `entered`
	}
	case RelayMsg_Hello:
		casty_send(CASTY_AS(Hello, msg)->reply_to, casty_int, 1);
		return casty_same();
	}
	return casty_unhandled();
}

Test(worker_held, an_idle_actor_is_not_held_by_a_long_handler_elsewhere)
{
	start_system();
	reset_sink();
	RelayMsg_ref relay;
	cr_assert(eq(int, casty_spawn(sys, RelayMsg,
				  casty_receive(relay_receive, NULL, 0), "relay",
				  &relay),
		CASTY_OK));
	cr_assert(eq(int, casty_tell(relay, Kick, CASTY_REF_NONE), CASTY_OK));
	while (!atomic_load(&entered)) {
		sched_yield();
	}
	// One worker is held by Block; the other is free and the relay has
	// nothing else to do, so it must answer.
	casty_msg *reply = NULL;
	int        rc = casty_ask(sys, relay, Hello, reply_to, 20000, &reply);
	atomic_store(&release, true);
	cr_assert(eq(int, rc, CASTY_OK),
		"the relay stayed hot on the held worker: %s",
		casty_strerror(rc));
	casty_msg_free(reply);
	casty_system_destroy(sys);
}
