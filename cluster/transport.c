// cluster/transport.c: TCP connections on the reactor (see transport.h).
//
// Roles: create and destroy on a caller thread; send and connect on any
//   thread, as requests (cst_reactor_submit, whose release/acquire pair
//   publishes each request's bytes); everything else - the peers, the
//   connections, their buffers and state machines - on the reactor
//   thread alone, so none of it needs a lock.
// A connection goes CONNECTING (outbound only) -> HANDSHAKING -> OPEN ->
//   CLOSING. At most one recv, one send and (outbound) one connect are
//   in flight per connection; `inflight` counts them. Closing shuts the
//   socket down and cancels what is in flight (IORING_OP_ASYNC_CANCEL by
//   fd, all); the connection is freed by the last completion, never
//   inside a callback that may still touch it.
// Writes: a peer's frames are appended to its queue (one buffer); when
//   the connection's previous write has completed, the queue and the
//   write buffer swap, so everything queued meanwhile leaves in one
//   send. The handshake's own frames go first, from their own buffer.
// One connection per peer: an outbound connection is named after its
//   peer from the dial; an inbound one once the peer's HELLO names it.
//   At that moment (for both directions) any other live connection to
//   the same peer is compared with it: a peer with a new incarnation
//   replaces the old connection; otherwise the connection started by
//   the lower address wins on both sides, which both compute alike. The
//   acceptor decides before it answers, so a refused connection never
//   becomes open on either side. A loser is refused at once, but a
//   winner closes the others only when it opens, after its proof.
// Memory: before its handshake is done a connection holds a receive
//   buffer of one handshake frame, the fixed cst_handshake and a 4 KiB
//   write buffer, and no peer entry (a few KiB, times max_connections
//   at worst); the 64 KiB receive buffer and the peer entry come once
//   it is open. Peers live until destroy (a cluster's members).
// Tested by: tests/cluster/test_transport.c (ASan and TSan builds too).
#include "cluster/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <casty/log.h>

#include "runtime/alloc.h"
#include "runtime/park.h"
#include "runtime/system.h"

#define OPEN_RBUF (64u << 10)
#define SHRINK_ABOVE (1u << 20) // an idle buffer larger than this is freed

#define CONTAINER(ptr, type, field)                                         \
	((type *)(void *)((char *)(ptr)-offsetof(type, field)))

enum conn_state { CONNECTING, HANDSHAKING, OPEN, CLOSING };

typedef struct peer {
	struct peer       *next;
	cst_transport     *t;
	cst_peer_addr      addr;
	struct conn       *open;   // the open connection, or NULL
	cst_frame_buf      outq;   // frames waiting for a write
	bool               wanted; // redial when lost (send or connect)
	bool               dropping; // logged that the queue is full
	uint32_t           backoff_ms; // the delay before the next redial
	cst_reactor_timer  redial;
} peer;

typedef struct conn {
	struct conn      *next, *prev;
	cst_transport    *t;
	// Who is at the other end: outbound, from the dial; inbound, once
	// its HELLO checked out (named). The peer object of an inbound
	// connection is found or made only when it opens, so that a peer
	// that fails its proof cannot make the transport keep anything.
	peer             *peer;
	bool              named;
	cst_peer_addr     name;
	int               fd;
	enum conn_state   state;
	bool              outbound;
	bool              recv_busy, send_busy;
	unsigned          inflight;
	uint64_t          incarnation; // the peer's, once known
	char              remote[64];  // the socket's peer, for logs
	cst_frame_decoder dec;
	cst_handshake     hs;
	cst_frame_buf     hsout; // handshake frames not yet written
	cst_frame_buf     wbuf;  // the write in flight
	size_t            woff;
	uint8_t          *rbuf;
	size_t            rbuf_cap;
	struct sockaddr_storage sa; // the dialed address
	socklen_t         salen;
	cst_reactor_completion c_connect, c_recv, c_send, c_cancel;
	cst_reactor_timer hs_timer;
} conn;

typedef struct close_waiter {
	cst_reactor_req req;
	cst_transport  *t;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            done;
} close_waiter;

struct cst_transport {
	// Set at create, read-only after.
	cst_reactor            *reactor;
	cst_transport_config    cfg; // strings point at the copies below
	cst_hs_config           hs_cfg;
	char                   *cluster, *host;
	uint8_t                 secret[CST_HS_MAX_SECRET];
	int                     lfd;
	uint16_t                port;
	int                     family;
	// Set once by destroy; release/acquire with the callers' loads, so
	// a send that starts after destroy began is refused.
	_Atomic bool stopping;

