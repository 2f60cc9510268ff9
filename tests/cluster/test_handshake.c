// tests/cluster/test_handshake.c: the handshake (cluster/handshake.c),
// without sockets: two state machines trade frames through buffers. With
// and without a secret they agree on who the other is; a wrong secret,
// cluster name, version, magic or role, a truncated or padded HELLO, a
// reflected proof and an out-of-order frame are all refused.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "cluster/handshake.h"

TestSuite(handshake, .timeout = 60);

static const uint8_t secret[] = "correct horse battery staple";
static const uint8_t other_secret[] = "correct horse battery stapler";

static cst_hs_config
config(const char *host, uint16_t port, uint64_t inc, const uint8_t *s,
	size_t slen)
{
	return (cst_hs_config){.cluster = "prod",
		.host = host,
		.port = port,
		.incarnation = inc,
		.secret = s,
		.secret_len = slen};
}

// Delivers every frame in *from to hs; returns the last result (or 0).
static int
deliver(cst_handshake *hs, cst_frame_buf *from, cst_frame_buf *reply)
{
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, CST_HS_MAX_FRAME);
	size_t off = 0;
	int    rc = 0;
	while (off < from->len && rc == 0) {
		cst_frame f;
		size_t    used;
		int dr = cst_frame_decode(&d, from->data + off, from->len - off,
			&used, &f);
		cr_assert(eq(int, dr, CST_FRAME_READY));
		off += used;
		rc = cst_handshake_on_frame(hs, &f, reply, NULL, NULL);
	}
	from->len = 0;
	cst_frame_decoder_fini(&d);
	return rc;
}

// Runs the exchange; returns the results seen by I and A (first error
// or 1). Stops when both are done or one failed.
static void
run(const cst_hs_config *ci, const cst_hs_config *ca, int *ri, int *ra)
{
	cst_handshake i, a;
	cst_frame_buf to_a = {0}, to_i = {0};
	cr_assert(eq(int, cst_handshake_start(&i, ci, CST_HS_INITIATOR, &to_a),
		0));
	cr_assert(eq(int, cst_handshake_start(&a, ca, CST_HS_ACCEPTOR, &to_i),
		0));
	cr_assert(eq(sz, to_i.len, 0)); // the acceptor waits for a HELLO
	*ri = *ra = 0;
	for (int round = 0; round < 4 && *ri >= 0 && *ra >= 0; round++) {
		if (to_a.len > 0 && *ra == 0) {
			*ra = deliver(&a, &to_a, &to_i);
		}
		if (to_i.len > 0 && *ri == 0) {
			*ri = deliver(&i, &to_i, &to_a);
		}
		if (*ri == 1 && *ra == 1) {
			break;
		}
	}
	if (*ri == 1 && *ra == 1) {
		cr_assert(eq(str, i.peer.host, (char *)ca->host));
		cr_assert(eq(u16, i.peer.port, ca->port));
		cr_assert(eq(u64, i.peer.incarnation, ca->incarnation));
		cr_assert(eq(str, a.peer.host, (char *)ci->host));
		cr_assert(eq(u16, a.peer.port, ci->port));
		cr_assert(eq(u64, a.peer.incarnation, ci->incarnation));
	}
	cst_frame_buf_fini(&to_a);
	cst_frame_buf_fini(&to_i);
}

Test(handshake, without_a_secret_both_sides_learn_each_other)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, NULL, 0);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, NULL, 0);
	int           ri, ra;
	run(&ci, &ca, &ri, &ra);
	cr_assert(eq(int, ri, 1));
	cr_assert(eq(int, ra, 1));
}

Test(handshake, with_the_same_secret_both_sides_prove_it)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, secret, sizeof secret);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, secret, sizeof secret);
	int           ri, ra;
	run(&ci, &ca, &ri, &ra);
	cr_assert(eq(int, ri, 1));
	cr_assert(eq(int, ra, 1));
}

