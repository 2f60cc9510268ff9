// tests/cluster/test_remote.c: messages between actors of two cluster
// nodes (cluster/remote.c, remote_codec.c, node_directory.c), each node
// its own casty system in this one process, over loopback, b a member
// of a's cluster. A lookup
// finds an actor by its URI (a root, or one below it by its path); tell, ask and reply_to refs work across
// the nodes; one sender's messages arrive all and in order; a ref that
// comes home is local again; messages of unknown types, of another
// version of a type, or whose bytes do not fit their type become dead
// letters with that reason on the receiving node, and the receiver goes
// on; lookups, asks and tells that name a node outside the cluster (an
// earlier run, another host:port or system name) fail at once, the
// tells as dead letters; after a node has stopped, refs through it fail; while the
// connection to a node is not open, max_pending_per_node messages wait
// for it and the rest are dead letters at the sender. Waits are bounded
// by generous deadlines that only turn a hang into a failure.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <msgpuck.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <casty/casty.h>

#include "cluster/node.h"
#include "cluster/node_directory.h"
#include "cluster/remote_codec.h"
#include "runtime/cell.h"
#include "runtime/reactor.h"
#include "runtime/system.h"
#include "runtime/type_registry.h"

#define HOST "127.0.0.1"
#define WAIT_MS 60000
#define ORDERED 20000

// ---- The actors ----

typedef struct {
	int64_t  n;
	uint64_t seq;
} Add;
typedef struct {
	casty_ref reply_to;
} GetStats;
typedef struct {
	int32_t code;
} Halt;
typedef struct {
	int64_t count, sum, disorder;
} Stats;
typedef struct {
	int64_t   n;
	casty_ref reply_to;
} Ping;
typedef struct {
	int64_t   n;
	casty_ref from; // the echo's own ref
	casty_ref back; // a ref the ping carried, returned
} Pong;
typedef struct {
	char text[16];
} Unknown; // never registered, in no protocol
CASTY_MESSAGE(Add, n, seq);
CASTY_MESSAGE(GetStats, reply_to);
CASTY_MESSAGE(Halt, code);
CASTY_MESSAGE(Stats, count, sum, disorder);
CASTY_MESSAGE(Ping, n, reply_to);
CASTY_MESSAGE(Pong, n, from, back);
CASTY_MESSAGE(Unknown, text);

CASTY_PROTOCOL(CounterMsg, Add, GetStats, Halt);
CASTY_PROTOCOL(EchoMsg, Ping);
CASTY_PROTOCOL(CollectorMsg, Pong);
CASTY_PROTOCOL(DeadProbe, casty_dead_letter);

typedef struct {
	int64_t  count, sum, disorder;
	uint64_t last;
} counter_state;

static casty_behavior counter(counter_state s);
static void             counted(int64_t count);

