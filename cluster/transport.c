// cluster/transport.c: the transport (see transport.h): the listener,
// the peers and their redials, the requests from other threads, create
// and destroy. A connection's own life is in connection.c.
//
// Roles: create and destroy on a caller thread; send and connect on any
//   thread, as requests (cst_reactor_submit, whose release/acquire pair
//   publishes each request's bytes); everything else - the peers, the
//   connections, their buffers and state machines - on the reactor
//   thread alone, so none of it needs a lock.
// Peers: one entry per address we dial or that opened a connection to
//   us, in a list (tens of members; looked up per request, not per
//   byte); kept until destroy. A peer wanted (send or connect) is
//   redialed after each loss with exponential backoff and jitter, from
//   backoff_min_ms doubling to backoff_max_ms, reset when a connection
//   opens; its frames wait in its queue meanwhile.
// Destroy: a request marks the transport closing, cancels the accept,
//   closes every connection and waits until the last one is freed.
// Tested by: tests/cluster/test_transport.c (ASan and TSan builds too).
#include "cluster/transport_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <casty/log.h>

#include "runtime/alloc.h"
#include "runtime/park.h"
#include "runtime/system.h"

// ---- Addresses ----

int
cst_addr_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
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

void
cst_addr_describe(const struct sockaddr_storage *ss, char *out, size_t cap)
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


// ---- Peers ----

