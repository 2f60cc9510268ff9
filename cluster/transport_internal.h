// cluster/transport_internal.h: what the transport's two files share:
// transport.c (the listener, peers, requests, create and destroy) and
// connection.c (one connection's life). Reactor thread only, except
// where a field's group says otherwise.
#ifndef CASTY_CLUSTER_TRANSPORT_INTERNAL_H
#define CASTY_CLUSTER_TRANSPORT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/transport.h"
#include "runtime/oneshot.h"
#include "runtime/reactor.h"

#define CST_CONN_RBUF (64u << 10) // an open connection's receive buffer
// An idle write buffer larger than this is freed (after a burst).
#define CST_CONN_SHRINK_ABOVE (1u << 20)

#define CST_CONTAINER_OF(ptr, type, field)                                  \
	((type *)(void *)((char *)(ptr)-offsetof(type, field)))

enum conn_state { CONNECTING, HANDSHAKING, OPEN, CLOSING };

typedef struct peer {
	struct peer       *next;
	cst_transport     *t;
	cst_peer_addr      addr;
	struct conn       *open;   // the open connection, or NULL
	cst_frame_buf      outq;   // frames waiting for a write
	uint32_t           nbounded; // bounded frames in outq
	bool               wanted; // redial when lost (send or connect)
	bool               dropping; // logged that the queue is full
	bool               holding;  // logged that max_pending is reached
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
	cst_oneshot     done;
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
	cst_reactor_timer       accept_retry; // after an accept error
	close_waiter           *closer;
	uint64_t                rng; // jitter for the backoff
};

// Whether c is (or is being) the connection to host:port.
static inline bool
cst_conn_is_named(const conn *c, const char *host, uint16_t port)
{
	return c->named && c->name.port == port &&
	       strcmp(c->name.host, host) == 0;
}

// connection.c

/** cst_conn_new makes a connection on fd and arms its handshake timer. */
conn *cst_conn_new(cst_transport *t, int fd, bool outbound);

/** cst_conn_start_handshake starts the handshake in role on c. */
void cst_conn_start_handshake(conn *c, enum cst_hs_role role);

/** cst_conn_close starts closing c (never frees it there). */
void cst_conn_close(conn *c);

/** cst_conn_pump_write starts c's next write if none is in flight. */
void cst_conn_pump_write(conn *c);

/** cst_conn_dial opens an outbound connection to p. */
void cst_conn_dial(peer *p);

// transport.c

/** cst_addr_parse turns a numeric host and a port into a sockaddr. */
int cst_addr_parse(const char *host, uint16_t port,
	struct sockaddr_storage *ss, socklen_t *len);

/** cst_addr_describe writes "host:port" of ss into out. */
void cst_addr_describe(const struct sockaddr_storage *ss, char *out,
	size_t cap);

/** cst_peer_find finds the peer at host:port, making it if create. */
peer *cst_peer_find(cst_transport *t, const char *host, uint16_t port,
	bool create);

/** cst_peer_schedule_redial arms p's redial if p still wants one. */
void cst_peer_schedule_redial(peer *p);

/** cst_transport_maybe_finish lets a waiting destroy go when all is shut. */
void cst_transport_maybe_finish(cst_transport *t);

#endif // CASTY_CLUSTER_TRANSPORT_INTERNAL_H