CASTY_HANDLER(counter_receive, counter_state)
{
	counter_state s = *state;
	switch (CounterMsg_tag_of(msg)) {
	case CounterMsg_Add: {
		const Add *a = CASTY_AS(Add, msg);
		s.count++;
		s.sum += a->n;
		s.disorder += a->seq != s.last + 1;
		s.last = a->seq;
		counted(s.count);
		return counter(s);
	}
	case CounterMsg_GetStats:
		casty_send(CASTY_AS(GetStats, msg)->reply_to, Stats, s.count,
			s.sum, s.disorder);
		return casty_same();
	case CounterMsg_Halt:
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
counter(counter_state s)
{
	return casty_receive(counter_receive, &s, sizeof s);
}

CASTY_HANDLER(echo_receive, void)
{
	const Ping *p = CASTY_AS(Ping, msg);
	casty_send(p->reply_to, Pong, p->n, casty_self(ctx), p->reply_to);
	return casty_same();
}

// What the collector and the dead-letter probe saw, under lock.
static pthread_mutex_t   lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t    cond;
static Pong              pongs[8];
static casty_ref         collector_self;
static int               npongs;
static casty_dead_letter dead[8];
static int               ndead;
static int               nadds; // Adds the latest counter has counted

static void
counted(int64_t count)
{
	pthread_mutex_lock(&lock);
	nadds = (int)count;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

CASTY_HANDLER(collector_receive, void)
{
	pthread_mutex_lock(&lock);
	collector_self = casty_self(ctx);
	if (npongs < 8) {
		pongs[npongs++] = *CASTY_AS(Pong, msg);
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

CASTY_HANDLER(dead_receive, void)
{
	pthread_mutex_lock(&lock);
	if (ndead < 8) {
		dead[ndead++] = *CASTY_AS(casty_dead_letter, msg);
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

// Waits until *count reaches n (read under lock).
static bool
wait_count(const int *count, int n)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	int rc = 0;
	while (*count < n && rc != ETIMEDOUT) {
		rc = pthread_cond_timedwait(&cond, &lock, &deadline);
	}
	bool ok = *count >= n;
	pthread_mutex_unlock(&lock);
	return ok;
}

// ---- Two nodes ----

typedef struct node {
	casty_system  *sys;
	casty_cluster *cluster;
	uint16_t       port;
} node;

static node a, b;

// max_pending: the node's max_pending_per_node; 0: the default. seed:
// the node whose cluster n joins, returning once both are up; NULL: n
// founds one.
static void
start(node *n, uint32_t max_pending, const node *seed)
{
	casty_system_config sc;
	casty_system_config_init(&sc);
	sc.name = "remote-test";
	int rc = casty_system_create(&sc, &n->sys);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	strcpy(o.host, HOST);
	o.secret = "s3cret";
	o.secret_len = 6;
	if (max_pending != 0) {
		o.max_pending_per_node = max_pending;
	}
	o.gossip.interval = 0.1; // a quicker join
	casty_node_address seed_addr;
	if (seed != NULL) {
		memset(&seed_addr, 0, sizeof seed_addr);
		strcpy(seed_addr.host, HOST);
		seed_addr.port = seed->port;
		o.seed_nodes = &seed_addr;
		o.nseed_nodes = 1;
		o.required_quorum = 2;
		o.quorum_timeout_ms = WAIT_MS;
	}
	cr_assert(eq(int, casty_cluster_start(n->sys, &o, &n->cluster), 0));
	n->port = casty_cluster_port(n->cluster);
}

static void
stop(node *n)
{
	casty_cluster_stop(n->cluster);
	n->cluster = NULL;
	if (n->sys != NULL) {
		casty_system_destroy(n->sys);
		n->sys = NULL;
	}
}

static void
setup(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	casty_log_set_level(CASTY_LOG_ERROR);
	start(&a, 0, NULL);
	start(&b, 0, &a);
}

static void
teardown(void)
{
	stop(&a);
	stop(&b);
	casty_log_set_level(CASTY_LOG_INFO);
}

TestSuite(remote, .init = setup, .fini = teardown, .timeout = 180);

static void
uri_of(const node *n, const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "casty://remote-test@%s:%u/%s", HOST, n->port, name);
}

// Spawns a counter on b and looks it up from a.
static CounterMsg_ref
remote_counter(void)
{
	CounterMsg_ref local, remote;
	cr_assert(eq(int,
		casty_spawn(b.sys, CounterMsg, counter((counter_state){0}),
			"counter", &local),
		0));
	char uri[128];
	uri_of(&b, "counter", uri, sizeof uri);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS,
				  &remote.ref),
		0));
	cr_assert(ne(u32, remote.ref.node, 0)); // a remote ref
	return remote;
}

static Stats
stats_of(CounterMsg_ref counter_ref)
{
	casty_msg *reply;
	cr_assert(eq(int,
		casty_ask(a.sys, counter_ref, GetStats, reply_to, WAIT_MS,
			&reply),
		0));
	const Stats *st = CASTY_AS(Stats, reply);
	cr_assert(not(eq(ptr, (void *)st, NULL)));
	Stats out = *st;
	casty_msg_free(reply);
	return out;
}

Test(remote, tell_and_ask_reach_an_actor_found_by_its_uri)
{
	casty_register(Stats); // the reply type, which a's actors do not speak
	CounterMsg_ref c = remote_counter();
	for (int i = 1; i <= 10; i++) {
		cr_assert(eq(int, casty_tell(c, Add, i, (uint64_t)i), 0));
	}
	Stats st = stats_of(c);
	cr_assert(eq(i64, st.count, 10));
	cr_assert(eq(i64, st.sum, 55));
	cr_assert(eq(i64, st.disorder, 0));
}

Test(remote, one_senders_messages_all_arrive_in_order)
{
	casty_register(Stats);
	CounterMsg_ref c = remote_counter();
	int64_t        sum = 0;
	for (int i = 1; i <= ORDERED; i++) {
		cr_assert(eq(int, casty_tell(c, Add, i, (uint64_t)i), 0));
		sum += i;
	}
	Stats st = stats_of(c);
	cr_assert(eq(i64, st.count, ORDERED));
	cr_assert(eq(i64, st.sum, sum));
	cr_assert(eq(i64, st.disorder, 0));
}

Test(remote, reply_to_refs_work_both_ways_and_come_home_local)
{
	EchoMsg_ref echo_local, echo;
	cr_assert(eq(int,
		casty_spawn(b.sys, EchoMsg, casty_receive(echo_receive, NULL, 0),
			"echo", &echo_local),
		0));
	CollectorMsg_ref collector;
	cr_assert(eq(int,
		casty_spawn(a.sys, CollectorMsg,
			casty_receive(collector_receive, NULL, 0), "collector",
			&collector),
		0));
	char uri[128];
	uri_of(&b, "echo", uri, sizeof uri);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS,
				  &echo.ref),
		0));
	// a's collector is the reply_to; the echo answers it on node a.
	cr_assert(eq(int, casty_tell(echo, Ping, 7, collector.ref), 0));
	cr_assert(wait_count(&npongs, 1));
	pthread_mutex_lock(&lock);
	Pong p = pongs[0];
	casty_ref self = collector_self;
	pthread_mutex_unlock(&lock);
	cr_assert(eq(i64, p.n, 7));
	// The echo's ref, made on b, names b's actor from a: equal to the
	// one the lookup gave.
	cr_assert(casty_ref_eq(p.from, echo.ref));
	// The collector's ref went to b and back: local again, and itself.
	cr_assert(eq(u32, p.back.node, 0));
	cr_assert(casty_ref_eq(p.back, self));
	cr_assert(casty_ref_eq(p.back, collector.ref));
}

