// tests/cluster/test_frame.c: the frame codec (cluster/frame.c): frames
// come out whole and in order however the stream is split, lengths are
// checked before anything is allocated, and garbage is refused for good.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"

TestSuite(frame, .timeout = 60);

// A stream of frames of varied kinds and sizes (0, 1, and across the
// 5-byte header), with bodies that say which frame they belong to.
#define NFRAMES 12

static size_t
body_len_of(int i)
{
	static const size_t lens[NFRAMES] = {
		0, 1, 2, 4, 5, 6, 17, 100, 255, 0, 3, 1000};
	return lens[i];
}

static void
fill_body(int i, uint8_t *b)
{
	for (size_t k = 0; k < body_len_of(i); k++) {
		b[k] = (uint8_t)(i * 31 + k);
	}
}

static void
make_stream(cst_frame_buf *out)
{
	uint8_t body[1000];
	for (int i = 0; i < NFRAMES; i++) {
		fill_body(i, body);
		cr_assert(eq(int, cst_frame_append(out, (uint8_t)(16 + i), body,
					  body_len_of(i), 0), 0));
	}
}

// Feeds buf[0..len) to d, checking every frame that comes out against
// the stream's; returns how many came out.
static int
feed(cst_frame_decoder *d, const uint8_t *buf, size_t len, int next)
{
	uint8_t want[1000];
	while (len > 0) {
		cst_frame f;
		size_t    used;
		int       rc = cst_frame_decode(d, buf, len, &used, &f);
		cr_assert(ge(int, rc, 0));
		cr_assert(le(sz, used, len));
		buf += used;
		len -= used;
		if (rc == CST_FRAME_READY) {
			cr_assert(lt(int, next, NFRAMES));
			cr_assert(eq(u8, f.kind, (uint8_t)(16 + next)));
			cr_assert(eq(sz, f.len, body_len_of(next)));
			fill_body(next, want);
			cr_assert(eq(int, memcmp(f.body, want, f.len), 0));
			next++;
		} else {
			cr_assert(eq(sz, len, 0)); // MORE means all was taken
		}
	}
	return next;
}

Test(frame, every_split_point_of_a_stream_yields_every_frame_in_order)
{
	cst_frame_buf s = {0};
	make_stream(&s);
	for (size_t cut = 0; cut <= s.len; cut++) {
		cst_frame_decoder d;
		cst_frame_decoder_init(&d, 0);
		int n = feed(&d, s.data, cut, 0);
		n = feed(&d, s.data + cut, s.len - cut, n);
		cr_assert(eq(int, n, NFRAMES), "cut at %zu", cut);
		cst_frame_decoder_fini(&d);
	}
	cst_frame_buf_fini(&s);
}

Test(frame, two_split_points_and_byte_by_byte_feeding_agree)
{
	cst_frame_buf s = {0};
	make_stream(&s);
	// Two cuts, over the first 300 bytes (every header and small body).
	for (size_t a = 0; a < 300; a += 3) {
		for (size_t b = a; b < 300; b += 7) {
			cst_frame_decoder d;
			cst_frame_decoder_init(&d, 0);
			int n = feed(&d, s.data, a, 0);
			n = feed(&d, s.data + a, b - a, n);
			n = feed(&d, s.data + b, s.len - b, n);
			cr_assert(eq(int, n, NFRAMES));
			cst_frame_decoder_fini(&d);
		}
	}
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, 0);
	int n = 0;
	for (size_t i = 0; i < s.len; i++) {
		n = feed(&d, s.data + i, 1, n);
	}
	cr_assert(eq(int, n, NFRAMES));
	cst_frame_decoder_fini(&d);
	cst_frame_buf_fini(&s);
}

Test(frame, an_oversized_length_is_refused_from_its_header_alone)
{
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, 64);
	// Length 65 = kind + 64 bytes: one more than the maximum. Only the
	// header is given, so the decoder cannot have waited for the body.
	uint8_t   head[CST_FRAME_HEADER] = {0, 0, 0, 65, 16};
	cst_frame f;
	size_t    used;
	cr_assert(eq(int, cst_frame_decode(&d, head, 4, &used, &f),
		CST_FRAME_MORE));
	cr_assert(eq(int, cst_frame_decode(&d, head + 4, 1, &used, &f),
		CST_FRAME_OVERSIZED));
	cr_assert(eq(ptr, d.body, NULL)); // nothing was allocated for it
	// A 4 GiB claim, likewise.
	cst_frame_decoder_init(&d, 0);
	uint8_t huge[CST_FRAME_HEADER] = {0xff, 0xff, 0xff, 0xff, 16};
	cr_assert(eq(int, cst_frame_decode(&d, huge, 5, &used, &f),
		CST_FRAME_OVERSIZED));
	cr_assert(eq(ptr, d.body, NULL));
	cst_frame_decoder_fini(&d);
}

