// tests/runtime/test_sched.c: the scheduler end to end: 10,000 actors x
// 100 messages each, from outside threads (injection queue) and from
// actors (LIFO slot, deques, stealing), each delivered exactly once with
// per-sender order kept.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdatomic.h>

#include <casty/casty.h>

#define RECEIVERS 10000
#define SENDERS   4
#define PER_PAIR  25 // messages per (sender, receiver): 4 x 25 = 100

TestSuite(sched_stress, .timeout = 240);

typedef struct {
	int32_t sender;
	int32_t seq;
} Seq;
typedef struct {
	int32_t sender;
} Go;
CASTY_MESSAGE(Seq, sender, seq);
CASTY_MESSAGE(Go, sender);
CASTY_PROTOCOL(ReceiverMsg, Seq);
CASTY_PROTOCOL(SenderMsg, Go);

static _Atomic int64_t delivered, out_of_order, complete;
static ReceiverMsg_ref receivers[RECEIVERS];

typedef struct {
	int32_t last[SENDERS];
	int32_t count;
} receiver_state;

static casty_behavior receiver(receiver_state s);

CASTY_HANDLER(receiver_receive, receiver_state)
{
	receiver_state s = *state;
	const Seq     *m = CASTY_AS(Seq, msg);
	if (m->sender < 0 || m->sender >= SENDERS ||
	    m->seq != s.last[m->sender] + 1) {
		atomic_fetch_add_explicit(&out_of_order, 1, memory_order_relaxed);
	} else {
		s.last[m->sender] = m->seq;
	}
	atomic_fetch_add_explicit(&delivered, 1, memory_order_relaxed);
	if (++s.count == SENDERS * PER_PAIR) {
		atomic_fetch_add_explicit(&complete, 1, memory_order_relaxed);
	}
	return receiver(s);
}

static casty_behavior
receiver(receiver_state s)
{
	return casty_receive(receiver_receive, &s, sizeof s);
}

static void
send_all(int32_t sender)
{
	for (int32_t seq = 1; seq <= PER_PAIR; seq++) {
		for (int r = 0; r < RECEIVERS; r++) {
			casty_tell(receivers[r], Seq, sender, seq);
		}
	}
}

CASTY_HANDLER(sender_receive, void)
{
	send_all(CASTY_AS(Go, msg)->sender);
	return casty_same();
}

static void *
sender_thread(void *arg)
{
	send_all((int32_t)(intptr_t)arg);
	return NULL;
}

static casty_system *
start(void)
{
	casty_system  *sys;
	receiver_state      zero = {{0}, 0};
	casty_system_config cfg;
	atomic_store(&delivered, 0);
	atomic_store(&out_of_order, 0);
	atomic_store(&complete, 0);
	// destroy drains before it stops the actors; under a sanitizer a
	// million messages can take longer than the default drain timeout.
	casty_system_config_init(&cfg);
	cfg.drain_timeout_ms = 600000;
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	for (int r = 0; r < RECEIVERS; r++) {
		cr_assert(eq(int, casty_spawn(sys, ReceiverMsg, receiver(zero),
					  NULL, &receivers[r]),
			CASTY_OK));
	}
	return sys;
}

static void
check(void)
{
	cr_assert(eq(i64, atomic_load(&delivered),
		(int64_t)RECEIVERS * SENDERS * PER_PAIR));
	cr_assert(eq(i64, atomic_load(&out_of_order), 0));
	cr_assert(eq(i64, atomic_load(&complete), RECEIVERS));
}

Test(sched_stress, messages_from_outside_threads_arrive_once_in_order)
{
	casty_system *sys = start();
	pthread_t     t[SENDERS];
	for (intptr_t i = 0; i < SENDERS; i++) {
		pthread_create(&t[i], NULL, sender_thread, (void *)i);
	}
	for (int i = 0; i < SENDERS; i++) {
		pthread_join(t[i], NULL);
	}
	casty_system_destroy(sys); // drains first
	check();
}