// The result of looking up name on node n through c.
static int
lookup_rc(casty_cluster *c, const node *n, const char *name)
{
	char      uri[128];
	casty_ref r;
	uri_of(n, name, uri, sizeof uri);
	return casty_cluster_lookup(c, uri, WAIT_MS, &r);
}

Test(remote, lookups_of_what_is_not_there_fail_cleanly)
{
	casty_ref r;
	char      uri[128];
	cr_assert(eq(int, lookup_rc(a.cluster, &b, "nobody"), -ENOENT));
	cr_assert(eq(int, lookup_rc(a.cluster, &b, "nobody/child"), -ENOENT));
	cr_assert(eq(int, lookup_rc(a.cluster, &b, "counter/"), -EINVAL));
	cr_assert(eq(int, lookup_rc(a.cluster, &b, "x//y"), -EINVAL));
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, "http://x/y", 1, &r),
		-EINVAL));
	// Addresses of no member fail at once, without a round trip (the
	// timeout would say nothing).
	snprintf(uri, sizeof uri, "casty://other-system@%s:%u/counter", HOST,
		b.port);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS, &r),
		CASTY_ENOTMEMBER));
	// An earlier run of node b, and of node a itself.
	snprintf(uri, sizeof uri, "casty://remote-test@%s:%u#1/x", HOST,
		b.port);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS, &r),
		CASTY_ENOTMEMBER));
	snprintf(uri, sizeof uri, "casty://remote-test@%s:%u#1/x", HOST,
		a.port);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS, &r),
		CASTY_ENOTMEMBER));
	// A host:port where no member listens.
	snprintf(uri, sizeof uri, "casty://remote-test@127.0.0.9:%u/x",
		b.port);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS, &r),
		CASTY_ENOTMEMBER));
	// The system name of the cluster at this node's own host:port.
	snprintf(uri, sizeof uri, "casty://other-system@%s:%u/mine", HOST,
		a.port);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, WAIT_MS, &r),
		CASTY_ENOTMEMBER));
	// Its own node: a local ref.
	CounterMsg_ref local;
	cr_assert(eq(int,
		casty_spawn(a.sys, CounterMsg, counter((counter_state){0}),
			"mine", &local),
		0));
	uri_of(&a, "mine", uri, sizeof uri);
	cr_assert(eq(int, casty_cluster_lookup(a.cluster, uri, 1, &r), 0));
	cr_assert(casty_ref_eq(r, local.ref));
}

