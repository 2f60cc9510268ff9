// tests/cluster/test_transport.c: the transport (cluster/transport.c)
// over loopback, two transports in one process, each on its own casty
// system: handshake, 10,000 frames each way exactly once and in order,
// simultaneous dials that end with one connection, large frames, bad
// peers (garbage, oversized frames, reserved kinds, frames the layer
// above refuses, wrong secret, wrong cluster) closed without disturbing
// the good connection, the bound on frames held for a peer that is not
// connected, and destroy with work in flight (the ASan build checks that
// everything is freed).
// Every wait is on a condition variable, bounded by a deadline that only
// turns a hang into a failure.
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <casty/casty.h>

#include "cluster/transport.h"

TestSuite(transport, .timeout = 120);

#define HOST "127.0.0.1"
#define KIND_DATA 20
#define KIND_REFUSED 21 // the frame callback refuses it
#define WAIT_SECONDS 60
#define MAX_DROPPED 16

typedef struct node {
	casty_system   *sys;
	cst_transport  *t;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	// Under lock, written by the callbacks (reactor thread).
	unsigned connected, disconnected, rejected;
	int      last_why, last_detail;
	uint64_t received, next_seq, misordered, bytes;
	uint64_t peer_incarnation;
	uint64_t dropped, dropped_seq[MAX_DROPPED]; // the dropped callback
} node;