Test(handshake, a_wrong_secret_is_refused_by_the_initiator)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, secret, sizeof secret);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, other_secret,
		sizeof other_secret);
	int           ri, ra;
	run(&ci, &ca, &ri, &ra);
	cr_assert(eq(int, ri, CST_HS_EPROOF));
	cr_assert(ne(int, ra, 1)); // the acceptor never saw a good proof
}

Test(handshake, a_forged_initiator_proof_is_refused_by_the_acceptor)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, other_secret,
		sizeof other_secret);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, secret, sizeof secret);
	cst_handshake i, a;
	cst_frame_buf to_a = {0}, to_i = {0};
	cr_assert(eq(int, cst_handshake_start(&i, &ci, CST_HS_INITIATOR,
				  &to_a), 0));
	cr_assert(eq(int, cst_handshake_start(&a, &ca, CST_HS_ACCEPTOR,
				  &to_i), 0));
	cr_assert(eq(int, deliver(&a, &to_a, &to_i), 0));
	// The initiator, holding another secret, proves with it anyway.
	uint8_t mac[CST_HS_MAC];
	cr_assert(eq(int, cst_hs_proof(other_secret, sizeof other_secret,
				  CST_HS_INITIATOR, i.mine, i.mine_len, a.mine,
				  a.mine_len, mac), 0));
	cst_frame_buf forged = {0};
	cst_frame_append(&forged, CST_FRAME_KIND_PROOF, mac, sizeof mac, 0);
	cr_assert(eq(int, deliver(&a, &forged, &to_i), CST_HS_EPROOF));
	cr_assert(eq(int, a.state, CST_HS_FAILED));
	cst_frame_buf_fini(&forged);
	cst_frame_buf_fini(&to_a);
	cst_frame_buf_fini(&to_i);
}

Test(handshake, the_acceptors_own_proof_reflected_back_is_refused)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, secret, sizeof secret);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, secret, sizeof secret);
	cst_handshake i, a;
	cst_frame_buf to_a = {0}, to_i = {0};
	cst_handshake_start(&i, &ci, CST_HS_INITIATOR, &to_a);
	cst_handshake_start(&a, &ca, CST_HS_ACCEPTOR, &to_i);
	cr_assert(eq(int, deliver(&a, &to_a, &to_i), 0));
	// to_i holds HELLO(A) then PROOF(A): send PROOF(A) back to A.
	size_t        hello = CST_FRAME_HEADER + a.mine_len;
	cst_frame_buf back = {0};
	cst_frame_buf_append_raw(&back, to_i.data + hello, to_i.len - hello);
	cr_assert(eq(int, deliver(&a, &back, &to_a), CST_HS_EPROOF));
	cst_frame_buf_fini(&back);
	cst_frame_buf_fini(&to_a);
	cst_frame_buf_fini(&to_i);
}

Test(handshake, a_secret_on_one_side_only_is_refused)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, NULL, 0);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, secret, sizeof secret);
	int           ri, ra;
	run(&ci, &ca, &ri, &ra);
	cr_assert(eq(int, ra, CST_HS_EAUTHMODE));
	run(&ca, &ci, &ri, &ra);
	cr_assert(eq(int, ra, CST_HS_EAUTHMODE));
}

Test(handshake, another_cluster_name_is_refused)
{
	cst_hs_config ci = config("10.0.0.1", 2551, 11, NULL, 0);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, NULL, 0);
	ci.cluster = "staging";
	int ri, ra;
	run(&ci, &ca, &ri, &ra);
	cr_assert(eq(int, ra, CST_HS_ECLUSTER));
	cr_assert(eq(int, ri, 0)); // it got no answer at all
}

static size_t
hello_bytes(uint8_t *buf, uint16_t version)
{
	cst_hs_hello h = {.version = version,
		.role = CST_HS_INITIATOR,
		.incarnation = 5,
		.port = 2551};
	strcpy(h.cluster, "prod");
	strcpy(h.host, "10.0.0.1");
	return cst_hs_hello_encode(&h, buf, CST_HS_MAX_HELLO);
}