static void
subscribe_dead_letters(casty_system *sys)
{
	DeadProbe_ref probe;
	cr_assert(eq(int,
		casty_spawn(sys, DeadProbe, casty_receive(dead_receive, NULL, 0),
			"dead-probe", &probe),
		0));
	cr_assert(eq(int, casty_subscribe(sys, probe, casty_dead_letter), 0));
}

Test(remote, an_unknown_type_is_a_dead_letter_and_the_actor_goes_on)
{
	casty_register(Stats);
	subscribe_dead_letters(b.sys);
	CounterMsg_ref c = remote_counter();
	cr_assert(eq(int, casty_send(c.ref, Unknown, "hello"), 0));
	cr_assert(wait_count(&ndead, 1));
	pthread_mutex_lock(&lock);
	casty_dead_letter d = dead[0];
	pthread_mutex_unlock(&lock);
	cr_assert(eq(i32, d.reason, CASTY_DEAD_UNKNOWN_TYPE));
	cr_assert(eq(str, d.message_type, "Unknown"));
	cr_assert(eq(int, casty_tell(c, Add, 5, 1), 0));
	cr_assert(eq(i64, stats_of(c).sum, 5));
}

// Another version of Add: the same name, another field.
static const casty_field add_v2_fields[] = {
	{"n", CASTY_FIELD_INT, 8, 0}, {"note", CASTY_FIELD_INT, 8, 8}};
static const casty_msg_type add_v2 = {"Add", 16, 8, 2, 0, add_v2_fields};

Test(remote, another_version_of_a_type_is_a_dead_letter)
{
	subscribe_dead_letters(b.sys);
	casty_register(Stats);
	CounterMsg_ref c = remote_counter();
	int64_t        v2[2] = {100, 1};
	cr_assert(eq(int, casty_tell_msg(c.ref, &add_v2, CASTY_TAG_UNKNOWN, v2),
		0));
	cr_assert(wait_count(&ndead, 1));
	pthread_mutex_lock(&lock);
	casty_dead_letter d = dead[0];
	pthread_mutex_unlock(&lock);
	cr_assert(eq(i32, d.reason, CASTY_DEAD_UNKNOWN_TYPE));
	cr_assert(eq(str, d.message_type, "Add"));
	cr_assert(not(eq(ptr, strstr(d.message, "another version"), NULL)));
	cr_assert(eq(i64, stats_of(c).count, 0));
}