static void
on_connected(void *arg, const cst_peer_addr *peer, uint64_t inc)
{
	node *n = arg;
	(void)peer;
	pthread_mutex_lock(&n->lock);
	n->connected++;
	n->peer_incarnation = inc;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static const char *
on_frame(void *arg, const cst_peer_addr *peer, uint64_t inc, uint8_t kind,
	const uint8_t *body, size_t len)
{
	node *n = arg;
	(void)peer;
	(void)inc;
	if (kind == KIND_REFUSED) {
		return "refused by the test";
	}
	pthread_mutex_lock(&n->lock);
	if (kind == KIND_DATA && len >= sizeof(uint64_t)) {
		uint64_t seq;
		memcpy(&seq, body, sizeof seq);
		if (seq != n->next_seq) {
			n->misordered++;
		}
		n->next_seq = seq + 1;
		// A large frame carries its seq in every 8 bytes.
		for (size_t i = 0; i + 8 <= len; i += 4096) {
			uint64_t v;
			memcpy(&v, body + i, 8);
			n->misordered += v != seq;
		}
	}
	n->received++;
	n->bytes += len;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

static void
on_dropped(void *arg, const cst_peer_addr *peer, uint8_t kind,
	const uint8_t *body, size_t len)
{
	node *n = arg;
	(void)peer;
	cr_assert(eq(u8, kind, KIND_DATA));
	cr_assert(eq(sz, len, sizeof(uint64_t)));
	pthread_mutex_lock(&n->lock);
	if (n->dropped < MAX_DROPPED) {
		memcpy(&n->dropped_seq[n->dropped], body, sizeof(uint64_t));
	}
	n->dropped++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static void
on_disconnected(void *arg, const cst_peer_addr *peer, uint64_t inc)
{
	node *n = arg;
	(void)peer;
	(void)inc;
	pthread_mutex_lock(&n->lock);
	n->disconnected++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static void
on_rejected(void *arg, const char *remote, enum cst_transport_why why,
	int detail)
{
	node *n = arg;
	(void)remote;
	pthread_mutex_lock(&n->lock);
	n->rejected++;
	n->last_why = (int)why;
	n->last_detail = detail;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

typedef struct node_opts {
	const char *cluster;
	const char *secret;
	uint32_t    max_frame;
	uint32_t    max_pending;
	uint16_t    port;
} node_opts;

static void
node_start(node *n, uint64_t incarnation, node_opts o)
{
	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	int rc = casty_system_create(NULL, &n->sys);
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, 0));
	cst_transport_config cfg = {
		.cluster = o.cluster != NULL ? o.cluster : "test",
		.host = HOST,
		.port = o.port,
		.incarnation = incarnation,
		.secret = o.secret,
		.secret_len = o.secret != NULL ? strlen(o.secret) : 0,
		.max_frame = o.max_frame,
		.max_pending = o.max_pending,
		.backoff_min_ms = 5,
		.backoff_max_ms = 50,
		.cb = {.connected = on_connected,
			.frame = on_frame,
			.disconnected = on_disconnected,
			.rejected = on_rejected,
			.dropped = on_dropped,
			.arg = n},
	};
	cr_assert(eq(int, cst_transport_create(n->sys, &cfg, &n->t), 0));
	cr_assert(ne(u16, cst_transport_port(n->t), 0));
}

static void
node_stop(node *n)
{
	cst_transport_destroy(n->t);
	casty_system_destroy(n->sys);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
}

static uint16_t
port_of(node *n)
{
	return cst_transport_port(n->t);
}

// Waits until *field (read under n->lock) reaches at least want.
static uint64_t
wait_at_least(node *n, const void *field, size_t size, uint64_t want)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_SECONDS;
	uint64_t got = 0;
	pthread_mutex_lock(&n->lock);
	for (;;) {
		got = size == sizeof(unsigned) ? *(const unsigned *)field
					       : *(const uint64_t *)field;
		if (got >= want ||
		    pthread_cond_timedwait(&n->cond, &n->lock, &deadline) ==
			    ETIMEDOUT) {
			break;
		}
	}
	got = size == sizeof(unsigned) ? *(const unsigned *)field
				       : *(const uint64_t *)field;
	pthread_mutex_unlock(&n->lock);
	cr_assert(ge(u64, got, want), "waited for %lu, have %lu",
		(unsigned long)want, (unsigned long)got);
	return got;
}
#define WAIT_FOR(n, field, want)                                              \
	wait_at_least((n), &(n)->field, sizeof((n)->field), (want))

static uint64_t
read_field(node *n, const void *field, size_t size)
{
	pthread_mutex_lock(&n->lock);
	uint64_t v = size == sizeof(unsigned) ? *(const unsigned *)field
					       : *(const uint64_t *)field;
	pthread_mutex_unlock(&n->lock);
	return v;
}
#define READ(n, field) read_field((n), &(n)->field, sizeof((n)->field))

static void
send_seq_port(node *from, uint16_t port, uint64_t first, uint64_t count)
{
	for (uint64_t s = first; s < first + count; s++) {
		cr_assert(eq(int, cst_transport_send(from->t, HOST, port,
					  KIND_DATA, &s, sizeof s), 0));
	}
}

static void
send_seq(node *from, node *to, uint64_t first, uint64_t count)
{
	send_seq_port(from, port_of(to), first, count);
}

static void
send_bounded(node *from, uint16_t port, uint64_t first, uint64_t count)
{
	for (uint64_t s = first; s < first + count; s++) {
		cr_assert(eq(int, cst_transport_send_bounded(from->t, HOST,
					  port, KIND_DATA, &s, sizeof s), 0));
	}
}

Test(transport, a_listener_on_port_0_reports_the_port_it_got)
{
	node a;
	node_start(&a, 1, (node_opts){0});
	uint16_t port = port_of(&a);
	cr_assert(ne(u16, port, 0));
	// The port is really ours: a second bind to it fails.
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
		.sin_port = htons(port)};
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	cr_assert(ne(int, bind(fd, (struct sockaddr *)&sa, sizeof sa), 0));
	close(fd);
	node_stop(&a);
}

typedef struct sender_arg {
	node             *from, *to;
	pthread_barrier_t *start;
	uint64_t          count;
} sender_arg;

static void *
sender(void *p)
{
	sender_arg *s = p;
	pthread_barrier_wait(s->start);
	for (uint64_t i = 0; i < s->count; i++) {
		if (cst_transport_send(s->from->t, HOST, port_of(s->to),
			    KIND_DATA, &i, sizeof i) != 0) {
			return (void *)1;
		}
	}
	return NULL;
}

Test(transport, ten_thousand_frames_each_way_arrive_once_and_in_order)
{
	node a, b;
	node_start(&a, 1, (node_opts){.secret = "s3cret"});
	node_start(&b, 2, (node_opts){.secret = "s3cret"});
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	sender_arg ab = {&a, &b, &start, 10000}, ba = {&b, &a, &start, 10000};
	pthread_t  t1, t2;
	pthread_create(&t1, NULL, sender, &ab);
	pthread_create(&t2, NULL, sender, &ba);
	void *r1, *r2;
	pthread_join(t1, &r1);
	pthread_join(t2, &r2);
	cr_assert(eq(ptr, r1, NULL));
	cr_assert(eq(ptr, r2, NULL));
	WAIT_FOR(&b, received, 10000);
	WAIT_FOR(&a, received, 10000);
	cr_assert(eq(u64, READ(&a, misordered), 0));
	cr_assert(eq(u64, READ(&b, misordered), 0));
	cr_assert(eq(u64, READ(&a, next_seq), 10000));
	cr_assert(eq(u64, READ(&b, next_seq), 10000));
	// Both dialed at once; one connection carried everything.
	cr_assert(eq(u64, READ(&a, connected), 1));
	cr_assert(eq(u64, READ(&b, connected), 1));
	cr_assert(eq(u64, READ(&a, disconnected), 0));
	cr_assert(eq(u64, READ(&a, peer_incarnation), 2));
	cr_assert(eq(u64, READ(&b, peer_incarnation), 1));
	cr_assert(eq(u32, cst_transport_open_count(a.t), 1));
	cr_assert(eq(u32, cst_transport_open_count(b.t), 1));
	// Nothing more arrives: exactly once (a barrier on each reactor).
	cr_assert(eq(u64, READ(&a, received), 10000));
	cr_assert(eq(u64, READ(&b, received), 10000));
	pthread_barrier_destroy(&start);
	node_stop(&a);
	node_stop(&b);
}

typedef struct dialer_arg {
	node              *from, *to;
	pthread_barrier_t *start;
} dialer_arg;

static void *
dialer(void *p)
{
	dialer_arg *d = p;
	pthread_barrier_wait(d->start);
	cst_transport_connect(d->from->t, HOST, port_of(d->to));
	return NULL;
}

Test(transport, both_sides_dialing_at_once_end_with_one_connection)
{
	for (int round = 0; round < 10; round++) {
		node a, b;
		node_start(&a, 1, (node_opts){0});
		node_start(&b, 2, (node_opts){0});
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 2);
		dialer_arg da = {&a, &b, &start}, db = {&b, &a, &start};
		pthread_t  t1, t2;
		pthread_create(&t1, NULL, dialer, &da);
		pthread_create(&t2, NULL, dialer, &db);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		WAIT_FOR(&a, connected, 1);
		WAIT_FOR(&b, connected, 1);
		// The one connection works both ways...
		send_seq(&a, &b, 0, 1);
		send_seq(&b, &a, 0, 1);
		WAIT_FOR(&a, received, 1);
		WAIT_FOR(&b, received, 1);
		// ...and was the only one ever opened.
		cr_assert(eq(u32, cst_transport_open_count(a.t), 1));
		cr_assert(eq(u32, cst_transport_open_count(b.t), 1));
		cr_assert(eq(u64, READ(&a, connected), 1), "round %d", round);
		cr_assert(eq(u64, READ(&b, connected), 1), "round %d", round);
		cr_assert(eq(u64, READ(&a, disconnected), 0));
		cr_assert(eq(u64, READ(&b, disconnected), 0));
		pthread_barrier_destroy(&start);
		node_stop(&a);
		node_stop(&b);
	}
}