Test(sched_stress, messages_from_actors_arrive_once_in_order)
{
	casty_system *sys = start();
	for (int32_t i = 0; i < SENDERS; i++) {
		SenderMsg_ref s;
		casty_spawn(sys, SenderMsg, casty_receive(sender_receive, NULL, 0),
			NULL, &s);
		casty_tell(s, Go, i);
	}
	casty_system_destroy(sys);
	check();
}

// Parking: between two asks every worker runs out of work and parks (or
// is about to); each ask must wake one. A lost wake-up hangs the test
// until its timeout.
typedef struct {
	casty_ref reply_to;
} Wake;
CASTY_MESSAGE(Wake, reply_to);
CASTY_PROTOCOL(WakeMsg, Wake);

CASTY_HANDLER(wake_receive, void)
{
	casty_send(CASTY_AS(Wake, msg)->reply_to, casty_int, 1);
	return casty_same();
}

Test(sched_stress, no_lost_wakeup_over_100000_idle_rounds)
{
	casty_system *sys;
	WakeMsg_ref   w;
	int64_t       replies = 0;
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	casty_spawn(sys, WakeMsg, casty_receive(wake_receive, NULL, 0), "w", &w);
	for (int i = 0; i < 100000; i++) {
		casty_msg *reply;
		if (casty_ask(sys, w, Wake, reply_to, 60000, &reply) == CASTY_OK) {
			replies += CASTY_AS(casty_int, reply)->value;
			casty_msg_free(reply);
		}
	}
	casty_system_destroy(sys);
	cr_assert(eq(i64, replies, 100000));
}

// One handler that spawns many children and tells them round-robin: the
// outbox batches some of these sends and pushes others directly, and no
// message may overtake an earlier one to the same child (a start message
// overtaken would turn the rest into dead letters).
#define FANOUT_CHILDREN 3000
#define FANOUT_ROUNDS   7

typedef struct {
	int32_t round;
} Round;
typedef struct {
	int32_t unused;
} Fanout;
CASTY_MESSAGE(Round, round);
CASTY_MESSAGE(Fanout, unused);
CASTY_PROTOCOL(ChildMsg, Round);
CASTY_PROTOCOL(FanoutMsg, Fanout);

static _Atomic int64_t child_done, child_bad;

static casty_behavior child(int32_t last);

CASTY_HANDLER(child_receive, int32_t)
{
	int32_t r = CASTY_AS(Round, msg)->round;
	if (r != *state + 1) {
		atomic_fetch_add_explicit(&child_bad, 1, memory_order_relaxed);
	}
	if (r == FANOUT_ROUNDS) {
		atomic_fetch_add_explicit(&child_done, 1, memory_order_relaxed);
	}
	return child(r);
}

static casty_behavior
child(int32_t last)
{
	return casty_receive(child_receive, &last, sizeof last);
}

CASTY_HANDLER(fanout_receive, void)
{
	static ChildMsg_ref kids[FANOUT_CHILDREN];
	for (int i = 0; i < FANOUT_CHILDREN; i++) {
		casty_ctx_spawn(ctx, ChildMsg, child(0), NULL, &kids[i]);
	}
	for (int32_t r = 1; r <= FANOUT_ROUNDS; r++) {
		for (int i = 0; i < FANOUT_CHILDREN; i++) {
			casty_tell(kids[i], Round, r);
		}
	}
	return casty_same();
}

Test(sched_stress, a_handler_telling_many_children_round_robin_keeps_order)
{
	casty_system       *sys;
	casty_system_config cfg;
	FanoutMsg_ref       f;
	casty_system_config_init(&cfg);
	cfg.drain_timeout_ms = 600000;
	atomic_store(&child_done, 0);
	atomic_store(&child_bad, 0);
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	casty_spawn(sys, FanoutMsg, casty_receive(fanout_receive, NULL, 0),
		"fanout", &f);
	casty_tell(f, Fanout, 0);
	casty_system_destroy(sys); // drains first
	cr_assert(eq(i64, atomic_load(&child_bad), 0));
	cr_assert(eq(i64, atomic_load(&child_done), FANOUT_CHILDREN));
}
