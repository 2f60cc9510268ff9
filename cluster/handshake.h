// cluster/handshake.h: the transport's handshake, as pure functions over
// buffers and a small state machine (no sockets, no clock).
//
// Flow (I: the side that connected, A: the side that accepted):
//   I -> A  HELLO(I)
//   A -> I  HELLO(A), and with a secret PROOF(A)
//   I -> A  with a secret PROOF(I)
// A checks HELLO(I) before it answers at all, so a peer with the wrong
// magic, version or cluster name learns nothing and costs one small
// frame. Without a secret, I is done on HELLO(A) and A once it has sent
// HELLO(A). With one, each side proves it holds the secret by
//   PROOF(X) = HMAC-SHA256(secret, "casty-handshake-v1" || role(X) ||
//              u16 len || HELLO(I) body || u16 len || HELLO(A) body)
// role(X) a byte, 0 for I and 1 for A, so a proof cannot be reflected
// back; both hellos carry a fresh 32-byte nonce from each side, so a
// proof cannot be replayed on another connection. Proofs are compared
// in constant time. Both sides must agree on using a secret: a HELLO
// whose auth flag differs from ours is refused.
//
// HELLO body, byte by byte (big-endian integers):
//   0  4  magic "CSTY"
//   4  2  version (CST_HS_VERSION)
//   6  1  flags: bit 0 = auth (a secret is configured); others must be 0
//   7  1  role: 0 initiator, 1 acceptor
//   8  8  incarnation id of the sender
//  16  2  port the sender listens on (non-zero)
//  18 32  nonce
//  50  1  cluster name length c (1..CST_HS_MAX_CLUSTER)
//  51  c  cluster name (bytes, no NUL)
//  .   1  host length h (1..CST_HS_MAX_HOST)
//  .   h  host the sender listens on (no NUL)
// and nothing after. PROOF body: the 32 bytes of the MAC.
#ifndef CASTY_CLUSTER_HANDSHAKE_H
#define CASTY_CLUSTER_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/frame.h"

#define CST_HS_VERSION 1u
#define CST_HS_NONCE 32u
#define CST_HS_MAC 32u
#define CST_HS_MAX_CLUSTER 64u
#define CST_HS_MAX_HOST 255u
#define CST_HS_MAX_SECRET 256u
#define CST_HS_HELLO_FIXED 52u // every field but the two strings
#define CST_HS_MAX_HELLO (CST_HS_HELLO_FIXED + CST_HS_MAX_CLUSTER + \
			  CST_HS_MAX_HOST)
// The decoder's maximum while handshaking: a HELLO and nothing larger.
#define CST_HS_MAX_FRAME (1u + CST_HS_MAX_HELLO)

enum cst_hs_role { CST_HS_INITIATOR = 0, CST_HS_ACCEPTOR = 1 };

/** Failures; each refuses the peer and closes the connection. */
enum {
	CST_HS_EMALFORMED = -1, // a field out of range, bytes left over
	CST_HS_EMAGIC = -2,
	CST_HS_EVERSION = -3,
	CST_HS_ECLUSTER = -4,  // another cluster name
	CST_HS_EAUTHMODE = -5, // one side has a secret, the other not
	CST_HS_EPROOF = -6,    // wrong secret
	CST_HS_EROLE = -7,     // both sides claim the same role
	CST_HS_EUNEXPECTED = -8, // a frame of the wrong kind at this point
	CST_HS_ECRYPTO = -9,   // libcrypto failed (nonce or MAC)
	CST_HS_EDUPLICATE = -10, // refused by the accept callback
};

/** cst_hs_strerror names a CST_HS_E* code. */
const char *cst_hs_strerror(int err);

/** cst_hs_hello is a decoded HELLO; strings are NUL-terminated copies. */
typedef struct cst_hs_hello {
	uint16_t version;
	uint8_t  flags;
	uint8_t  role;
	uint64_t incarnation;
	uint16_t port;
	uint8_t  nonce[CST_HS_NONCE];
	char     cluster[CST_HS_MAX_CLUSTER + 1];
	char     host[CST_HS_MAX_HOST + 1];
} cst_hs_hello;

/**
 * cst_hs_hello_encode writes h's body into out (cap bytes; CST_HS_MAX_HELLO
 * always suffices). Returns its length, or 0 when a string is empty or
 * too long or the port is 0.
 */
size_t cst_hs_hello_encode(const cst_hs_hello *h, uint8_t *out, size_t cap);

/**
 * cst_hs_hello_decode parses a HELLO body of len bytes: 0 with *out set,
 * or CST_HS_EMAGIC, CST_HS_EVERSION or CST_HS_EMALFORMED. Reads nothing
 * outside body[0..len).
 */
int cst_hs_hello_decode(const uint8_t *body, size_t len, cst_hs_hello *out);

/** cst_hs_config is what a side knows about itself (all borrowed). */
typedef struct cst_hs_config {
	const char    *cluster;
	const char    *host;
	uint16_t       port;
	uint64_t       incarnation;
	const uint8_t *secret; // NULL: no authentication
	size_t         secret_len;
} cst_hs_config;

enum cst_hs_state {
	CST_HS_WAIT_HELLO, // our HELLO sent (initiator) or nothing yet
	CST_HS_WAIT_PROOF, // hellos exchanged, the peer's proof due
	CST_HS_DONE,
	CST_HS_FAILED,
};

/** cst_handshake is one connection's handshake; all fields are its own. */
typedef struct cst_handshake {
	const cst_hs_config *cfg;
	uint8_t      role;
	uint8_t      state; // cst_hs_state
	cst_hs_hello peer;  // valid once the peer's HELLO was accepted
	uint8_t      mine[CST_HS_MAX_HELLO];
	uint8_t      theirs[CST_HS_MAX_HELLO];
	uint16_t     mine_len, theirs_len;
} cst_handshake;

/**
 * cst_handshake_start readies hs for role with cfg (kept borrowed) and,
 * for the initiator, appends its HELLO frame to out. Returns 0,
 * CST_HS_EMALFORMED (a bad cfg), CST_HS_ECRYPTO or -ENOMEM.
 */
int cst_handshake_start(cst_handshake *hs, const cst_hs_config *cfg,
	enum cst_hs_role role, cst_frame_buf *out);

/**
 * cst_handshake_on_frame takes the peer's next frame and appends our
 * answer, if any, to out. Returns 0 (continue), 1 (done: the peer is
 * authenticated and hs->peer says who it is) or a CST_HS_E* code, after
 * which hs is failed for good. Its accept callback, when not NULL, is
 * asked once the peer's HELLO checked out and before anything is sent
 * back: a non-zero return refuses the peer with that code (the
 * transport's one-connection-per-peer rule).
 */
int cst_handshake_on_frame(cst_handshake *hs, const cst_frame *f,
	cst_frame_buf *out, int (*accept)(void *arg, const cst_hs_hello *peer),
	void *arg);

/**
 * cst_hs_proof computes PROOF(role) over the two hello bodies into mac.
 * Returns 0, or CST_HS_ECRYPTO when libcrypto fails.
 */
int cst_hs_proof(const uint8_t *secret, size_t secret_len, uint8_t role,
	const uint8_t *hello_i, size_t len_i, const uint8_t *hello_a,
	size_t len_a, uint8_t mac[CST_HS_MAC]);

#endif // CASTY_CLUSTER_HANDSHAKE_H