Test(transport, large_frames_cross_intact)
{
	node a, b;
	node_start(&a, 1, (node_opts){0});
	node_start(&b, 2, (node_opts){0});
	size_t   len = 1u << 20;
	uint8_t *big = malloc(len);
	for (uint64_t s = 0; s < 3; s++) {
		for (size_t i = 0; i + 8 <= len; i += 8) {
			memcpy(big + i, &s, 8);
		}
		cr_assert(eq(int, cst_transport_send(a.t, HOST, port_of(&b),
					  KIND_DATA, big, len), 0));
	}
	cr_assert(eq(int, cst_transport_send(a.t, HOST, port_of(&b), KIND_DATA,
				  big, CST_FRAME_DEFAULT_MAX), -EMSGSIZE));
	WAIT_FOR(&b, received, 3);
	cr_assert(eq(u64, READ(&b, misordered), 0));
	cr_assert(eq(u64, READ(&b, bytes), 3 * len));
	free(big);
	node_stop(&a);
	node_stop(&b);
}

// ---- Bad peers, played by a raw socket ----

static int
raw_connect(node *to)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
		.sin_port = htons(port_of(to))};
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	// A bound on every read below, so that a bug cannot hang the test.
	struct timeval tv = {.tv_sec = WAIT_SECONDS};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof sa), 0));
	return fd;
}