peer *
cst_peer_find(cst_transport *t, const char *host, uint16_t port, bool create)
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
has_live_conn(cst_transport *t, const peer *p)
{
	for (conn *c = t->conns; c != NULL; c = c->next) {
		if (c->state != CLOSING &&
		    cst_conn_is_named(c, p->addr.host, p->addr.port)) {
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
	peer *p = CST_CONTAINER_OF(tm, peer, redial);
	if (!p->t->closing && !has_live_conn(p->t, p) &&
	    (p->wanted || p->outq.len > 0)) {
		cst_conn_dial(p);
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
void
cst_peer_schedule_redial(peer *p)
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

// ---- The listener ----

static void start_accept(cst_transport *t);

static void
accept_again(cst_reactor *r, cst_reactor_timer *tm, int64_t now)
{
	(void)r;
	(void)now;
	cst_transport *t = CST_CONTAINER_OF(tm, cst_transport, accept_retry);
	start_accept(t);
}

static void
accepted(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)fl;
	cst_transport *t = CST_CONTAINER_OF(cc, cst_transport, c_accept);
	t->accept_busy = false;
	if (t->closing) {
		if (res >= 0) {
			close(res);
		}
		cst_transport_maybe_finish(t);
		return;
	}
	if (res < 0) {
		// EMFILE and the like: say so and accept again a little
		// later (at once would spin while the condition lasts).
		casty_log_warn(NULL, "transport: accept: %s", strerror(-res));
		t->accept_retry.fire = accept_again;
		t->accept_retry.node.deadline = cst_now_ns() + 100000000;
		cst_reactor_timer_arm(t->reactor, &t->accept_retry);
		return;
	}
	char remote[64];
	cst_addr_describe(&t->asa, remote, sizeof remote);
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
	conn *c = cst_conn_new(t, res, false);
	if (c == NULL) {
		close(res);
	} else {
		memcpy(c->remote, remote, sizeof remote);
		cst_conn_start_handshake(c, CST_HS_ACCEPTOR);
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
	bool            bounded; // cst_transport_send_bounded
	size_t          len; // bytes of the encoded frame; 0: connect only
	uint8_t         bytes[];
} send_req;

// Whether p keeps the frame of s, counting it when it is bounded. Bounded
// frames are counted while they sit in the queue (connection.c resets
// the count when the queue leaves in a write), but only limited while no
// connection is open: once one is, the queue drains as fast as it writes.
static bool
keep(peer *p, const send_req *s)
{
	cst_transport *t = p->t;
	if (s->bounded && p->open == NULL &&
	    p->nbounded >= t->cfg.max_pending) {
		if (!p->holding) {
			casty_log_warn(NULL,
				"transport: %s:%u is not connected: %u "
				"messages held, dropping more until it is",
				p->addr.host, p->addr.port, p->nbounded);
			p->holding = true;
		}
		return false;
	}
	if (p->outq.len + s->len > t->cfg.max_queue_bytes ||
	    cst_frame_buf_append_raw(&p->outq, s->bytes, s->len) != 0) {
		if (!p->dropping) {
			casty_log_warn(NULL, "transport: queue to %s:%u full: "
					     "dropping frames",
				p->addr.host, p->addr.port);
			p->dropping = true;
		}
		return false;
	}
	p->nbounded += s->bounded;
	return true;
}

static void
run_send(cst_reactor *r, cst_reactor_req *req)
{
	(void)r;
	send_req      *s = (send_req *)req;
	cst_transport *t = s->t;
	peer          *p = t->closing ? NULL
				      : cst_peer_find(t, s->addr.host, s->addr.port,
						true);
	if (p != NULL) {
		p->wanted = true;
		if (s->len > 0 && !keep(p, s) && s->bounded &&
		    t->cfg.cb.dropped != NULL) {
			t->cfg.cb.dropped(t->cfg.cb.arg, &p->addr,
				s->bytes[CST_FRAME_HEADER - 1],
				s->bytes + CST_FRAME_HEADER,
				s->len - CST_FRAME_HEADER);
		}
		if (p->open != NULL) {
			cst_conn_pump_write(p->open);
		} else if (!has_live_conn(t, p) && !redial_armed(p)) {
			cst_conn_dial(p);
		}
	}
	cst_free_sized(s, sizeof(*s) + s->len);
}

static int
submit_send(cst_transport *t, const char *host, uint16_t port, uint8_t kind,
	const void *body, size_t len, bool frame, bool bounded)
{
	struct sockaddr_storage ss;
	socklen_t               sl;
	// Acquire: pairs with the release store in destroy.
	if (atomic_load_explicit(&t->stopping, memory_order_acquire)) {
		return CASTY_ESTOPPED;
	}
	if (host == NULL || strlen(host) > CST_HS_MAX_HOST || port == 0 ||
	    cst_addr_parse(host, port, &ss, &sl) != 0 ||
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
	s->bounded = bounded;
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
	return submit_send(t, host, port, kind, body, len, true, false);
}

int
cst_transport_send_bounded(cst_transport *t, const char *host, uint16_t port,
	uint8_t kind, const void *body, size_t len)
{
	return submit_send(t, host, port, kind, body, len, true, true);
}

int
cst_transport_connect(cst_transport *t, const char *host, uint16_t port)
{
	return submit_send(t, host, port, 0, NULL, 0, false, false);
}

typedef struct forget_req {
	cst_reactor_req req;
	cst_transport  *t;
	cst_peer_addr   addr;
	uint64_t        incarnation;
} forget_req;

static void
run_forget(cst_reactor *r, cst_reactor_req *req)
{
	forget_req *f = (forget_req *)req;
	peer       *p = f->t->closing
			  ? NULL : cst_peer_find(f->t, f->addr.host, f->addr.port,
				     false);
	// A newer run at the same address is connected: it is not the one
	// forgotten, and what is queued is for it.
	if (p != NULL && (p->open == NULL ||
				 p->open->incarnation == f->incarnation)) {
		p->wanted = false;
		p->outq.len = 0;
		p->nbounded = 0;
		p->dropping = false;
		p->holding = false;
		p->backoff_ms = f->t->cfg.backoff_min_ms;
		cst_reactor_timer_disarm(r, &p->redial);
		if (p->open != NULL) {
			cst_conn_close(p->open);
		}
	}
	cst_free_sized(f, sizeof(*f));
}

int
cst_transport_forget(cst_transport *t, const char *host, uint16_t port,
	uint64_t incarnation)
{
	// Acquire: pairs with the release store in destroy.
	if (atomic_load_explicit(&t->stopping, memory_order_acquire)) {
		return CASTY_ESTOPPED;
	}
	if (host == NULL || strlen(host) > CST_HS_MAX_HOST) {
		return -EINVAL;
	}
	forget_req *f = cst_alloc(sizeof(*f));
	if (f == NULL) {
		return -ENOMEM;
	}
	f->req.run = run_forget;
	f->t = t;
	strcpy(f->addr.host, host);
	f->addr.port = port;
	f->incarnation = incarnation;
	cst_reactor_submit(t->reactor, &f->req);
	return 0;
}

typedef struct count_req {
	cst_reactor_req req;
	cst_transport  *t;
	cst_oneshot     done;
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
	q->n = n;
	cst_oneshot_signal(&q->done); // orders n for the waiter
}

unsigned
cst_transport_open_count(cst_transport *t)
{
	count_req q = {.req.run = run_count, .t = t};
	cst_oneshot_init(&q.done);
	cst_reactor_submit(t->reactor, &q.req);
	cst_oneshot_wait(&q.done);
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
	if (cst_addr_parse(t->host, t->cfg.port, &ss, &len) != 0) {
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
	c->max_pending = c->max_pending ? c->max_pending : 64;
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
	t->accept_retry.node.index = CST_TIMER_NOT_QUEUED;
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

void
cst_transport_maybe_finish(cst_transport *t)
{
	if (t->closer == NULL || t->nconns > 0 || t->accept_busy ||
	    t->lcancel_busy) {
		return;
	}
	close_waiter *w = t->closer;
	t->closer = NULL;
	// Then the destroyer may free t: touch nothing.
	cst_oneshot_signal(&w->done);
}

static void
lcancelled(cst_reactor *r, cst_reactor_completion *cc, int res, uint32_t fl)
{
	(void)r;
	(void)res;
	(void)fl;
	cst_transport *t = CST_CONTAINER_OF(cc, cst_transport, c_lcancel);
	t->lcancel_busy = false;
	cst_transport_maybe_finish(t);
}

static void
run_close(cst_reactor *r, cst_reactor_req *req)
{
	close_waiter  *w = (close_waiter *)req;
	cst_transport *t = w->t;
	t->closing = true;
	t->closer = w;
	cst_reactor_timer_disarm(r, &t->accept_retry);
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
		cst_conn_close(c);
	}
	cst_transport_maybe_finish(t);
}

void
cst_transport_destroy(cst_transport *t)
{
	if (t == NULL) {
		return;
	}
	// Release: pairs with the acquire in submit_send.
	atomic_store_explicit(&t->stopping, true, memory_order_release);
	close_waiter w = {.req.run = run_close, .t = t};
	cst_oneshot_init(&w.done);
	cst_reactor_submit(t->reactor, &w.req);
	cst_oneshot_wait(&w.done);
	close(t->lfd);
	free_transport(t);
}