	// Reactor thread only (the destroyer after the close request).
	conn                   *conns;
	unsigned                nconns;
	peer                   *peers;
	bool                    accept_busy, lcancel_busy, closing;
	struct sockaddr_storage asa;
	socklen_t               asalen;
	cst_reactor_completion  c_accept, c_lcancel;
	close_waiter           *closer;
	uint64_t                rng; // jitter for the backoff
};

static void pump_write(conn *c);
static void start_recv(conn *c);
static void dial(peer *p);
static void maybe_finish_close(cst_transport *t);
static void connected(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void received(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void sent(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void cancelled(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);

// ---- Addresses ----

static int
to_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss,
	socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in  *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL; // names are not resolved: no DNS on the reactor
}

static void
describe(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char text[INET6_ADDRSTRLEN] = "?";
	int  port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
		port = ntohs(in4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, cap, "%s:%d", text, port);
}

// The order both sides agree on: host bytes, then port.
static int
addr_cmp(const char *ha, uint16_t pa, const char *hb, uint16_t pb)
{
	int c = strcmp(ha, hb);
	if (c != 0) {
		return c;
	}
	return pa < pb ? -1 : pa > pb;
}

// ---- Peers ----

static peer *
find_peer(cst_transport *t, const char *host, uint16_t port, bool create)
{
	// A list: a cluster has tens of peers, and the lookup is per
	// request or per connection, not per byte.
	for (peer *p = t->peers; p != NULL; p = p->next) {
		if (p->addr.port == port && strcmp(p->addr.host, host) == 0) {
			return p;
		}
	}
	if (!create) {
		return NULL;
	}
	peer *p = cst_calloc(sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->t = t;
	snprintf(p->addr.host, sizeof p->addr.host, "%s", host);
	p->addr.port = port;
	p->backoff_ms = t->cfg.backoff_min_ms;
	p->redial.node.index = CST_TIMER_NOT_QUEUED;
	p->next = t->peers;
	t->peers = p;
	return p;
}

static bool
is_named(const conn *c, const char *host, uint16_t port)
{
	return c->named && c->name.port == port &&
	       strcmp(c->name.host, host) == 0;
}

static bool
has_live_conn(cst_transport *t, const peer *p)
{
	for (conn *c = t->conns; c != NULL; c = c->next) {
		if (c->state != CLOSING &&
		    is_named(c, p->addr.host, p->addr.port)) {
			return true;
		}
	}
	return false;
}

static void
redial_fired(cst_reactor *r, cst_reactor_timer *tm, int64_t now)
{
	(void)r;
	(void)now;
	peer *p = CONTAINER(tm, peer, redial);
	if (!p->t->closing && !has_live_conn(p->t, p) &&
	    (p->wanted || p->outq.len > 0)) {
		dial(p);
	}
}

static bool
redial_armed(const peer *p)
{
	return p->redial.node.index != CST_TIMER_NOT_QUEUED;
}

// Arms the redial after the current backoff (with jitter, so that many
// nodes that lost one peer do not all come back at the same instant),
// and doubles the backoff up to its cap.
static void
schedule_redial(peer *p)
{
	cst_transport *t = p->t;
	if (t->closing || redial_armed(p) || has_live_conn(t, p) ||
	    !(p->wanted || p->outq.len > 0)) {
		return;
	}
	uint64_t d = p->backoff_ms;
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	d = d / 2 + t->rng % (d / 2 + 1);
	p->redial.fire = redial_fired;
	p->redial.node.deadline = cst_now_ns() + (int64_t)d * 1000000;
	cst_reactor_timer_arm(t->reactor, &p->redial);
	uint64_t next = (uint64_t)p->backoff_ms * 2;
	p->backoff_ms = next > t->cfg.backoff_max_ms ? t->cfg.backoff_max_ms
						     : (uint32_t)next;
}

// ---- Connections ----

static void
hs_timeout(cst_reactor *r, cst_reactor_timer *tm, int64_t now);

static conn *
conn_new(cst_transport *t, int fd, bool outbound)
{
	conn *c = cst_calloc(sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->rbuf = cst_alloc(CST_HS_MAX_FRAME + CST_FRAME_HEADER);
	if (c->rbuf == NULL) {
		cst_free_sized(c, sizeof(*c));
		return NULL;
	}
	c->rbuf_cap = CST_HS_MAX_FRAME + CST_FRAME_HEADER;
	c->t = t;
	c->fd = fd;
	c->outbound = outbound;
	c->state = outbound ? CONNECTING : HANDSHAKING;
	c->c_connect.done = connected;
	c->c_recv.done = received;
	c->c_send.done = sent;
	c->c_cancel.done = cancelled;
	cst_frame_decoder_init(&c->dec, CST_HS_MAX_FRAME);
	c->hs_timer.fire = hs_timeout;
	c->hs_timer.node.deadline =
		cst_now_ns() + (int64_t)t->cfg.handshake_timeout_ms * 1000000;
	cst_reactor_timer_arm(t->reactor, &c->hs_timer);
	c->next = t->conns;
	if (t->conns != NULL) {
		t->conns->prev = c;
	}
	t->conns = c;
	t->nconns++;
	return c;
}

static void
conn_free(conn *c)
{
	cst_transport *t = c->t;
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		t->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	t->nconns--;
	close(c->fd);
	cst_frame_decoder_fini(&c->dec);
	cst_frame_buf_fini(&c->hsout);
	cst_frame_buf_fini(&c->wbuf);
	cst_free_sized(c->rbuf, c->rbuf_cap);
	cst_free_sized(c, sizeof(*c));
	maybe_finish_close(t);
}

// Called by every completion once it has noted itself done.
static bool
reap_if_closing(conn *c)
{
	if (c->state != CLOSING) {
		return false;
	}
	if (c->inflight == 0) {
		conn_free(c);
	}
	return true;
}

static void
cancelled(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)res; // -ENOENT when nothing was left to cancel: as good
	(void)fl;
	conn *c = CONTAINER(cc, conn, c_cancel);
	c->inflight--;
	reap_if_closing(c);
}

// Starts closing c. Never frees it: the completions still due do, and
// there is always at least the cancel's.
static void
conn_close(conn *c)
{
	if (c->state == CLOSING) {
		return;
	}
	cst_transport *t = c->t;
	bool           was_open = c->state == OPEN;
	c->state = CLOSING;
	cst_reactor_timer_disarm(t->reactor, &c->hs_timer);
	// Wakes a recv and fails a send at once, even before the cancel.
	shutdown(c->fd, SHUT_RDWR);
	struct io_uring_sqe *sqe = cst_reactor_sqe(t->reactor, &c->c_cancel);
	if (sqe == NULL) {
		casty_log_error(NULL, "transport: no SQE to close %s",
			c->remote);
		abort(); // cst_reactor_sqe returns NULL only on a broken ring
	}
	io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data(sqe, &c->c_cancel);
	c->inflight++;
	peer *p = c->peer;
	if (p == NULL && c->named) { // inbound, before it opened
		p = find_peer(t, c->name.host, c->name.port, false);
	}
	if (was_open && p != NULL && p->open == c) {
		p->open = NULL;
		if (t->cfg.cb.disconnected != NULL) {
			t->cfg.cb.disconnected(t->cfg.cb.arg, &p->addr,
				c->incarnation);
		}
	}
	if (p != NULL) {
		schedule_redial(p);
	}
}

static void
reject(conn *c, enum cst_transport_why why, int detail, const char *what)
{
	cst_transport *t = c->t;
	casty_log_warn(NULL, "transport: closing %s (%s): %s",
		c->remote, c->outbound ? "outbound" : "inbound", what);
	if (t->cfg.cb.rejected != NULL) {
		t->cfg.cb.rejected(t->cfg.cb.arg, c->remote, why, detail);
	}
	conn_close(c);
}

static void
hs_timeout(cst_reactor *r, cst_reactor_timer *tm, int64_t now)
{
	(void)r;
	(void)now;
	conn *c = CONTAINER(tm, conn, hs_timer);
	reject(c, CST_TR_TIMEOUT, 0, "no handshake in time");
}

// The handshake's accept callback: the peer's HELLO checked out; decide
// whether this connection is the one for that peer (see the top).
static int
claim_peer(void *arg, const cst_hs_hello *h)
{
	conn          *c = arg;
	cst_transport *t = c->t;
	if (h->port == t->port && strcmp(h->host, t->host) == 0) {
		return CST_HS_EDUPLICATE; // ourselves, by another route
	}
	// We dialed c->name: the peer must call itself what we called it,
	// or two names would lead to one node (Casty's duplicate links).
	if (c->outbound && !is_named(c, h->host, h->port)) {
		return CST_HS_EMALFORMED;
	}
	// Only decide here; the losers are closed when c opens (after its
	// proof), so that an unauthenticated HELLO cannot cut a connection.
	bool c_by_us = c->outbound;
	bool we_lower = addr_cmp(t->host, t->port, h->host, h->port) < 0;
	for (conn *o = t->conns; o != NULL; o = o->next) {
		if (o == c || o->state == CLOSING ||
		    !is_named(o, h->host, h->port)) {
			continue;
		}
		if (o->state == OPEN && o->incarnation != h->incarnation) {
			continue; // the peer restarted: o is stale
		}
		if (o->outbound == c_by_us) {
			continue; // the same side dialed again: o is stale
		}
		// The connection started by the lower address wins.
		if (c_by_us != we_lower) {
			return CST_HS_EDUPLICATE;
		}
	}
	if (!c->outbound) {
		c->named = true;
		snprintf(c->name.host, sizeof c->name.host, "%s", h->host);
		c->name.port = h->port;
	}
	c->incarnation = h->incarnation;
	return 0;
}

// Returns false when c had to be closed instead.
static bool
become_open(conn *c)
{
	cst_transport *t = c->t;
	if (c->peer == NULL) {
		c->peer = find_peer(t, c->name.host, c->name.port, true);
		if (c->peer == NULL) {
			casty_log_error(NULL, "transport: out of memory for "
					      "peer %s", c->remote);
			conn_close(c);
			return false;
		}
	}
	peer *p = c->peer;
	c->state = OPEN;
	cst_reactor_timer_disarm(t->reactor, &c->hs_timer);
	// The connections c won against at its claim_peer (and any that
	// came since, which lost theirs) give way now.
	for (conn *o = t->conns; o != NULL; o = o->next) {
		if (o != c && o->state != CLOSING &&
		    is_named(o, p->addr.host, p->addr.port)) {
			conn_close(o);
		}
	}
	cst_frame_decoder_set_max(&c->dec, t->cfg.max_frame);
	p->open = c;
	p->backoff_ms = t->cfg.backoff_min_ms;
	p->dropping = false;
	cst_reactor_timer_disarm(t->reactor, &p->redial);
	casty_log_debug(NULL, "transport: connected to %s:%u (%s)",
		p->addr.host, p->addr.port,
		c->outbound ? "outbound" : "inbound");
	if (t->cfg.cb.connected != NULL) {
		t->cfg.cb.connected(t->cfg.cb.arg, &p->addr, c->incarnation);
	}
	return true;
}

// Handles one frame; false when c is closing (stop feeding it).
static bool
on_frame(conn *c, const cst_frame *f)
{
	cst_transport *t = c->t;
	if (c->state == HANDSHAKING) {
		int rc = cst_handshake_on_frame(&c->hs, f, &c->hsout,
			claim_peer, c);
		if (rc == CST_HS_EDUPLICATE) {
			// Not bad input: the other connection to this peer won.
			casty_log_debug(NULL, "transport: closing %s: %s",
				c->remote, cst_hs_strerror(rc));
			conn_close(c);
			return false;
		}
		if (rc < 0) {
			char what[96];
			snprintf(what, sizeof what, "handshake: %s",
				cst_hs_strerror(rc));
			reject(c, CST_TR_HANDSHAKE, rc, what);
			return false;
		}
		if (rc == 1 && !become_open(c)) {
			return false;
		}
		pump_write(c);
		return c->state != CLOSING;
	}
	if (f->kind < CST_FRAME_KIND_USER) {
		reject(c, CST_TR_MALFORMED, 0, "reserved frame kind after the "
					       "handshake");
		return false;
	}
	if (t->cfg.cb.frame != NULL) {
		t->cfg.cb.frame(t->cfg.cb.arg, &c->peer->addr, c->incarnation,
			f->kind, f->body, f->len);
	}
	return c->state != CLOSING;
}

static void
received(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	conn *c = CONTAINER(cc, conn, c_recv);
	c->inflight--;
	c->recv_busy = false;
	if (reap_if_closing(c)) {
		return;
	}
	if (res <= 0) {
		casty_log_debug(NULL, "transport: %s closed: %s", c->remote,
			res == 0 ? "end of stream" : strerror(-res));
		conn_close(c);
		return;
	}
	const uint8_t *p = c->rbuf;
	size_t         left = (size_t)res;
	while (left > 0) {
		cst_frame f;
		size_t    used;
		int       rc = cst_frame_decode(&c->dec, p, left, &used, &f);
		p += used;
		left -= used;
		if (rc == CST_FRAME_READY) {
			if (!on_frame(c, &f)) {
				return;
			}
		} else if (rc == CST_FRAME_OVERSIZED) {
			reject(c, CST_TR_OVERSIZED, 0, "frame above the maximum");
			return;
		} else if (rc < 0) {
			reject(c, CST_TR_MALFORMED, 0, "malformed frame");
			return;
		}
	}
	if (c->state == OPEN && c->rbuf_cap < OPEN_RBUF) {
		uint8_t *big = cst_alloc(OPEN_RBUF);
		if (big != NULL) {
			cst_free_sized(c->rbuf, c->rbuf_cap);
			c->rbuf = big;
			c->rbuf_cap = OPEN_RBUF;
		}
	}
	start_recv(c);
}

static void
start_recv(conn *c)
{
	struct io_uring_sqe *sqe = cst_reactor_sqe(c->t->reactor, &c->c_recv);
	if (sqe == NULL) {
		conn_close(c);
		return;
	}
	// While handshaking the buffer is small: frames that follow the
	// handshake in the same read are assembled by the decoder.
	io_uring_prep_recv(sqe, c->fd, c->rbuf, c->rbuf_cap, 0);
	io_uring_sqe_set_data(sqe, &c->c_recv);
	c->recv_busy = true;
	c->inflight++;
}

static void
sent(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	conn *c = CONTAINER(cc, conn, c_send);
	c->inflight--;
	c->send_busy = false;
	if (reap_if_closing(c)) {
		return;
	}
	if (res < 0) {
		casty_log_debug(NULL, "transport: write to %s: %s", c->remote,
			strerror(-res));
		conn_close(c);
		return;
	}
	c->woff += (size_t)res;
	pump_write(c);
}

static void
swap_bufs(cst_frame_buf *a, cst_frame_buf *b)
{
	cst_frame_buf tmp = *a;
	*a = *b;
	*b = tmp;
}

// Starts the next write when none is in flight: the rest of the current
// buffer, else the handshake's frames, else the peer's whole queue.
static void
pump_write(conn *c)
{
	if (c->send_busy || c->state == CONNECTING || c->state == CLOSING) {
		return;
	}
	if (c->woff == c->wbuf.len) {
		c->wbuf.len = c->woff = 0;
		if (c->wbuf.cap > SHRINK_ABOVE) {
			cst_frame_buf_fini(&c->wbuf); // after a burst
		}
		if (c->hsout.len > 0) {
			swap_bufs(&c->wbuf, &c->hsout);
		} else if (c->state == OPEN && c->peer->outq.len > 0) {
			swap_bufs(&c->wbuf, &c->peer->outq);
		} else {
			return;
		}
	}
	struct io_uring_sqe *sqe = cst_reactor_sqe(c->t->reactor, &c->c_send);
	if (sqe == NULL) {
		conn_close(c);
		return;
	}
	io_uring_prep_send(sqe, c->fd, c->wbuf.data + c->woff,
		c->wbuf.len - c->woff, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, &c->c_send);
	c->send_busy = true;
	c->inflight++;
}

static void
start_handshake(conn *c, enum cst_hs_role role)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->state = HANDSHAKING;
	int rc = cst_handshake_start(&c->hs, &c->t->hs_cfg, role, &c->hsout);
	if (rc != 0) {
		casty_log_error(NULL, "transport: handshake start: %s",
			cst_hs_strerror(rc));
		conn_close(c);
		return;
	}
	pump_write(c);
	start_recv(c);
}

static void
connected(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	conn *c = CONTAINER(cc, conn, c_connect);
	c->inflight--;
	if (reap_if_closing(c)) {
		return;
	}
	if (res < 0) {
		casty_log_debug(NULL, "transport: connect to %s: %s",
			c->remote, strerror(-res));
		conn_close(c);
		return;
	}
	start_handshake(c, CST_HS_INITIATOR);
}

static void
dial(peer *p)
{
	cst_transport          *t = p->t;
	struct sockaddr_storage ss;
	socklen_t               len;
	if (to_sockaddr(p->addr.host, p->addr.port, &ss, &len) != 0) {
		p->wanted = false; // checked at send; cannot happen
		return;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	conn *c = fd >= 0 ? conn_new(t, fd, true) : NULL;
	if (c == NULL) {
		casty_log_warn(NULL, "transport: cannot dial %s:%u: %s",
			p->addr.host, p->addr.port,
			fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0) {
			close(fd);
		}
		schedule_redial(p);
		return;
	}
	c->peer = p;
	c->named = true;
	c->name = p->addr;
	c->sa = ss;
	c->salen = len;
	describe(&ss, c->remote, sizeof c->remote);
	struct io_uring_sqe *sqe = cst_reactor_sqe(t->reactor, &c->c_connect);
	if (sqe == NULL) {
		conn_close(c);
		return;
	}
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&c->sa, c->salen);
	io_uring_sqe_set_data(sqe, &c->c_connect);
	c->inflight++;
}

// ---- The listener ----

static void start_accept(cst_transport *t);

static void
accepted(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	cst_transport *t = CONTAINER(cc, cst_transport, c_accept);
	t->accept_busy = false;
	if (t->closing) {
		if (res >= 0) {
			close(res);
		}
		maybe_finish_close(t);
		return;
	}
	if (res < 0) {
		// EMFILE and the like: say so and keep accepting; the
		// connection that failed is the only one lost.
		casty_log_warn(NULL, "transport: accept: %s", strerror(-res));
		start_accept(t);
		return;
	}
	char remote[64];
	describe(&t->asa, remote, sizeof remote);
	if (t->nconns >= t->cfg.max_connections) {
		casty_log_warn(NULL, "transport: refusing %s: %u connections",
			remote, t->nconns);
		if (t->cfg.cb.rejected != NULL) {
			t->cfg.cb.rejected(t->cfg.cb.arg, remote, CST_TR_LIMIT,
				0);
		}
		close(res);
		start_accept(t);
		return;
	}
	conn *c = conn_new(t, res, false);
	if (c == NULL) {
		close(res);
	} else {
		memcpy(c->remote, remote, sizeof remote);
		start_handshake(c, CST_HS_ACCEPTOR);
	}
	start_accept(t);
}

static void
start_accept(cst_transport *t)
{
	struct io_uring_sqe *sqe = cst_reactor_sqe(t->reactor, &t->c_accept);
	if (sqe == NULL) {
		casty_log_error(NULL, "transport: no SQE to accept with");
		return;
	}
	t->asalen = sizeof t->asa;
	io_uring_prep_accept(sqe, t->lfd, (struct sockaddr *)&t->asa,
		&t->asalen, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &t->c_accept);
	t->accept_busy = true;
}

static void
run_start(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	cst_transport *t = *(cst_transport **)(req + 1);
	cst_free_sized(req, sizeof(*req) + sizeof(t));
	start_accept(t);
}

// ---- Requests from other threads ----

typedef struct send_req {
	cst_reactor_req req;
	cst_transport  *t;
	cst_peer_addr   addr;
	size_t          len; // bytes of the encoded frame; 0: connect only
	uint8_t         bytes[];
} send_req;

static void
run_send(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	send_req      *s = (send_req *)req;
	cst_transport *t = s->t;
	peer          *p = t->closing ? NULL
				      : find_peer(t, s->addr.host, s->addr.port,
						true);
	if (p != NULL) {
		p->wanted = true;
		if (s->len > 0) {
			if (p->outq.len + s->len > t->cfg.max_queue_bytes ||
			    cst_frame_buf_append_raw(&p->outq, s->bytes,
				    s->len) != 0) {
				if (!p->dropping) {
					casty_log_warn(NULL,
						"transport: queue to %s:%u "
						"full: dropping frames",
						p->addr.host, p->addr.port);
					p->dropping = true;
				}
			}
		}
		if (p->open != NULL) {
			pump_write(p->open);
		} else if (!has_live_conn(t, p) && !redial_armed(p)) {
			dial(p);
		}
	}
	cst_free_sized(s, sizeof(*s) + s->len);
}

static int
submit_send(cst_transport *t, const char *host, uint16_t port, uint8_t kind,
	const void *body, size_t len, bool frame)
{
	struct sockaddr_storage ss;
	socklen_t               sl;
	// Acquire: pairs with the release store in destroy.
	if (atomic_load_explicit(&t->stopping, memory_order_acquire)) {
		return CASTY_ESTOPPED;
	}
	if (host == NULL || strlen(host) > CST_HS_MAX_HOST || port == 0 ||
	    to_sockaddr(host, port, &ss, &sl) != 0 ||
	    (frame && kind < CST_FRAME_KIND_USER)) {
		return -EINVAL;
	}
	if (frame && len >= t->cfg.max_frame) {
		return -EMSGSIZE;
	}
	size_t    flen = frame ? CST_FRAME_HEADER + len : 0;
	send_req *s = cst_alloc(sizeof(*s) + flen);
	if (s == NULL) {
		return -ENOMEM;
	}
	s->req.run = run_send;
	s->t = t;
	strcpy(s->addr.host, host);
	s->addr.port = port;
	s->len = flen;
	if (frame) {
		cst_frame_head(s->bytes, kind, len);
		if (len > 0) {
			memcpy(s->bytes + CST_FRAME_HEADER, body, len);
		}
	}
	cst_reactor_submit(t->reactor, &s->req);
	return 0;
}

int
cst_transport_send(cst_transport *t, const char *host, uint16_t port,
	uint8_t kind, const void *body, size_t len)
{
	return submit_send(t, host, port, kind, body, len, true);
}

int
cst_transport_connect(cst_transport *t, const char *host, uint16_t port)
{
	return submit_send(t, host, port, 0, NULL, 0, false);
}

typedef struct count_req {
	cst_reactor_req req;
	cst_transport  *t;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            done;
	unsigned        n;
} count_req;

static void
run_count(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	count_req *q = (count_req *)req;
	unsigned   n = 0;
	for (conn *c = q->t->conns; c != NULL; c = c->next) {
		n += c->state == OPEN;
	}
	pthread_mutex_lock(&q->lock);
	q->n = n;
	q->done = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

unsigned
cst_transport_open_count(cst_transport *t)
{
	count_req q = {.req.run = run_count, .t = t};
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.cond, NULL);
	cst_reactor_submit(t->reactor, &q.req);
	pthread_mutex_lock(&q.lock);
	while (!q.done) {
		pthread_cond_wait(&q.cond, &q.lock);
	}
	pthread_mutex_unlock(&q.lock);
	pthread_cond_destroy(&q.cond);
	pthread_mutex_destroy(&q.lock);
	return q.n;
}

// ---- Create and destroy ----

uint16_t
cst_transport_port(const cst_transport *t)
{
	return t->port;
}

static int
listen_on(cst_transport *t)
{
	struct sockaddr_storage ss;
	socklen_t               len;
	if (to_sockaddr(t->host, t->cfg.port, &ss, &len) != 0) {
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	t->family = ss.ss_family;
	t->port = ntohs(ss.ss_family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	t->lfd = fd;
	return 0;
}

static void
free_transport(cst_transport *t)
{
	while (t->peers != NULL) {
		peer *p = t->peers;
		t->peers = p->next;
		cst_frame_buf_fini(&p->outq);
		cst_free_sized(p, sizeof(*p));
	}
	if (t->cluster != NULL) {
		cst_free_sized(t->cluster, strlen(t->cluster) + 1);
	}
	if (t->host != NULL) {
		cst_free_sized(t->host, strlen(t->host) + 1);
	}
	cst_free_sized(t, sizeof(*t));
}

int
cst_transport_create(casty_system *sys, const cst_transport_config *cfg,
	cst_transport **out)
{
	if (sys == NULL || sys->reactor == NULL || cfg == NULL || out == NULL ||
	    cfg->cluster == NULL || cfg->cluster[0] == '\0' ||
	    strlen(cfg->cluster) > CST_HS_MAX_CLUSTER || cfg->host == NULL ||
	    cfg->host[0] == '\0' || strlen(cfg->host) > CST_HS_MAX_HOST ||
	    cfg->incarnation == 0 || cfg->secret_len > CST_HS_MAX_SECRET ||
	    (cfg->secret == NULL) != (cfg->secret_len == 0)) {
		return -EINVAL;
	}
	cst_transport *t = cst_calloc(sizeof(*t));
	if (t == NULL) {
		return -ENOMEM;
	}
	t->reactor = sys->reactor;
	t->cfg = *cfg;
	t->lfd = -1;
	t->cluster = cst_strdup(cfg->cluster);
	t->host = cst_strdup(cfg->host);
	if (t->cluster == NULL || t->host == NULL) {
		free_transport(t);
		return -ENOMEM;
	}
	if (cfg->secret_len > 0) {
		memcpy(t->secret, cfg->secret, cfg->secret_len);
	}
	cst_transport_config *c = &t->cfg;
	c->cluster = t->cluster;
	c->host = t->host;
	c->secret = cfg->secret_len > 0 ? t->secret : NULL;
	c->max_frame = c->max_frame == 0 ? CST_FRAME_DEFAULT_MAX
		       : c->max_frame > CST_FRAME_MAX_LIMIT ? CST_FRAME_MAX_LIMIT
							   : c->max_frame;
	c->max_connections = c->max_connections ? c->max_connections : 256;
	c->max_queue_bytes = c->max_queue_bytes ? c->max_queue_bytes
						: (size_t)64 << 20;
	c->backoff_min_ms = c->backoff_min_ms ? c->backoff_min_ms : 100;
	c->backoff_max_ms = c->backoff_max_ms ? c->backoff_max_ms : 5000;
	if (c->backoff_max_ms < c->backoff_min_ms) {
		c->backoff_max_ms = c->backoff_min_ms;
	}
	c->handshake_timeout_ms =
		c->handshake_timeout_ms ? c->handshake_timeout_ms : 5000;
	t->rng = cfg->incarnation | 1;
	int rc = listen_on(t);
	if (rc != 0) {
		free_transport(t);
		return rc;
	}
	t->hs_cfg = (cst_hs_config){.cluster = t->cluster,
		.host = t->host,
		.port = t->port,
		.incarnation = cfg->incarnation,
		.secret = c->secret,
		.secret_len = cfg->secret_len};
	t->c_accept.done = accepted;
	atomic_init(&t->stopping, false);
	if (cfg->secret_len == 0) {
		casty_log_info(NULL, "transport: %s:%u has no secret: any "
				     "peer that knows the cluster name may "
				     "join",
			t->host, t->port);
	}
	// The accept is armed on the reactor thread, which owns the ring.
	cst_reactor_req *req = cst_alloc(sizeof(*req) + sizeof(t));
	if (req == NULL) {
		close(t->lfd);
		free_transport(t);
		return -ENOMEM;
	}
	req->run = run_start;
	memcpy(req + 1, &t, sizeof(t));
	cst_reactor_submit(t->reactor, req);
	*out = t;
	return 0;
}

static void
maybe_finish_close(cst_transport *t)
{
	if (t->closer == NULL || t->nconns > 0 || t->accept_busy ||
	    t->lcancel_busy) {
		return;
	}
	close_waiter *w = t->closer;
	t->closer = NULL;
	// After the unlock the destroyer may free t: touch nothing.
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void
lcancelled(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)res;
	(void)fl;
	cst_transport *t = CONTAINER(cc, cst_transport, c_lcancel);
	t->lcancel_busy = false;
	maybe_finish_close(t);
}

static void
run_close(cst_reactor *r, cst_reactor_req *req)
{
	close_waiter  *w = (close_waiter *)req;
	cst_transport *t = w->t;
	t->closing = true;
	t->closer = w;
	if (t->accept_busy) {
		struct io_uring_sqe *sqe = cst_reactor_sqe(r, &t->c_lcancel);
		if (sqe != NULL) {
			t->c_lcancel.done = lcancelled;
			io_uring_prep_cancel_fd(sqe, t->lfd,
				IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data(sqe, &t->c_lcancel);
			t->lcancel_busy = true;
		}
		shutdown(t->lfd, SHUT_RDWR); // an accept returns EINVAL
	}
	for (peer *p = t->peers; p != NULL; p = p->next) {
		cst_reactor_timer_disarm(r, &p->redial);
	}
	for (conn *c = t->conns; c != NULL; c = c->next) {
		conn_close(c);
	}
	maybe_finish_close(t);
}

void
cst_transport_destroy(cst_transport *t)
{
	if (t == NULL) {
		return;
	}
	// Release: pairs with the acquire in submit_send.
	atomic_store_explicit(&t->stopping, true, memory_order_release);
	close_waiter w = {.req.run = run_close, .t = t, .done = false};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	cst_reactor_submit(t->reactor, &w.req);
	pthread_mutex_lock(&w.lock);
	while (!w.done) {
		pthread_cond_wait(&w.cond, &w.lock);
	}
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	close(t->lfd);
	free_transport(t);
}