static void
raw_send(int fd, const void *p, size_t len)
{
	cr_assert(eq(sz, (size_t)send(fd, p, len, MSG_NOSIGNAL), len));
}

// Plays the initiator's side of a handshake, claiming to be port with
// incarnation inc, then reads the acceptor's HELLO: without a secret
// (auth 0) the connection is open.
static void
raw_hello(int fd, uint8_t auth, uint16_t port, uint64_t inc)
{
	cst_hs_hello h = {.version = CST_HS_VERSION,
		.flags = auth,
		.role = CST_HS_INITIATOR,
		.incarnation = inc,
		.port = port};
	strcpy(h.cluster, "test");
	strcpy(h.host, HOST);
	uint8_t       body[CST_HS_MAX_HELLO];
	size_t        n = cst_hs_hello_encode(&h, body, sizeof body);
	cst_frame_buf out = {0};
	cst_frame_append(&out, CST_FRAME_KIND_HELLO, body, n, 0);
	raw_send(fd, out.data, out.len);
	cst_frame_buf_fini(&out);
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, CST_HS_MAX_FRAME);
	for (int done = 0; !done;) {
		uint8_t buf[512];
		ssize_t got = recv(fd, buf, sizeof buf, 0);
		cr_assert(lt(sz, 0, (size_t)(got > 0 ? got : 0)));
		size_t off = 0;
		while (off < (size_t)got) {
			cst_frame f;
			size_t    used;
			int rc = cst_frame_decode(&d, buf + off, (size_t)got - off,
				&used, &f);
			off += used;
			if (rc == CST_FRAME_READY && !done) {
				cr_assert(eq(u8, f.kind, CST_FRAME_KIND_HELLO));
				done = 1; // a PROOF may follow: not ours to read
			}
		}
	}
	cst_frame_decoder_fini(&d);
}

static void
raw_handshake(int fd)
{
	raw_hello(fd, 0, 1, 99);
}

// Reads until the other side closes; true if it did.
static bool
raw_closed_by_peer(int fd)
{
	uint8_t buf[256];
	for (int i = 0; i < 1000; i++) {
		ssize_t got = recv(fd, buf, sizeof buf, 0);
		if (got == 0 || (got < 0 && errno == ECONNRESET)) {
			return true;
		}
		if (got < 0) {
			return false; // the bound above ran out
		}
	}
	return false;
}

