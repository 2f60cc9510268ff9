// cluster/connection.c: one transport connection's life on the reactor:
// connect, the handshake, reads into the frame decoder, coalesced
// writes, the one-connection-per-peer decision, and closing.
//
// Roles: the reactor thread only (transport.c hands it the requests of
//   other threads), so nothing here needs a lock or an atomic.
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
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <casty/log.h>

#include "cluster/transport_internal.h"
#include "runtime/alloc.h"
#include "runtime/park.h"

static void start_recv(conn *c);
static void connected(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void received(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void sent(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);
static void cancelled(cst_reactor *r, cst_reactor_completion *cc, int res,
	uint32_t fl);

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

// ---- Connections ----

static void
hs_timeout(cst_reactor *r, cst_reactor_timer *tm, int64_t now);

conn *
cst_conn_new(cst_transport *t, int fd, bool outbound)
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
	cst_transport_maybe_finish(t);
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
	conn *c = CST_CONTAINER_OF(cc, conn, c_cancel);
	c->inflight--;
	reap_if_closing(c);
}

// Starts closing c. Never frees it: the completions still due do, and
// there is always at least the cancel's.
void
cst_conn_close(conn *c)
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
		p = cst_peer_find(t, c->name.host, c->name.port, false);
	}
	if (was_open && p != NULL && p->open == c) {
		p->open = NULL;
		if (t->cfg.cb.disconnected != NULL) {
			t->cfg.cb.disconnected(t->cfg.cb.arg, &p->addr,
				c->incarnation);
		}
	}
	if (p != NULL) {
		cst_peer_schedule_redial(p);
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
	cst_conn_close(c);
}

static void
hs_timeout(cst_reactor *r, cst_reactor_timer *tm, int64_t now)
{
	(void)r;
	(void)now;
	conn *c = CST_CONTAINER_OF(tm, conn, hs_timer);
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
	if (c->outbound && !cst_conn_is_named(c, h->host, h->port)) {
		return CST_HS_EMALFORMED;
	}
	// Only decide here; the losers are closed when c opens (after its
	// proof), so that an unauthenticated HELLO cannot cut a connection.
	bool c_by_us = c->outbound;
	bool we_lower = addr_cmp(t->host, t->port, h->host, h->port) < 0;
	for (conn *o = t->conns; o != NULL; o = o->next) {
		if (o == c || o->state == CLOSING ||
		    !cst_conn_is_named(o, h->host, h->port)) {
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
		c->peer = cst_peer_find(t, c->name.host, c->name.port, true);
		if (c->peer == NULL) {
			casty_log_error(NULL, "transport: out of memory for "
					      "peer %s", c->remote);
			cst_conn_close(c);
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
		    cst_conn_is_named(o, p->addr.host, p->addr.port)) {
			cst_conn_close(o);
		}
	}
	cst_frame_decoder_set_max(&c->dec, t->cfg.max_frame);
	p->open = c;
	p->backoff_ms = t->cfg.backoff_min_ms;
	p->dropping = false;
	p->holding = false;
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
			cst_conn_close(c);
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
		cst_conn_pump_write(c);
		return c->state != CLOSING;
	}
	if (f->kind < CST_FRAME_KIND_USER) {
		reject(c, CST_TR_MALFORMED, 0, "reserved frame kind after the "
					       "handshake");
		return false;
	}
	const char *bad = t->cfg.cb.frame == NULL ? NULL
		: t->cfg.cb.frame(t->cfg.cb.arg, &c->peer->addr,
			  c->incarnation, f->kind, f->body, f->len);
	if (bad != NULL && c->state != CLOSING) {
		reject(c, CST_TR_MALFORMED, 0, bad);
	}
	return c->state != CLOSING;
}

