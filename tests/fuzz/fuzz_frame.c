// tests/fuzz/fuzz_frame.c: libFuzzer target for the transport's input
// parsers: the incremental frame decoder (cluster/frame.c) and the
// handshake (cluster/handshake.c). The first two bytes choose the
// maximum frame size and how the rest is split into reads; the rest is
// the stream. The decoder must agree, frame for frame and on its final
// verdict, with a one-shot reference parser written here, whatever the
// split; it must never hand out a frame above the maximum or read out of
// bounds. Every frame also goes to the HELLO parser (a HELLO that parses
// must re-encode to the same bytes) and to two handshake state machines,
// one with a secret, one without. Built and run by tools/fuzz.sh.
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"
#include "cluster/handshake.h"

#define MAX_FRAMES 4096

typedef struct ref_frame {
	size_t  off, len; // the body, in the stream
	uint8_t kind;
} ref_frame;

static ref_frame frames[MAX_FRAMES];

// The reference: the whole stream at once. Returns the verdict the
// decoder must reach at the end (MORE, MALFORMED or OVERSIZED).
static int
reference(const uint8_t *s, size_t len, uint32_t max, size_t *n)
{
	size_t off = 0;
	*n = 0;
	for (;;) {
		if (len - off < CST_FRAME_HEADER) {
			return CST_FRAME_MORE;
		}
		uint32_t l = (uint32_t)s[off] << 24 | (uint32_t)s[off + 1] << 16 |
			     (uint32_t)s[off + 2] << 8 | s[off + 3];
		if (l == 0) {
			return CST_FRAME_MALFORMED;
		}
		if (l > max) {
			return CST_FRAME_OVERSIZED;
		}
		if (len - off - CST_FRAME_HEADER < l - 1 || *n == MAX_FRAMES) {
			return CST_FRAME_MORE;
		}
		frames[*n] = (ref_frame){.off = off + CST_FRAME_HEADER,
			.len = l - 1,
			.kind = s[off + 4]};
		(*n)++;
		off += CST_FRAME_HEADER + l - 1;
	}
}

static const uint8_t secret[] = "fuzz";

static void
handshake_with(const cst_frame *f)
{
	static const cst_hs_config plain = {.cluster = "fuzz",
		.host = "127.0.0.1",
		.port = 2551,
		.incarnation = 1};
	static const cst_hs_config authed = {.cluster = "fuzz",
		.host = "127.0.0.1",
		.port = 2552,
		.incarnation = 2,
		.secret = secret,
		.secret_len = sizeof secret - 1};
	cst_handshake hs;
	cst_frame_buf out = {0};
	if (cst_handshake_start(&hs, &plain, CST_HS_ACCEPTOR, &out) == 0) {
		int rc = cst_handshake_on_frame(&hs, f, &out, NULL, NULL);
		if (rc < -10 && rc != -12) { // -12: -ENOMEM
			abort();
		}
	}
	cst_frame_buf_fini(&out);
	if (cst_handshake_start(&hs, &authed, CST_HS_INITIATOR, &out) == 0) {
		int rc = cst_handshake_on_frame(&hs, f, &out, NULL, NULL);
		// Nobody without the secret gets an initiator to done.
		if (rc == 1) {
			abort();
		}
	}
	cst_frame_buf_fini(&out);

	cst_hs_hello h;
	if (cst_hs_hello_decode(f->body, f->len, &h) == 0) {
		uint8_t again[CST_HS_MAX_HELLO];
		size_t  n = cst_hs_hello_encode(&h, again, sizeof again);
		if (n != f->len || memcmp(again, f->body, n) != 0) {
			abort(); // what parses must be exactly what was sent
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return 0;
	}
	uint32_t max = 1 + (uint32_t)data[0] * 4; // 1 .. 1021
	uint32_t rng = data[1] * 2654435761u + 1;
	const uint8_t *s = data + 2;
	size_t         len = size - 2;
	size_t         nref;
	int            verdict = reference(s, len, max, &nref);

	cst_frame_decoder d;
	cst_frame_decoder_init(&d, max);
	size_t off = 0, got = 0;
	int    rc = CST_FRAME_MORE;
	while (off < len && rc >= 0) {
		rng = rng * 1103515245u + 12345u;
		size_t chunk = 1 + (rng >> 16) % 64;
		chunk = chunk > len - off ? len - off : chunk;
		// Each read in its own block, so ASan sees a read past it.
		uint8_t *buf = malloc(chunk);
		memcpy(buf, s + off, chunk);
		size_t pos = 0;
		while (pos < chunk) {
			cst_frame f;
			size_t    used;
			rc = cst_frame_decode(&d, buf + pos, chunk - pos, &used,
				&f);
			if (used > chunk - pos) {
				abort();
			}
			pos += used;
			if (rc < 0) {
				break;
			}
			if (rc == CST_FRAME_MORE) {
				if (pos != chunk) {
					abort(); // MORE must take everything
				}
				break;
			}
			if (f.len + 1 > max || got >= nref ||
			    f.kind != frames[got].kind ||
			    f.len != frames[got].len ||
			    memcmp(f.body, s + frames[got].off, f.len) != 0) {
				abort(); // disagrees with the reference
			}
			got++;
			handshake_with(&f);
		}
		free(buf);
		off += chunk;
	}
	if (got != nref && got != MAX_FRAMES) {
		abort();
	}
	if (got == nref && nref < MAX_FRAMES && rc != verdict &&
	    !(rc == CST_FRAME_READY && verdict == CST_FRAME_MORE)) {
		abort(); // a different final verdict
	}
	cst_frame_decoder_fini(&d);
	return 0;
}