// a and b talk; then each bad peer in turn is closed and logged, and
// a <-> b keeps working.
Test(transport, a_bad_peer_loses_its_connection_and_only_it)
{
	node a, b;
	node_start(&a, 1, (node_opts){.max_frame = 1024});
	node_start(&b, 2, (node_opts){.max_frame = 1024});
	send_seq(&a, &b, 0, 100);
	send_seq(&b, &a, 0, 100);
	WAIT_FOR(&a, received, 100);
	WAIT_FOR(&b, received, 100);
	uint64_t sent = 100;
	unsigned rejected = 0;

	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t zero_len[8] = {0};
	uint8_t oversized[CST_FRAME_HEADER];
	cst_frame_head(oversized, KIND_DATA, 1024); // 1025 > max
	uint8_t reserved[CST_FRAME_HEADER + 1];
	cst_frame_head(reserved, CST_FRAME_KIND_HELLO, 1);
	reserved[CST_FRAME_HEADER] = 0;
	struct {
		const void *bytes;
		size_t      len;
		bool        handshake_first;
		int         why;
	} bad[] = {
		{http, sizeof http - 1, false, CST_TR_OVERSIZED},
		{zero_len, sizeof zero_len, false, CST_TR_MALFORMED},
		{zero_len, sizeof zero_len, true, CST_TR_MALFORMED},
		{oversized, sizeof oversized, true, CST_TR_OVERSIZED},
		{reserved, sizeof reserved, true, CST_TR_MALFORMED},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int fd = raw_connect(&a);
		if (bad[i].handshake_first) {
			raw_handshake(fd);
		}
		raw_send(fd, bad[i].bytes, bad[i].len);
		cr_assert(raw_closed_by_peer(fd), "bad peer %zu", i);
		close(fd);
		WAIT_FOR(&a, rejected, ++rejected);
		cr_assert(eq(int, (int)READ(&a, last_why), bad[i].why),
			"bad peer %zu", i);
		// The good connection did not notice.
		send_seq(&b, &a, sent, 10);
		send_seq(&a, &b, sent, 10);
		sent += 10;
		WAIT_FOR(&a, received, sent);
		WAIT_FOR(&b, received, sent);
	}
	// A stranger with the wrong magic is refused in the handshake.
	int     fd = raw_connect(&a);
	uint8_t stranger[64] = {0};
	cst_frame_head(stranger, CST_FRAME_KIND_HELLO,
		sizeof stranger - CST_FRAME_HEADER);
	memcpy(stranger + CST_FRAME_HEADER, "SSH-2.0-", 8);
	raw_send(fd, stranger, sizeof stranger);
	cr_assert(raw_closed_by_peer(fd));
	close(fd);
	WAIT_FOR(&a, rejected, ++rejected);
	cr_assert(eq(int, (int)READ(&a, last_why), CST_TR_HANDSHAKE));
	cr_assert(eq(int, (int)READ(&a, last_detail), CST_HS_EMAGIC));

	cr_assert(eq(u64, READ(&a, misordered), 0));
	cr_assert(eq(u64, READ(&b, misordered), 0));
	// b, and the three raw peers that got past the handshake.
	cr_assert(eq(u64, READ(&a, connected), 4));
	cr_assert(eq(u64, READ(&a, disconnected), 3));
	cr_assert(eq(u64, READ(&b, connected), 1));
	cr_assert(eq(u64, READ(&b, disconnected), 0));
	node_stop(&a);
	node_stop(&b);
}

Test(transport, a_wrong_secret_is_refused)
{
	node a, b;
	node_start(&a, 1, (node_opts){.secret = "one secret"});
	node_start(&b, 2, (node_opts){.secret = "another secret"});
	cr_assert(eq(int, cst_transport_connect(a.t, HOST, port_of(&b)), 0));
	WAIT_FOR(&a, rejected, 1);
	cr_assert(eq(int, (int)READ(&a, last_why), CST_TR_HANDSHAKE));
	cr_assert(eq(int, (int)READ(&a, last_detail), CST_HS_EPROOF));
	cr_assert(eq(u64, READ(&a, connected), 0));
	cr_assert(eq(u64, READ(&b, connected), 0));
	node_stop(&a);
	node_stop(&b);
}

Test(transport, another_cluster_is_refused_by_the_acceptor)
{
	node a, b;
	node_start(&a, 1, (node_opts){.cluster = "blue"});
	node_start(&b, 2, (node_opts){.cluster = "green"});
	cr_assert(eq(int, cst_transport_connect(a.t, HOST, port_of(&b)), 0));
	WAIT_FOR(&b, rejected, 1);
	cr_assert(eq(int, (int)READ(&b, last_detail), CST_HS_ECLUSTER));
	cr_assert(eq(u64, READ(&a, connected), 0));
	node_stop(&a);
	node_stop(&b);
}