static void
received(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	conn *c = CST_CONTAINER_OF(cc, conn, c_recv);
	c->inflight--;
	c->recv_busy = false;
	if (reap_if_closing(c)) {
		return;
	}
	if (res <= 0) {
		casty_log_debug(NULL, "transport: %s closed: %s", c->remote,
			res == 0 ? "end of stream" : strerror(-res));
		cst_conn_close(c);
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
	if (c->state == OPEN && c->rbuf_cap < CST_CONN_RBUF) {
		uint8_t *big = cst_alloc(CST_CONN_RBUF);
		if (big != NULL) {
			cst_free_sized(c->rbuf, c->rbuf_cap);
			c->rbuf = big;
			c->rbuf_cap = CST_CONN_RBUF;
		}
	}
	start_recv(c);
}

static void
start_recv(conn *c)
{
	struct io_uring_sqe *sqe = cst_reactor_sqe(c->t->reactor, &c->c_recv);
	if (sqe == NULL) {
		cst_conn_close(c);
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
	conn *c = CST_CONTAINER_OF(cc, conn, c_send);
	c->inflight--;
	c->send_busy = false;
	if (reap_if_closing(c)) {
		return;
	}
	if (res < 0) {
		casty_log_debug(NULL, "transport: write to %s: %s", c->remote,
			strerror(-res));
		cst_conn_close(c);
		return;
	}
	c->woff += (size_t)res;
	cst_conn_pump_write(c);
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
void
cst_conn_pump_write(conn *c)
{
	if (c->send_busy || c->state == CONNECTING || c->state == CLOSING) {
		return;
	}
	if (c->woff == c->wbuf.len) {
		c->wbuf.len = c->woff = 0;
		if (c->wbuf.cap > CST_CONN_SHRINK_ABOVE) {
			cst_frame_buf_fini(&c->wbuf); // after a burst
		}
		if (c->hsout.len > 0) {
			swap_bufs(&c->wbuf, &c->hsout);
		} else if (c->state == OPEN && c->peer->outq.len > 0) {
			swap_bufs(&c->wbuf, &c->peer->outq);
			c->peer->nbounded = 0; // they are no longer waiting
		} else {
			return;
		}
	}
	struct io_uring_sqe *sqe = cst_reactor_sqe(c->t->reactor, &c->c_send);
	if (sqe == NULL) {
		cst_conn_close(c);
		return;
	}
	io_uring_prep_send(sqe, c->fd, c->wbuf.data + c->woff,
		c->wbuf.len - c->woff, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, &c->c_send);
	c->send_busy = true;
	c->inflight++;
}

void
cst_conn_start_handshake(conn *c, enum cst_hs_role role)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	unsigned user_timeout = c->t->cfg.user_timeout_ms;
	if (user_timeout != 0) {
		setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
			sizeof user_timeout);
	}
	c->state = HANDSHAKING;
	int rc = cst_handshake_start(&c->hs, &c->t->hs_cfg, role, &c->hsout);
	if (rc != 0) {
		casty_log_error(NULL, "transport: handshake start: %s",
			cst_hs_strerror(rc));
		cst_conn_close(c);
		return;
	}
	cst_conn_pump_write(c);
	start_recv(c);
}

static void
connected(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	conn *c = CST_CONTAINER_OF(cc, conn, c_connect);
	c->inflight--;
	if (reap_if_closing(c)) {
		return;
	}
	if (res < 0) {
		casty_log_debug(NULL, "transport: connect to %s: %s",
			c->remote, strerror(-res));
		cst_conn_close(c);
		return;
	}
	cst_conn_start_handshake(c, CST_HS_INITIATOR);
}

void
cst_conn_dial(peer *p)
{
	cst_transport          *t = p->t;
	struct sockaddr_storage ss;
	socklen_t               len;
	if (cst_addr_parse(p->addr.host, p->addr.port, &ss, &len) != 0) {
		p->wanted = false; // checked at send; cannot happen
		return;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	conn *c = fd >= 0 ? cst_conn_new(t, fd, true) : NULL;
	if (c == NULL) {
		casty_log_warn(NULL, "transport: cannot dial %s:%u: %s",
			p->addr.host, p->addr.port,
			fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0) {
			close(fd);
		}
		cst_peer_schedule_redial(p);
		return;
	}
	c->peer = p;
	c->named = true;
	c->name = p->addr;
	c->sa = ss;
	c->salen = len;
	cst_addr_describe(&ss, c->remote, sizeof c->remote);
	struct io_uring_sqe *sqe = cst_reactor_sqe(t->reactor, &c->c_connect);
	if (sqe == NULL) {
		cst_conn_close(c);
		return;
	}
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&c->sa, c->salen);
	io_uring_sqe_set_data(sqe, &c->c_connect);
	c->inflight++;
}