Test(frame, the_largest_allowed_frame_passes_split_in_two)
{
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, 64);
	cst_frame_buf b = {0};
	uint8_t       body[63];
	memset(body, 7, sizeof body);
	cr_assert(eq(int, cst_frame_append(&b, 20, body, 63, 64), 0));
	cr_assert(eq(int, cst_frame_append(&b, 20, body, 64, 64), -EMSGSIZE));
	cst_frame f;
	size_t    used;
	cr_assert(eq(int, cst_frame_decode(&d, b.data, 30, &used, &f),
		CST_FRAME_MORE));
	cr_assert(eq(int, cst_frame_decode(&d, b.data + 30, b.len - 30, &used,
				  &f), CST_FRAME_READY));
	cr_assert(eq(sz, f.len, 63));
	cr_assert(eq(int, memcmp(f.body, body, 63), 0));
	cst_frame_decoder_fini(&d);
	cst_frame_buf_fini(&b);
}

Test(frame, a_zero_length_is_garbage_and_the_error_sticks)
{
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, 0);
	uint8_t   zero[8] = {0};
	cst_frame f;
	size_t    used;
	cr_assert(eq(int, cst_frame_decode(&d, zero, 8, &used, &f),
		CST_FRAME_MALFORMED));
	cst_frame_buf b = {0};
	cr_assert(eq(int, cst_frame_append(&b, 16, "x", 1, 0), 0));
	// A good frame after garbage is not believed: no resynchronising.
	cr_assert(eq(int, cst_frame_decode(&d, b.data, b.len, &used, &f),
		CST_FRAME_MALFORMED));
	cst_frame_decoder_fini(&d);
	cst_frame_buf_fini(&b);
}

Test(frame, random_garbage_never_yields_a_frame_above_the_maximum)
{
	srand(7);
	uint8_t junk[4096];
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof junk; i++) {
			junk[i] = (uint8_t)rand();
		}
		cst_frame_decoder d;
		cst_frame_decoder_init(&d, 1024);
		const uint8_t *p = junk;
		size_t         left = sizeof junk;
		int            rc = 0;
		while (left > 0 && rc >= 0) {
			cst_frame f;
			size_t    used;
			size_t    chunk = 1 + (size_t)rand() % 64;
			chunk = chunk > left ? left : chunk;
			rc = cst_frame_decode(&d, p, chunk, &used, &f);
			if (rc == CST_FRAME_READY) {
				cr_assert(lt(sz, f.len, 1024));
			}
			p += used;
			left -= used;
		}
		cst_frame_decoder_fini(&d);
	}
}

Test(frame, the_encoder_appends_many_frames_into_one_buffer)
{
	cst_frame_buf b = {0};
	for (int i = 0; i < 1000; i++) {
		uint32_t v = (uint32_t)i;
		cr_assert(eq(int, cst_frame_append(&b, 17, &v, sizeof v, 0), 0));
	}
	cr_assert(eq(sz, b.len, 1000 * (CST_FRAME_HEADER + 4)));
	// Byte by byte: length 5 big-endian, kind 17, then the body.
	cr_assert(eq(u8, b.data[0], 0));
	cr_assert(eq(u8, b.data[3], 5));
	cr_assert(eq(u8, b.data[4], 17));
	cst_frame_decoder d;
	cst_frame_decoder_init(&d, 0);
	const uint8_t *p = b.data;
	size_t         left = b.len;
	uint32_t       next = 0;
	while (left > 0) {
		cst_frame f;
		size_t    used;
		cr_assert(eq(int, cst_frame_decode(&d, p, left, &used, &f),
			CST_FRAME_READY));
		uint32_t v;
		memcpy(&v, f.body, 4);
		cr_assert(eq(u32, v, next++));
		p += used;
		left -= used;
	}
	cr_assert(eq(u32, next, 1000));
	cst_frame_decoder_fini(&d);
	cst_frame_buf_fini(&b);
}