Test(transport, sends_are_checked_before_they_are_queued)
{
	node a;
	node_start(&a, 1, (node_opts){0});
	uint64_t v = 0;
	cr_assert(eq(int, cst_transport_send(a.t, "not-an-address", 1,
				  KIND_DATA, &v, 8), -EINVAL));
	cr_assert(eq(int, cst_transport_send(a.t, HOST, 1,
				  CST_FRAME_KIND_HELLO, &v, 8), -EINVAL));
	cr_assert(eq(int, cst_transport_send(a.t, HOST, 0, KIND_DATA, &v, 8),
		-EINVAL));
	node_stop(&a);
}

Test(transport, destroy_with_work_in_flight_frees_everything)
{
	node a, b;
	node_start(&a, 1, (node_opts){0});
	node_start(&b, 2, (node_opts){0});
	// A port where nobody listens: a dial refused, a redial armed.
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t          sl = sizeof sa;
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	uint16_t dead = ntohs(sa.sin_port);
	close(fd);
	send_seq(&a, &b, 0, 1);
	WAIT_FOR(&b, received, 1);
	for (uint64_t s = 0; s < 1000; s++) {
		cst_transport_send(a.t, HOST, dead, KIND_DATA, &s, 8);
		cst_transport_send(a.t, HOST, port_of(&b), KIND_DATA, &s, 8);
		cst_transport_send(b.t, HOST, port_of(&a), KIND_DATA, &s, 8);
	}
	node_stop(&a); // b sees the connection drop
	WAIT_FOR(&b, disconnected, 1);
	node_stop(&b);
}

Test(transport, a_restarted_peer_is_redialed_and_gets_the_queued_frames)
{
	node a, b;
	node_start(&a, 1, (node_opts){0});
	node_start(&b, 2, (node_opts){0});
	uint16_t port = port_of(&b);
	cr_assert(eq(int, cst_transport_connect(a.t, HOST, port), 0));
	WAIT_FOR(&a, connected, 1);
	node_stop(&b);
	WAIT_FOR(&a, disconnected, 1);
	// Queued while nobody listens; a redials with backoff meanwhile.
	send_seq_port(&a, port, 0, 100);
	node_start(&b, 3, (node_opts){.port = port}); // a new incarnation
	WAIT_FOR(&b, received, 100);
	cr_assert(eq(u64, READ(&b, misordered), 0));
	WAIT_FOR(&a, connected, 2);
	cr_assert(eq(u64, READ(&a, peer_incarnation), 3));
	node_stop(&a);
	node_stop(&b);
}

Test(transport, an_impostor_failing_its_proof_cannot_cut_a_connection)
{
	node a, b;
	node_start(&a, 1, (node_opts){.secret = "s3cret"});
	node_start(&b, 2, (node_opts){.secret = "s3cret"});
	send_seq(&a, &b, 0, 10);
	WAIT_FOR(&b, received, 10);
	// It claims to be b, restarted (a new incarnation), without the
	// secret: a answers its HELLO, then refuses its proof.
	int fd = raw_connect(&a);
	raw_hello(fd, 1, port_of(&b), 77);
	uint8_t proof[CST_FRAME_HEADER + CST_HS_MAC] = {0};
	cst_frame_head(proof, CST_FRAME_KIND_PROOF, CST_HS_MAC);
	raw_send(fd, proof, sizeof proof);
	cr_assert(raw_closed_by_peer(fd));
	close(fd);
	WAIT_FOR(&a, rejected, 1);
	cr_assert(eq(int, (int)READ(&a, last_detail), CST_HS_EPROOF));
	// a <-> b never noticed.
	send_seq(&a, &b, 10, 10);
	WAIT_FOR(&b, received, 20);
	cr_assert(eq(u64, READ(&a, disconnected), 0));
	cr_assert(eq(u64, READ(&a, connected), 1));
	cr_assert(eq(u64, READ(&a, peer_incarnation), 2));
	cr_assert(eq(u64, READ(&b, misordered), 0));
	node_stop(&a);
	node_stop(&b);
}

