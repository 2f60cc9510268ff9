// cluster/frame.c: the frame decoder and encoder (see frame.h).
//
// The decoder hands out bodies without copying whenever a body lies
// whole in the caller's buffer (the common case: one recv holds many
// frames); only a body split across reads is assembled, into a block
// allocated once its length has been checked against the maximum, and
// freed on the next call.
#include "cluster/frame.h"

#include <errno.h>
#include <string.h>

#include "runtime/alloc.h"

static uint32_t
clamp_max(uint32_t max)
{
	if (max == 0) {
		return CST_FRAME_DEFAULT_MAX;
	}
	return max > CST_FRAME_MAX_LIMIT ? CST_FRAME_MAX_LIMIT : max;
}

void
cst_frame_decoder_init(cst_frame_decoder *d, uint32_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = clamp_max(max);
}

void
cst_frame_decoder_set_max(cst_frame_decoder *d, uint32_t max)
{
	d->max = clamp_max(max);
}

static void
drop_body(cst_frame_decoder *d)
{
	cst_free_sized(d->body, d->body_cap);
	d->body = NULL;
	d->body_cap = 0;
}

void
cst_frame_decoder_fini(cst_frame_decoder *d)
{
	drop_body(d);
	d->head_len = 0;
	d->body_have = 0;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int
fail(cst_frame_decoder *d, int err, size_t off, size_t *used)
{
	d->failed = err;
	drop_body(d);
	*used = off;
	return err;
}

int
cst_frame_decode(cst_frame_decoder *d, const uint8_t *buf, size_t len,
	size_t *used, cst_frame *out)
{
	size_t off = 0;

	*used = 0;
	if (d->failed != 0) {
		return d->failed;
	}
	// The body handed out by the last call is no longer the caller's.
	if (d->body != NULL && d->head_len == 0) {
		drop_body(d);
	}
	while (d->head_len < CST_FRAME_HEADER) {
		if (off == len) {
			*used = off;
			return CST_FRAME_MORE;
		}
		d->head[d->head_len++] = buf[off++];
		if (d->head_len == CST_FRAME_HEADER) {
			uint32_t n = be32(d->head);
			// Checked before anything is allocated for it.
			if (n == 0) {
				return fail(d, CST_FRAME_MALFORMED, off, used);
			}
			if (n > d->max) {
				return fail(d, CST_FRAME_OVERSIZED, off, used);
			}
			d->body_len = n - 1;
			d->body_have = 0;
		}
	}
	size_t left = len - off;
	if (d->body == NULL) {
		if (left >= d->body_len) { // whole in buf: no copy
			out->kind = d->head[4];
			out->body = buf + off;
			out->len = d->body_len;
			d->head_len = 0;
			*used = off + d->body_len;
			return CST_FRAME_READY;
		}
		if (left == 0) {
			*used = off;
			return CST_FRAME_MORE;
		}
		d->body = cst_alloc(d->body_len);
		if (d->body == NULL) {
			return fail(d, CST_FRAME_NOMEM, off, used);
		}
		d->body_cap = d->body_len;
	}
	size_t want = d->body_len - d->body_have;
	size_t take = left < want ? left : want;
	memcpy(d->body + d->body_have, buf + off, take);
	d->body_have += (uint32_t)take;
	off += take;
	*used = off;
	if (d->body_have < d->body_len) {
		return CST_FRAME_MORE;
	}
	out->kind = d->head[4];
	out->body = d->body;
	out->len = d->body_len;
	d->head_len = 0; // the body is dropped at the next call
	return CST_FRAME_READY;
}

void
cst_frame_head(uint8_t head[CST_FRAME_HEADER], uint8_t kind, size_t len)
{
	uint32_t n = (uint32_t)len + 1;
	head[0] = (uint8_t)(n >> 24);
	head[1] = (uint8_t)(n >> 16);
	head[2] = (uint8_t)(n >> 8);
	head[3] = (uint8_t)n;
	head[4] = kind;
}

static int
reserve(cst_frame_buf *b, size_t more)
{
	if (more > SIZE_MAX / 2 - b->len) {
		return -ENOMEM;
	}
	size_t need = b->len + more;
	if (need <= b->cap) {
		return 0;
	}
	size_t cap = b->cap < 4096 ? 4096 : b->cap;
	while (cap < need) {
		cap *= 2;
	}
	uint8_t *grown = cst_alloc(cap);
	if (grown == NULL) {
		return -ENOMEM;
	}
	if (b->len > 0) {
		memcpy(grown, b->data, b->len);
	}
	cst_free_sized(b->data, b->cap);
	b->data = grown;
	b->cap = cap;
	return 0;
}

int
cst_frame_append(cst_frame_buf *b, uint8_t kind, const void *body,
	size_t len, uint32_t max)
{
	if (len >= clamp_max(max)) { // 1 + len > max
		return -EMSGSIZE;
	}
	if (reserve(b, CST_FRAME_HEADER + len) != 0) {
		return -ENOMEM;
	}
	cst_frame_head(b->data + b->len, kind, len);
	if (len > 0) {
		memcpy(b->data + b->len + CST_FRAME_HEADER, body, len);
	}
	b->len += CST_FRAME_HEADER + len;
	return 0;
}

int
cst_frame_buf_append_raw(cst_frame_buf *b, const void *bytes, size_t len)
{
	if (reserve(b, len) != 0) {
		return -ENOMEM;
	}
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
	return 0;
}

void
cst_frame_buf_fini(cst_frame_buf *b)
{
	cst_free_sized(b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
}