Test(remote, asks_and_tells_to_nodes_outside_the_cluster_fail_at_once)
{
	subscribe_dead_letters(a.sys);
	casty_register(Stats);
	CounterMsg_ref real = remote_counter();
	// Refs as a message from anywhere could carry them: the counter's
	// cell on an earlier run of b, on a host:port where no member
	// listens, and in a system of another name at b's address.
	cst_address strangers[3];
	for (int i = 0; i < 3; i++) {
		strangers[i] = b.cluster->self;
	}
	strangers[0].uid = 1;
	strcpy(strangers[1].host, "127.0.0.9");
	strcpy(strangers[2].system, "other-system");
	CounterMsg_ref refs[3];
	for (int i = 0; i < 3; i++) {
		uint32_t node = cst_node_dir_intern(a.cluster, &strangers[i]);
		cr_assert(ne(u32, node, 0));
		refs[i].ref = (casty_ref){real.ref.cell, real.ref.gen, node};
		casty_msg *reply = NULL;
		cr_assert(eq(int,
			casty_ask(a.sys, refs[i], GetStats, reply_to, WAIT_MS,
				&reply),
			CASTY_ENOTMEMBER));
		cr_assert(eq(ptr, reply, NULL));
		cr_assert(eq(int, casty_tell(refs[i], Add, 1, (uint64_t)i), 0));
	}
	cr_assert(wait_count(&ndead, 3));
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(i32, dead[i].reason, CASTY_DEAD_NOT_MEMBER));
		cr_assert(eq(str, dead[i].message_type, "Add"));
		cr_assert(casty_ref_eq(dead[i].recipient, refs[i].ref));
	}
	pthread_mutex_unlock(&lock);
	casty_system_stats st;
	casty_system_stats_get(a.sys, &st);
	cr_assert(ge(u64, st.dead_letters, 3));
	// None of it reached the counter, which b's member ref still reaches.
	cr_assert(eq(i64, stats_of(real).count, 0));
	// The reason and the code have names of their own.
	cr_assert(ne(int, strcmp(casty_dead_letter_reason_name(
				  CASTY_DEAD_NOT_MEMBER), "unknown"), 0));
	cr_assert(ne(int, strcmp(casty_strerror(CASTY_ENOTMEMBER),
				  "unknown error"), 0));
}

// Sends a hand-made message frame body from a to b's counter.
static void
send_raw(casty_ref remote, const char *record, size_t len)
{
	char  body[512];
	char *w = mp_encode_array(body, 4);
	w = mp_encode_uint(w, b.cluster->self.uid);
	w = mp_encode_uint(w, (uint64_t)(uintptr_t)remote.cell);
	w = mp_encode_uint(w, remote.gen);
	memcpy(w, record, len);
	w += len;
	cr_assert(eq(int,
		cst_transport_send(a.cluster->transport, HOST, b.port,
			CST_KIND_MESSAGE, body, (size_t)(w - body)),
		0));
}

Test(remote, bytes_that_do_not_fit_the_type_are_a_dead_letter)
{
	subscribe_dead_letters(b.sys);
	casty_register(Stats);
	CounterMsg_ref c = remote_counter();
	// Add with n as a string.
	char  rec[128];
	char *w = mp_encode_array(rec, 4);
	w = mp_encode_uint(w, 1);
	w = mp_encode_str(w, "Add", 3);
	w = mp_encode_uint(w, cst_type_schema_hash(&Add__type));
	w = mp_encode_map(w, 2);
	w = mp_encode_str(w, "n", 1);
	w = mp_encode_str(w, "five", 4);
	w = mp_encode_str(w, "seq", 3);
	w = mp_encode_uint(w, 1);
	send_raw(c.ref, rec, (size_t)(w - rec));
	// GetStats whose reply_to names a cell id b never issued.
	w = mp_encode_array(rec, 4);
	w = mp_encode_uint(w, 1);
	w = mp_encode_str(w, "GetStats", 8);
	w = mp_encode_uint(w, cst_type_schema_hash(&GetStats__type));
	w = mp_encode_map(w, 1);
	w = mp_encode_str(w, "reply_to", 8);
	w = mp_encode_array(w, 3);
	w = mp_encode_str(w, b.cluster->self_text, strlen(b.cluster->self_text));
	w = mp_encode_uint(w, UINT64_C(1) << 50);
	w = mp_encode_uint(w, 1);
	send_raw(c.ref, rec, (size_t)(w - rec));
	// Not MessagePack at all.
	send_raw(c.ref, "\xc1\xc1", 2);
	cr_assert(wait_count(&ndead, 3));
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(i32, dead[i].reason, CASTY_DEAD_INVALID));
	}
	pthread_mutex_unlock(&lock);
	// The connection and the actor are fine.
	cr_assert(eq(int, casty_tell(c, Add, 9, 1), 0));
	Stats st = stats_of(c);
	cr_assert(eq(i64, st.count, 1));
	cr_assert(eq(i64, st.sum, 9));
}

