// cluster/transport.h: TCP between cluster nodes, on the system's reactor.
//
// One transport per node: it listens, accepts, dials peers with
// exponential backoff, runs the handshake (cluster/handshake.h) on every
// connection, and then carries frames (cluster/frame.h) of the kinds at
// and above CST_FRAME_KIND_USER. A peer is its advertised address (host,
// port); there is at most one open connection per peer: when both sides
// dial at once, the connection started by the lower address (host bytes,
// then port) is kept on both sides, and the other is closed.
//
// Threads: cst_transport_send and cst_transport_connect may be called
// from any thread; they hand a request to the reactor, which does all
// the rest. The callbacks run on the reactor thread: they must not
// block, and they should turn what they learn into messages to actors
// (cst_deliver). They may call cst_transport_send, never destroy.
//
// Delivery: frames to one peer leave in the order they were sent (from
// one thread; across threads, in the order their sends were queued).
// They wait in the peer's queue while no connection is open, and a
// queued frame goes out on the next connection. A frame handed to a
// connection that then breaks may be lost: exactly once and in order
// holds within a connection; a layer above that needs more acknowledges.
// Frames sent with cst_transport_send_bounded (the cluster's messages
// for actors, as opposed to its own protocol) are also counted: while no
// connection to the peer is open, at most max_pending of them wait, and
// each further one goes to the dropped callback instead, with one
// warning per such episode (it ends when a connection opens).
#ifndef CASTY_CLUSTER_TRANSPORT_H
#define CASTY_CLUSTER_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <casty/casty.h>

#include "cluster/frame.h"
#include "cluster/handshake.h"

typedef struct cst_transport cst_transport;

/** cst_peer_addr names a peer: the address it listens on. */
typedef struct cst_peer_addr {
	char     host[CST_HS_MAX_HOST + 1];
	uint16_t port;
} cst_peer_addr;

/** Why a connection was refused or cut (the rejected callback). */
enum cst_transport_why {
	CST_TR_MALFORMED, // a frame of length 0, a reserved kind, or one
	                  // the frame callback refused
	CST_TR_OVERSIZED, // a frame above max_frame
	CST_TR_HANDSHAKE, // the handshake failed; detail is a CST_HS_E*
	CST_TR_TIMEOUT,   // no handshake within handshake_timeout_ms
	CST_TR_LIMIT,     // max_connections reached: closed at accept
};

/**
 * cst_transport_callbacks reach the layer above; every one runs on the
 * reactor thread, and the pointers it gets are valid only during the
 * call. Any of them may be NULL.
 */
typedef struct cst_transport_callbacks {
	/** connected: a connection to peer (its incarnation) is open. */
	void (*connected)(void *arg, const cst_peer_addr *peer,
		uint64_t incarnation);
	/**
	 * frame: a frame arrived from peer; body is borrowed. Returns
	 * NULL, or for a frame the layer above finds malformed a static
	 * text saying why: the connection is then closed (logged with that
	 * text, then rejected with CST_TR_MALFORMED), and nothing else is
	 * disturbed.
	 */
	const char *(*frame)(void *arg, const cst_peer_addr *peer,
		uint64_t incarnation, uint8_t kind, const uint8_t *body,
		size_t len);
	/**
	 * dropped: a frame of cst_transport_send_bounded that the
	 * transport did not keep for peer: over max_pending while no
	 * connection was open, or over max_queue_bytes. body is borrowed.
	 */
	void (*dropped)(void *arg, const cst_peer_addr *peer, uint8_t kind,
		const uint8_t *body, size_t len);
	/** disconnected: the open connection to peer has closed. */
	void (*disconnected)(void *arg, const cst_peer_addr *peer,
		uint64_t incarnation);
	/**
	 * rejected: a connection was closed for bad input, a failed or late
	 * handshake, or a limit (also logged). remote is "host:port" of the
	 * socket; detail is a CST_HS_E* code for CST_TR_HANDSHAKE, else 0.
	 */
	void (*rejected)(void *arg, const char *remote,
		enum cst_transport_why why, int detail);
	void *arg;
} cst_transport_callbacks;