Test(transport, a_frame_the_layer_above_refuses_closes_its_connection)
{
	node a, b;
	node_start(&a, 1, (node_opts){0});
	node_start(&b, 2, (node_opts){0});
	send_seq(&a, &b, 0, 3);
	WAIT_FOR(&b, received, 3);
	uint8_t junk = 0;
	cr_assert(eq(int, cst_transport_send(a.t, HOST, port_of(&b),
				  KIND_REFUSED, &junk, 1), 0));
	WAIT_FOR(&b, rejected, 1);
	cr_assert(eq(int, (int)READ(&b, last_why), CST_TR_MALFORMED));
	WAIT_FOR(&a, disconnected, 1);
	// a redials (it has sent to b), and the next frames get through.
	send_seq(&a, &b, 3, 3);
	WAIT_FOR(&b, received, 6);
	cr_assert(eq(u64, READ(&b, misordered), 0));
	node_stop(&a);
	node_stop(&b);
}

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned        holding_warnings;

static void
count_holding(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	(void)path;
	if (level == CASTY_LOG_WARN && strstr(message, "is not connected")) {
		pthread_mutex_lock(&warn_lock);
		holding_warnings++;
		pthread_mutex_unlock(&warn_lock);
	}
}

static unsigned
warnings(void)
{
	pthread_mutex_lock(&warn_lock);
	unsigned n = holding_warnings;
	pthread_mutex_unlock(&warn_lock);
	return n;
}

Test(transport, bounded_frames_beyond_max_pending_are_dropped_until_connected)
{
	casty_log_set_sink(count_holding, NULL);
	node a, b;
	node_start(&a, 1, (node_opts){.max_pending = 8});
	node_start(&b, 2, (node_opts){0});
	uint16_t port = port_of(&b);
	node_stop(&b); // nobody listens there now: a cannot connect

	// Eight are held, the next five dropped (in the order sent, on a's
	// reactor, so that each is reported), and frames that are not
	// bounded are held regardless.
	send_bounded(&a, port, 0, 8);
	send_bounded(&a, port, 1000, 5);
	send_seq_port(&a, port, 8, 3);
	WAIT_FOR(&a, dropped, 5);
	for (uint64_t i = 0; i < 5; i++) {
		cr_assert(eq(u64, a.dropped_seq[i], 1000 + i));
	}
	cr_assert(eq(u32, warnings(), 1)); // one per episode

	// Once b listens, a's redial opens a connection and the held frames
	// go out, in order and none twice.
	node_start(&b, 3, (node_opts){.port = port});
	WAIT_FOR(&b, received, 11);
	WAIT_FOR(&a, connected, 1);
	// Connected, nothing is bounded: these all go out.
	send_bounded(&a, port, 11, 20);
	WAIT_FOR(&b, received, 31);
	cr_assert(eq(u64, READ(&b, next_seq), 31));
	cr_assert(eq(u64, READ(&b, misordered), 0));
	cr_assert(eq(u64, READ(&a, dropped), 5));

	// A second episode, after the connection is lost: the bound and the
	// warning apply again.
	node_stop(&b);
	WAIT_FOR(&a, disconnected, 1);
	send_bounded(&a, port, 31, 10);
	send_seq_port(&a, port, 41, 1); // a marker, queued after the held
	WAIT_FOR(&a, dropped, 7);
	cr_assert(eq(u64, a.dropped_seq[5], 39));
	cr_assert(eq(u64, a.dropped_seq[6], 40));
	cr_assert(eq(u32, warnings(), 2));
	node_start(&b, 4, (node_opts){.port = port});
	// The marker comes last: when it is in, so is all that was held.
	WAIT_FOR(&b, next_seq, 42);
	cr_assert(eq(u64, READ(&b, received), 9));
	node_stop(&a);
	node_stop(&b);
	casty_log_set_sink(NULL, NULL);
}