Test(remote, a_stopped_remote_actor_gets_dead_letters_not_messages)
{
	subscribe_dead_letters(b.sys);
	casty_register(Stats);
	CounterMsg_ref c = remote_counter();
	CounterMsg_ref local;
	cr_assert(eq(int, casty_cluster_lookup(b.cluster, "", 1, &local.ref),
		-EINVAL));
	char uri[128];
	uri_of(&b, "counter", uri, sizeof uri);
	cr_assert(eq(int,
		casty_cluster_lookup(b.cluster, uri, 1, &local.ref), 0));
	cr_assert(eq(int, casty_tell(local, Halt, 0), 0));
	cr_assert(eq(int, casty_tell(c, Add, 1, 1), 0));
	cr_assert(wait_count(&ndead, 1));
	pthread_mutex_lock(&lock);
	casty_dead_letter d = dead[0];
	pthread_mutex_unlock(&lock);
	cr_assert(eq(i32, d.reason, CASTY_DEAD_STOPPED));
	cr_assert(eq(str, d.message_type, "Add"));
}

Test(remote, refs_through_a_stopped_node_fail)
{
	CounterMsg_ref c = remote_counter();
	casty_cluster_stop(a.cluster);
	a.cluster = NULL;
	cr_assert(eq(int, casty_tell(c, Add, 1, 1), CASTY_ESTOPPED));
	casty_msg *reply;
	cr_assert(eq(int,
		casty_ask(a.sys, c, GetStats, reply_to, 1000, &reply),
		CASTY_ESTOPPED));
}

// /parent spawns /parent/worker, which spawns /parent/worker/child.
CASTY_SETUP(worker_setup, void)
{
	CounterMsg_ref child;
	casty_ctx_spawn(ctx, CounterMsg, counter((counter_state){0}), "child",
		&child);
	return counter((counter_state){0});
}

CASTY_SETUP(parent_setup, void)
{
	CounterMsg_ref worker;
	casty_ctx_spawn(ctx, CounterMsg, casty_setup(worker_setup, NULL, 0),
		"worker", &worker);
	return counter((counter_state){0});
}

Test(remote, actors_below_the_roots_are_found_by_their_path)
{
	casty_register(Stats);
	CounterMsg_ref parent;
	cr_assert(eq(int,
		casty_spawn(b.sys, CounterMsg, casty_setup(parent_setup, NULL, 0),
			"parent", &parent),
		0));
	char           uri[128];
	CounterMsg_ref deep, local;
	uri_of(&b, "parent/worker/child", uri, sizeof uri);
	cr_assert(eq(int,
		casty_cluster_lookup(a.cluster, uri, WAIT_MS, &deep.ref), 0));
	cr_assert(ne(u32, deep.ref.node, 0));
	cr_assert(eq(int, casty_tell(deep, Add, 3, 1), 0));
	Stats st = stats_of(deep);
	cr_assert(eq(i64, st.sum, 3));
	// The same path looked up on its own node is the same actor.
	cr_assert(eq(int,
		casty_cluster_lookup(b.cluster, uri, WAIT_MS, &local.ref), 0));
	cr_assert(eq(u32, local.ref.node, 0));
	cr_assert(eq(u64, (uint64_t)(uintptr_t)deep.ref.cell,
		cst_cell_id(local.ref.cell)));
	cr_assert(eq(u32, deep.ref.gen, local.ref.gen));
	cr_assert(eq(int, lookup_rc(a.cluster, &b, "parent/worker/nobody"),
		-ENOENT));
	cr_assert(eq(int, lookup_rc(b.cluster, &b, "parent/worker/nobody"),
		-ENOENT));
	cr_assert(eq(int,
		lookup_rc(a.cluster, &b, "parent/worker/child/deeper"), -ENOENT));
}

// A handler that tries a lookup: refused, not blocked.
static int lookup_in_handler_rc = 1;

CASTY_HANDLER(looker_receive, void)
{
	casty_ref r;
	int       rc = casty_cluster_lookup(b.cluster,
		      "casty://remote-test@127.0.0.1:1/x", 1000, &r);
	pthread_mutex_lock(&lock);
	lookup_in_handler_rc = rc;
	npongs++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return casty_same();
}

