// cluster/handshake.c: HELLO encoding and parsing, the proofs, and the
// handshake state machine (see handshake.h for the wire format).
//
// Every field is bounded before it is read, and the whole exchange lives
// in the fixed-size cst_handshake (under 1 KiB): an unauthenticated peer
// costs that, a 64 KiB receive buffer and a handshake frame of at most
// CST_HS_MAX_FRAME bytes, never more.
#include "cluster/handshake.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static const uint8_t magic[4] = {'C', 'S', 'T', 'Y'};
static const char    label[] = "casty-handshake-v1";

const char *
cst_hs_strerror(int err)
{
	switch (err) {
	case CST_HS_EMALFORMED:
		return "malformed handshake";
	case CST_HS_EMAGIC:
		return "not a casty peer (bad magic)";
	case CST_HS_EVERSION:
		return "unsupported protocol version";
	case CST_HS_ECLUSTER:
		return "another cluster name";
	case CST_HS_EAUTHMODE:
		return "secret configured on one side only";
	case CST_HS_EPROOF:
		return "wrong secret (proof mismatch)";
	case CST_HS_EROLE:
		return "both sides claim the same role";
	case CST_HS_EUNEXPECTED:
		return "unexpected frame during the handshake";
	case CST_HS_ECRYPTO:
		return "libcrypto failure";
	case CST_HS_EDUPLICATE:
		return "refused: a connection to this peer exists";
	default:
		return "unknown handshake error";
	}
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t
cst_hs_hello_encode(const cst_hs_hello *h, uint8_t *out, size_t cap)
{
	size_t clen = strnlen(h->cluster, CST_HS_MAX_CLUSTER + 1);
	size_t hlen = strnlen(h->host, CST_HS_MAX_HOST + 1);
	if (clen == 0 || clen > CST_HS_MAX_CLUSTER || hlen == 0 ||
	    hlen > CST_HS_MAX_HOST || h->port == 0 ||
	    cap < CST_HS_HELLO_FIXED + clen + hlen) {
		return 0;
	}
	uint8_t *p = out;
	memcpy(p, magic, 4);
	put16(p + 4, h->version);
	p[6] = h->flags;
	p[7] = h->role;
	for (int i = 0; i < 8; i++) {
		p[8 + i] = (uint8_t)(h->incarnation >> (56 - 8 * i));
	}
	put16(p + 16, h->port);
	memcpy(p + 18, h->nonce, CST_HS_NONCE);
	p += 50;
	*p++ = (uint8_t)clen;
	memcpy(p, h->cluster, clen);
	p += clen;
	*p++ = (uint8_t)hlen;
	memcpy(p, h->host, hlen);
	p += hlen;
	return (size_t)(p - out);
}

// A string field: a length byte within 1..max, then that many bytes
// without NUL. Copies it NUL-terminated into dst (max + 1 bytes).
static int
get_string(const uint8_t *body, size_t len, size_t *off, size_t max,
	char *dst)
{
	if (*off >= len) {
		return CST_HS_EMALFORMED;
	}
	size_t n = body[(*off)++];
	if (n == 0 || n > max || n > len - *off ||
	    memchr(body + *off, 0, n) != NULL) {
		return CST_HS_EMALFORMED;
	}
	memcpy(dst, body + *off, n);
	dst[n] = '\0';
	*off += n;
	return 0;
}

int
cst_hs_hello_decode(const uint8_t *body, size_t len, cst_hs_hello *out)
{
	cst_hs_hello h;
	// The magic first, so that a stranger is named as one.
	if (len < 4 || memcmp(body, magic, 4) != 0) {
		return CST_HS_EMAGIC;
	}
	if (len < 6) {
		return CST_HS_EMALFORMED;
	}
	h.version = get16(body + 4);
	if (h.version != CST_HS_VERSION) {
		return CST_HS_EVERSION;
	}
	if (len < CST_HS_HELLO_FIXED || len > CST_HS_MAX_HELLO) {
		return CST_HS_EMALFORMED;
	}
	h.flags = body[6];
	h.role = body[7];
	if ((h.flags & ~1u) != 0 || h.role > CST_HS_ACCEPTOR) {
		return CST_HS_EMALFORMED;
	}
	h.incarnation = 0;
	for (int i = 0; i < 8; i++) {
		h.incarnation = h.incarnation << 8 | body[8 + i];
	}
	h.port = get16(body + 16);
	if (h.port == 0) {
		return CST_HS_EMALFORMED;
	}
	memcpy(h.nonce, body + 18, CST_HS_NONCE);
	size_t off = 50;
	int    rc = get_string(body, len, &off, CST_HS_MAX_CLUSTER, h.cluster);
	if (rc == 0) {
		rc = get_string(body, len, &off, CST_HS_MAX_HOST, h.host);
	}
	if (rc != 0 || off != len) {
		return CST_HS_EMALFORMED;
	}
	*out = h;
	return 0;
}

int
cst_hs_proof(const uint8_t *secret, size_t secret_len, uint8_t role,
	const uint8_t *hello_i, size_t len_i, const uint8_t *hello_a,
	size_t len_a, uint8_t mac[CST_HS_MAC])
{
	int          rc = CST_HS_ECRYPTO;
	EVP_MAC     *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	char         digest[] = "SHA256";
	OSSL_PARAM   params[] = {
		  OSSL_PARAM_construct_utf8_string(
			  OSSL_MAC_PARAM_DIGEST, digest, 0),
		  OSSL_PARAM_construct_end(),
	};
	uint8_t li[2], la[2];
	size_t  out_len = 0;

	put16(li, (uint16_t)len_i);
	put16(la, (uint16_t)len_a);
	if (ctx != NULL && EVP_MAC_init(ctx, secret, secret_len, params) &&
	    EVP_MAC_update(ctx, (const uint8_t *)label, sizeof label - 1) &&
	    EVP_MAC_update(ctx, &role, 1) && EVP_MAC_update(ctx, li, 2) &&
	    EVP_MAC_update(ctx, hello_i, len_i) &&
	    EVP_MAC_update(ctx, la, 2) &&
	    EVP_MAC_update(ctx, hello_a, len_a) &&
	    EVP_MAC_final(ctx, mac, &out_len, CST_HS_MAC) &&
	    out_len == CST_HS_MAC) {
		rc = 0;
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return rc;
}

static bool
has_secret(const cst_hs_config *cfg)
{
	return cfg->secret != NULL && cfg->secret_len > 0;
}

// Encodes our HELLO into hs->mine and appends it to out.
static int
send_hello(cst_handshake *hs, cst_frame_buf *out)
{
	const cst_hs_config *cfg = hs->cfg;
	cst_hs_hello         h = {
			.version = CST_HS_VERSION,
			.flags = has_secret(cfg) ? 1 : 0,
			.role = hs->role,
			.incarnation = cfg->incarnation,
			.port = cfg->port,
        };
	if (strlen(cfg->cluster) > CST_HS_MAX_CLUSTER ||
	    strlen(cfg->host) > CST_HS_MAX_HOST) {
		return CST_HS_EMALFORMED;
	}
	strcpy(h.cluster, cfg->cluster);
	strcpy(h.host, cfg->host);
	if (RAND_bytes(h.nonce, CST_HS_NONCE) != 1) {
		return CST_HS_ECRYPTO;
	}
	size_t n = cst_hs_hello_encode(&h, hs->mine, sizeof hs->mine);
	if (n == 0) {
		return CST_HS_EMALFORMED;
	}
	hs->mine_len = (uint16_t)n;
	int rc = cst_frame_append(out, CST_FRAME_KIND_HELLO, hs->mine, n,
		CST_HS_MAX_FRAME);
	return rc == 0 ? 0 : -ENOMEM;
}

// The proof `role` must send or show: over HELLO(I) then HELLO(A).
static int
proof_of(cst_handshake *hs, uint8_t role, uint8_t mac[CST_HS_MAC])
{
	const cst_hs_config *cfg = hs->cfg;
	bool                 we_init = hs->role == CST_HS_INITIATOR;
	return cst_hs_proof(cfg->secret, cfg->secret_len, role,
		we_init ? hs->mine : hs->theirs,
		we_init ? hs->mine_len : hs->theirs_len,
		we_init ? hs->theirs : hs->mine,
		we_init ? hs->theirs_len : hs->mine_len, mac);
}

static int
send_proof(cst_handshake *hs, cst_frame_buf *out)
{
	uint8_t mac[CST_HS_MAC];
	int     rc = proof_of(hs, hs->role, mac);
	if (rc == 0 && cst_frame_append(out, CST_FRAME_KIND_PROOF, mac,
			       CST_HS_MAC, CST_HS_MAX_FRAME) != 0) {
		rc = -ENOMEM;
	}
	return rc;
}

int
cst_handshake_start(cst_handshake *hs, const cst_hs_config *cfg,
	enum cst_hs_role role, cst_frame_buf *out)
{
	memset(hs, 0, sizeof(*hs));
	hs->cfg = cfg;
	hs->role = (uint8_t)role;
	hs->state = CST_HS_WAIT_HELLO;
	if (cfg->cluster == NULL || cfg->host == NULL || cfg->port == 0 ||
	    (cfg->secret != NULL && cfg->secret_len > CST_HS_MAX_SECRET)) {
		hs->state = CST_HS_FAILED;
		return CST_HS_EMALFORMED;
	}
	int rc = role == CST_HS_INITIATOR ? send_hello(hs, out) : 0;
	if (rc != 0) {
		hs->state = CST_HS_FAILED;
	}
	return rc;
}

static int
on_hello(cst_handshake *hs, const cst_frame *f, cst_frame_buf *out,
	int (*accept)(void *arg, const cst_hs_hello *peer), void *arg)
{
	cst_hs_hello h;
	int          rc = cst_hs_hello_decode(f->body, f->len, &h);
	if (rc != 0) {
		return rc;
	}
	if (strcmp(h.cluster, hs->cfg->cluster) != 0) {
		return CST_HS_ECLUSTER;
	}
	if ((h.flags & 1) != (has_secret(hs->cfg) ? 1 : 0)) {
		return CST_HS_EAUTHMODE;
	}
	if (h.role == hs->role) {
		return CST_HS_EROLE;
	}
	if (accept != NULL && (rc = accept(arg, &h)) != 0) {
		return rc;
	}
	hs->peer = h;
	memcpy(hs->theirs, f->body, f->len); // len <= CST_HS_MAX_HELLO
	hs->theirs_len = (uint16_t)f->len;
	if (hs->role == CST_HS_ACCEPTOR && (rc = send_hello(hs, out)) != 0) {
		return rc;
	}
	if (!has_secret(hs->cfg)) {
		return 1;
	}
	// The acceptor proves first; the initiator proves once it has
	// checked the acceptor's proof (on_proof).
	if (hs->role == CST_HS_ACCEPTOR && (rc = send_proof(hs, out)) != 0) {
		return rc;
	}
	hs->state = CST_HS_WAIT_PROOF;
	return 0;
}

static int
on_proof(cst_handshake *hs, const cst_frame *f, cst_frame_buf *out)
{
	uint8_t want[CST_HS_MAC];
	if (f->len != CST_HS_MAC) {
		return CST_HS_EMALFORMED;
	}
	int rc = proof_of(hs, hs->role == CST_HS_INITIATOR ? CST_HS_ACCEPTOR
							  : CST_HS_INITIATOR,
		want);
	if (rc != 0) {
		return rc;
	}
	if (CRYPTO_memcmp(want, f->body, CST_HS_MAC) != 0) {
		return CST_HS_EPROOF;
	}
	if (hs->role == CST_HS_INITIATOR && (rc = send_proof(hs, out)) != 0) {
		return rc;
	}
	return 1;
}

int
cst_handshake_on_frame(cst_handshake *hs, const cst_frame *f,
	cst_frame_buf *out, int (*accept)(void *arg, const cst_hs_hello *peer),
	void *arg)
{
	int rc;
	if (hs->state == CST_HS_WAIT_HELLO && f->kind == CST_FRAME_KIND_HELLO) {
		rc = on_hello(hs, f, out, accept, arg);
	} else if (hs->state == CST_HS_WAIT_PROOF &&
		   f->kind == CST_FRAME_KIND_PROOF) {
		rc = on_proof(hs, f, out);
	} else {
		rc = CST_HS_EUNEXPECTED;
	}
	if (rc == 1) {
		hs->state = CST_HS_DONE;
	} else if (rc < 0) {
		hs->state = CST_HS_FAILED;
	}
	return rc;
}
