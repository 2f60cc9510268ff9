// tests/runtime/test_sched.c: the scheduler end to end: 10,000 actors x
// 100 messages each, from outside threads (injection queue) and from
// actors (LIFO slot, deques, stealing), each delivered exactly once with
// per-sender order kept.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <sched.h>
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

// Sender help (sched.c): a long handler that has pushed a full chain to
// an actor nobody is running, or has sent another CST_HELP_PERIOD
// messages, may run a batch of it on its own thread.
// Consumers count the messages they handle on a producer's thread (the
// producer marks its thread while it sends), detect two threads inside
// one consumer at once, and check per-producer order.
#define HELP_PRODUCERS 6
#define HELP_CONSUMERS 2
#define HELP_MAX_CONSUMERS 8
#define HELP_PER       30000 // per producer and consumer

TestSuite(sender_help, .timeout = 240);

typedef struct {
	int32_t producer;
	int32_t seq;
} Item;
typedef struct {
	int32_t unused;
} Hold;
CASTY_MESSAGE(Item, producer, seq);
CASTY_MESSAGE(Hold, unused);
CASTY_PROTOCOL(ConsumerMsg, Item);
CASTY_PROTOCOL(ProducerMsg, Item);
CASTY_PROTOCOL(BlockerMsg, Hold);

static _Thread_local bool in_producer;
static _Atomic int64_t help_delivered, help_bad, help_on_producer;
static _Atomic int32_t help_inside[HELP_MAX_CONSUMERS];

typedef struct {
	int32_t id;
	int32_t last[HELP_PRODUCERS];
} consumer_state;

static casty_behavior consumer(consumer_state s);

CASTY_HANDLER(consumer_receive, consumer_state)
{
	consumer_state s = *state;
	const Item    *m = CASTY_AS(Item, msg);
	// Two threads in one actor at once would both be inside here.
	if (atomic_fetch_add(&help_inside[s.id], 1) != 0) {
		atomic_fetch_add(&help_bad, 1);
	}
	if (m->producer < 0 || m->producer >= HELP_PRODUCERS ||
	    m->seq != s.last[m->producer] + 1) {
		atomic_fetch_add(&help_bad, 1);
	} else {
		s.last[m->producer] = m->seq;
	}
	if (in_producer) {
		atomic_fetch_add(&help_on_producer, 1);
	}
	atomic_fetch_add(&help_delivered, 1);
	atomic_fetch_sub(&help_inside[s.id], 1);
	return consumer(s);
}

static casty_behavior
consumer(consumer_state s)
{
	return casty_receive(consumer_receive, &s, sizeof s);
}

typedef struct {
	int32_t         id;
	int32_t         nconsumers;
	int32_t         per; // messages to each consumer
	ConsumerMsg_ref to[HELP_MAX_CONSUMERS];
} producer_arg;

// Sends its whole sequence from its setup, in one run, as fanin's do.
CASTY_SETUP(producer_setup, producer_arg)
{
	in_producer = true;
	for (int32_t seq = 1; seq <= state->per; seq++) {
		for (int32_t c = 0; c < state->nconsumers; c++) {
			casty_tell(state->to[c], Item, state->id, seq);
		}
	}
	in_producer = false;
	return casty_stopped();
}

static void
help_reset(void)
{
	atomic_store(&help_delivered, 0);
	atomic_store(&help_bad, 0);
	atomic_store(&help_on_producer, 0);
}

static casty_system *
help_system(unsigned workers, bool no_sender_help)
{
	casty_system       *sys;
	casty_system_config cfg;
	casty_system_config_init(&cfg);
	cfg.workers = workers;
	cfg.no_sender_help = no_sender_help;
	cfg.drain_timeout_ms = 600000;
	cr_assert(eq(int, casty_system_create(&cfg, &sys), CASTY_OK));
	return sys;
}

static void
spawn_producer(casty_system *sys, int32_t id, const ConsumerMsg_ref *to,
	int32_t n, int32_t per)
{
	producer_arg  a = {.id = id, .nconsumers = n, .per = per};
	ProducerMsg_ref p;
	for (int32_t c = 0; c < n; c++) {
		a.to[c] = to[c];
	}
	cr_assert(eq(int, casty_spawn(sys, ProducerMsg,
				  casty_setup(producer_setup, &a, sizeof a),
				  NULL, &p),
		CASTY_OK));
}