Test(remote, a_lookup_from_a_handler_is_refused)
{
	CollectorMsg_ref looker;
	cr_assert(eq(int,
		casty_spawn(b.sys, CollectorMsg,
			casty_receive(looker_receive, NULL, 0), "looker", &looker),
		0));
	cr_assert(eq(int, casty_tell(looker, Pong, 1, CASTY_REF_NONE,
				  CASTY_REF_NONE),
		0));
	cr_assert(wait_count(&npongs, 1));
	pthread_mutex_lock(&lock);
	cr_assert(eq(int, lookup_in_handler_rc, -EDEADLK));
	pthread_mutex_unlock(&lock);
}

// ---- A node that is not connected ----

// Holds the reactor of a system still, as a process stopped by SIGSTOP
// would be: its sockets accept connections (the kernel does that), but
// nothing is read or answered until thaw.
typedef struct freezer {
	cst_reactor_req req;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            frozen, thawed;
} freezer;

static void
run_freeze(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	freezer *f = (freezer *)req;
	pthread_mutex_lock(&f->lock);
	f->frozen = true;
	pthread_cond_broadcast(&f->cond);
	while (!f->thawed) {
		pthread_cond_wait(&f->cond, &f->lock);
	}
	pthread_mutex_unlock(&f->lock);
}

static void
freeze(freezer *f, casty_system *sys)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->req.run = run_freeze;
	cst_reactor_submit(sys->reactor, &f->req);
	pthread_mutex_lock(&f->lock);
	while (!f->frozen) {
		pthread_cond_wait(&f->cond, &f->lock); // the reactor is alive
	}
	pthread_mutex_unlock(&f->lock);
}

static void
thaw(freezer *f)
{
	pthread_mutex_lock(&f->lock);
	f->thawed = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

Test(remote, messages_beyond_the_pending_bound_are_dead_letters_until_connected)
{
	enum { PENDING = 5, EXTRA = 4 };
	stop(&b); // again, a with a small bound
	stop(&a);
	start(&a, PENDING, NULL);
	start(&b, 0, &a);
	casty_register(Stats);
	subscribe_dead_letters(a.sys);
	CounterMsg_ref c = remote_counter();

	// b stands still, and a's connection to it is cut (as the cluster
	// does to a removed node): a's sends dial b again, and the
	// connection stays in its handshake until b moves.
	freezer f;
	freeze(&f, b.sys);
	cr_assert(eq(int, cst_transport_forget(a.cluster->transport, HOST,
				  b.port, b.cluster->self.uid), 0));
	for (int i = 1; i <= PENDING + EXTRA; i++) {
		cr_assert(eq(int, casty_tell(c, Add, i, (uint64_t)i), 0));
	}
	// The extra ones are dead letters on a, in order, naming the ref
	// they were sent to.
	cr_assert(wait_count(&ndead, EXTRA));
	pthread_mutex_lock(&lock);
	for (int k = 0; k < EXTRA; k++) {
		char seq[16];
		snprintf(seq, sizeof seq, "seq=%d", PENDING + 1 + k);
		cr_assert(eq(i32, dead[k].reason, CASTY_DEAD_DROP_NEW));
		cr_assert(eq(str, dead[k].message_type, "Add"));
		cr_assert(strstr(dead[k].message, seq) != NULL, "%s",
			dead[k].message);
		cr_assert(casty_ref_eq(dead[k].recipient, c.ref));
	}
	pthread_mutex_unlock(&lock);

	// Once b moves, the connection opens and the held ones arrive, in
	// order; the dropped ones never do (the ask goes after them all).
	thaw(&f);
	cr_assert(wait_count(&nadds, PENDING));
	Stats st = stats_of(c);
	cr_assert(eq(i64, st.count, PENDING));
	cr_assert(eq(i64, st.sum, PENDING * (PENDING + 1) / 2));
	cr_assert(eq(i64, st.disorder, 0));
	pthread_mutex_lock(&lock);
	cr_assert(eq(int, ndead, EXTRA));
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&f.cond);
	pthread_mutex_destroy(&f.lock);
}