/** cst_transport_config: strings and the secret are copied. */
typedef struct cst_transport_config {
	const char *cluster;     // the cluster (system) name; required
	const char *host;        // numeric IPv4 or IPv6 to bind and advertise
	uint16_t    port;        // 0: any free port (cst_transport_port)
	uint64_t    incarnation; // this node's run; required, non-zero
	const void *secret;      // NULL: no authentication (loopback only!)
	size_t      secret_len;  // at most CST_HS_MAX_SECRET
	uint32_t    max_frame;   // kind + body; 0: CST_FRAME_DEFAULT_MAX
	uint32_t    max_connections;      // 0: 256 (all, in every state)
	size_t      max_queue_bytes;      // per peer; 0: 64 MiB
	// Bounded frames (cst_transport_send_bounded) held per peer while
	// no connection to it is open; 0: 64.
	uint32_t    max_pending;
	uint32_t    backoff_min_ms;       // 0: 100
	uint32_t    backoff_max_ms;       // 0: 5000
	uint32_t    handshake_timeout_ms; // 0: 5000
	// TCP_USER_TIMEOUT of every connection: one whose sent data goes
	// unacknowledged this long fails (and is redialed); 0: the kernel's
	// retransmission limits, which take minutes.
	uint32_t    user_timeout_ms;
	cst_transport_callbacks cb;
} cst_transport_config;

/**
 * cst_transport_create binds and listens on cfg's address with sys's
 * reactor and starts accepting. Returns 0 with *out set, -EINVAL (a bad
 * config), -EADDRINUSE and the like from bind or listen, or -ENOMEM;
 * nothing is left behind on failure. Thread: any but the reactor.
 */
int cst_transport_create(casty_system *sys, const cst_transport_config *cfg,
	cst_transport **out);

/**
 * cst_transport_destroy closes the listener and every connection (the
 * disconnected callback runs for the open ones), drops queued frames and
 * frees everything. Destroy transports before their system. No send or
 * connect may run concurrently with it or come after it. Thread: any
 * but the reactor. Blocks: until the reactor has let go of everything.
 */
void cst_transport_destroy(cst_transport *t);

/** cst_transport_port returns the port the transport listens on. */
uint16_t cst_transport_port(const cst_transport *t);

/**
 * cst_transport_send queues a frame of kind (>= CST_FRAME_KIND_USER) with
 * len bytes of body (copied) for the peer at host:port, dialing it when
 * no connection is open or being made. Returns 0 (queued; a frame over
 * the peer's max_queue_bytes is dropped later, and logged), -EINVAL (a
 * reserved kind, or host not a numeric address), -EMSGSIZE (over
 * max_frame), -ENOMEM, or CASTY_ESTOPPED once destroy has begun.
 * Thread: any. Blocks: never.
 */
int cst_transport_send(cst_transport *t, const char *host, uint16_t port,
	uint8_t kind, const void *body, size_t len);

/**
 * cst_transport_send_bounded is cst_transport_send for a frame that may
 * be dropped while the peer is not connected: it counts against
 * max_pending, and a frame not kept goes to the dropped callback (on the
 * reactor thread, later) rather than only to the log. Thread: any.
 * Blocks: never.
 */
int cst_transport_send_bounded(cst_transport *t, const char *host,
	uint16_t port, uint8_t kind, const void *body, size_t len);

/**
 * cst_transport_connect makes the transport keep a connection to
 * host:port: it dials now if none is open or being made, and redials
 * with backoff whenever it is lost. Returns as cst_transport_send.
 * Thread: any. Blocks: never.
 */
int cst_transport_connect(cst_transport *t, const char *host, uint16_t port);

/**
 * cst_transport_forget gives up on the run (incarnation) of the peer at
 * host:port, which the cluster has removed: its queued frames are
 * dropped, it is no longer redialed, and a connection open to that run is
 * closed. A connection to a newer run at the same address is left alone,
 * and a later send or connect dials again. Returns 0, -EINVAL, -ENOMEM or
 * CASTY_ESTOPPED. Thread: any. Blocks: never.
 */
int cst_transport_forget(cst_transport *t, const char *host, uint16_t port,
	uint64_t incarnation);

/**
 * cst_transport_open_count returns how many connections are open (past
 * the handshake), for tests and statistics. Thread: any but the
 * reactor. Blocks: until the reactor has answered.
 */
unsigned cst_transport_open_count(cst_transport *t);

#endif // CASTY_CLUSTER_TRANSPORT_H