static int
accept_hello(const uint8_t *body, size_t len)
{
	cst_hs_config ca = config("10.0.0.2", 2552, 22, NULL, 0);
	cst_handshake a;
	cst_frame_buf out = {0};
	cst_handshake_start(&a, &ca, CST_HS_ACCEPTOR, &out);
	cst_frame f = {.kind = CST_FRAME_KIND_HELLO, .body = body, .len = len};
	int       rc = cst_handshake_on_frame(&a, &f, &out, NULL, NULL);
	cst_frame_buf_fini(&out);
	return rc;
}

Test(handshake, another_version_is_refused)
{
	uint8_t buf[CST_HS_MAX_HELLO];
	size_t  n = hello_bytes(buf, CST_HS_VERSION);
	cr_assert(eq(int, accept_hello(buf, n), 1));
	n = hello_bytes(buf, CST_HS_VERSION + 1);
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EVERSION));
}

Test(handshake, bad_magic_and_every_truncation_and_padding_are_refused)
{
	uint8_t buf[CST_HS_MAX_HELLO + 8];
	size_t  n = hello_bytes(buf, CST_HS_VERSION);
	for (size_t cut = 0; cut < n; cut++) {
		cr_assert(lt(int, accept_hello(buf, cut), 0), "cut %zu", cut);
	}
	buf[n] = 0;
	cr_assert(eq(int, accept_hello(buf, n + 1), CST_HS_EMALFORMED));
	buf[0] = 'X';
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EMAGIC));
}

Test(handshake, a_peer_claiming_our_role_or_a_bad_field_is_refused)
{
	uint8_t buf[CST_HS_MAX_HELLO];
	size_t  n = hello_bytes(buf, CST_HS_VERSION);
	buf[7] = CST_HS_ACCEPTOR;
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EROLE));
	buf[7] = 9;
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EMALFORMED));
	n = hello_bytes(buf, CST_HS_VERSION);
	buf[6] = 0x80; // unknown flag
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EMALFORMED));
	n = hello_bytes(buf, CST_HS_VERSION);
	buf[16] = buf[17] = 0; // port 0
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EMALFORMED));
	n = hello_bytes(buf, CST_HS_VERSION);
	buf[50] = 200; // cluster name longer than allowed and than the body
	cr_assert(eq(int, accept_hello(buf, n), CST_HS_EMALFORMED));
}

Test(handshake, a_frame_out_of_order_is_refused)
{
	cst_hs_config ca = config("10.0.0.2", 2552, 22, secret, sizeof secret);
	cst_handshake a;
	cst_frame_buf out = {0};
	cst_handshake_start(&a, &ca, CST_HS_ACCEPTOR, &out);
	uint8_t   mac[CST_HS_MAC] = {0};
	cst_frame f = {.kind = CST_FRAME_KIND_PROOF, .body = mac, .len = 32};
	cr_assert(eq(int, cst_handshake_on_frame(&a, &f, &out, NULL, NULL),
		CST_HS_EUNEXPECTED));
	cr_assert(eq(sz, out.len, 0)); // nothing was said to it
	cst_frame_buf_fini(&out);
}

static int
refuse(void *arg, const cst_hs_hello *peer)
{
	(void)peer;
	*(int *)arg += 1;
	return CST_HS_EDUPLICATE;
}

Test(handshake, the_accept_callback_can_refuse_before_anything_is_sent)
{
	uint8_t buf[CST_HS_MAX_HELLO];
	size_t  n = hello_bytes(buf, CST_HS_VERSION);
	cst_hs_config ca = config("10.0.0.2", 2552, 22, NULL, 0);
	cst_handshake a;
	cst_frame_buf out = {0};
	int           asked = 0;
	cst_handshake_start(&a, &ca, CST_HS_ACCEPTOR, &out);
	cst_frame f = {.kind = CST_FRAME_KIND_HELLO, .body = buf, .len = n};
	cr_assert(eq(int, cst_handshake_on_frame(&a, &f, &out, refuse, &asked),
		CST_HS_EDUPLICATE));
	cr_assert(eq(int, asked, 1));
	cr_assert(eq(sz, out.len, 0));
	cst_frame_buf_fini(&out);
}