Test(sender_help, producers_outnumbering_workers_deliver_once_in_order)
{
	casty_system   *sys = help_system(0, false);
	ConsumerMsg_ref c[HELP_CONSUMERS];
	help_reset();
	for (int32_t i = 0; i < HELP_CONSUMERS; i++) {
		cr_assert(eq(int, casty_spawn(sys, ConsumerMsg,
					  consumer((consumer_state){.id = i}),
					  NULL, &c[i]),
			CASTY_OK));
	}
	for (int32_t p = 0; p < HELP_PRODUCERS; p++) {
		spawn_producer(sys, p, c, HELP_CONSUMERS, HELP_PER);
	}
	casty_system_destroy(sys); // drains first
	cr_assert(eq(i64, atomic_load(&help_bad), 0));
	cr_assert(eq(i64, atomic_load(&help_delivered),
		(int64_t)HELP_PRODUCERS * HELP_CONSUMERS * HELP_PER));
}

// Two workers: one held in a handler until the test lets it go, the
// other running one producer. Every worker is busy, so the producer's
// sends to the idle consumers are handled on its own thread, unless the
// system was made without sender help.
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  hold_cond = PTHREAD_COND_INITIALIZER;
static bool            holding, hold_released;

CASTY_HANDLER(blocker_receive, void)
{
	pthread_mutex_lock(&hold_lock);
	holding = true;
	pthread_cond_broadcast(&hold_cond);
	while (!hold_released) {
		pthread_cond_wait(&hold_cond, &hold_lock);
	}
	pthread_mutex_unlock(&hold_lock);
	return casty_same();
}

// Returns how many of the n * per messages were handled on the
// producer's thread.
static int64_t
run_one_producer_beside_a_held_worker(
	bool no_sender_help, int32_t n, int32_t per)
{
	casty_system   *sys = help_system(2, no_sender_help);
	BlockerMsg_ref  b;
	ConsumerMsg_ref c[HELP_MAX_CONSUMERS];
	help_reset();
	holding = hold_released = false;
	cr_assert(eq(int, casty_spawn(sys, BlockerMsg,
				  casty_receive(blocker_receive, NULL, 0), NULL,
				  &b),
		CASTY_OK));
	casty_tell(b, Hold, 0);
	pthread_mutex_lock(&hold_lock);
	while (!holding) {
		pthread_cond_wait(&hold_cond, &hold_lock);
	}
	pthread_mutex_unlock(&hold_lock);
	for (int32_t i = 0; i < n; i++) {
		cr_assert(eq(int, casty_spawn(sys, ConsumerMsg,
					  consumer((consumer_state){.id = i}),
					  NULL, &c[i]),
			CASTY_OK));
	}
	spawn_producer(sys, 0, c, n, per);
	// The consumers get every message whoever runs them; wait for that,
	// with the blocker still holding its worker.
	while (atomic_load(&help_delivered) < (int64_t)n * per) {
		sched_yield();
	}
	pthread_mutex_lock(&hold_lock);
	hold_released = true;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
	casty_system_destroy(sys);
	cr_assert(eq(i64, atomic_load(&help_bad), 0));
	cr_assert(eq(i64, atomic_load(&help_delivered), (int64_t)n * per));
	return atomic_load(&help_on_producer);
}

Test(sender_help, a_producer_runs_its_consumer_while_every_worker_is_busy)
{
	int64_t on_producer =
		run_one_producer_beside_a_held_worker(false, 1, HELP_PER);
	cr_assert(lt(i64, 0, on_producer));
	cr_assert(lt(i64, on_producer, HELP_PER));
}

// Eight consumers of 60 messages, sent round-robin: 480 sends, of which
// no consumer gets the 64 that fill a chain, so the one offer at send
// 256 (CST_HELP_PERIOD) is what makes the producer help.
Test(sender_help, a_producer_feeding_many_consumers_helps_between_full_chains)
{
	int64_t on_producer =
		run_one_producer_beside_a_held_worker(false, 8, 60);
	cr_assert(lt(i64, 0, on_producer));
}

Test(sender_help, no_sender_help_keeps_consumers_off_producer_threads)
{
	cr_assert(eq(i64,
		run_one_producer_beside_a_held_worker(true, 1, HELP_PER), 0));
	cr_assert(eq(i64, run_one_producer_beside_a_held_worker(true, 8, 60),
		0));
}
