// cluster/frame.h: the transport's frames: a u32 big-endian length, a
// kind byte, then the body. The length counts the kind byte and the body
// (everything after the length field), so it is never 0.
//
// The decoder is incremental: bytes go in as the socket hands them over,
// split anywhere, and frames come out one at a time. It checks a length
// against its maximum before it allocates anything, so a peer cannot make
// it reserve more than max bytes. The encoder appends frames to one
// growing buffer, so that every frame queued while a write was in flight
// goes out in the next single write.
#ifndef CASTY_CLUSTER_FRAME_H
#define CASTY_CLUSTER_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define CST_FRAME_HEADER 5u                 // length (4) + kind (1)
#define CST_FRAME_DEFAULT_MAX (4u << 20)    // kind + body, 4 MiB
#define CST_FRAME_MAX_LIMIT (1u << 30)      // no maximum may exceed this

// Kinds below CST_FRAME_KIND_USER belong to the transport itself (the
// handshake); the layers above send kinds from CST_FRAME_KIND_USER up.
enum {
	CST_FRAME_KIND_HELLO = 1,
	CST_FRAME_KIND_PROOF = 2,
	CST_FRAME_KIND_USER = 16,
};

/** cst_frame is one decoded frame; body is borrowed (see decode). */
typedef struct cst_frame {
	uint8_t        kind;
	const uint8_t *body;
	size_t         len;
} cst_frame;

/** Results of cst_frame_decode. */
enum {
	CST_FRAME_MORE = 0,       // every byte taken; the frame is not whole
	CST_FRAME_READY = 1,      // *out holds a frame
	CST_FRAME_MALFORMED = -1, // length 0: the stream is garbage
	CST_FRAME_OVERSIZED = -2, // length above max: refused unread
	CST_FRAME_NOMEM = -3,     // the body could not be allocated
};

/**
 * cst_frame_decoder holds a frame that arrived in pieces. Its fields are
 * the decoder's; set max with cst_frame_decoder_init or _set_max only.
 */
typedef struct cst_frame_decoder {
	uint32_t max;      // largest accepted length (kind + body)
	uint8_t  head[CST_FRAME_HEADER];
	uint32_t head_len; // bytes of head held
	uint8_t *body;     // the body being assembled, body_cap bytes
	uint32_t body_len; // its full length, once the head is whole
	uint32_t body_have;
	uint32_t body_cap;
	int      failed;   // sticky: a malformed stream stays malformed
} cst_frame_decoder;

/**
 * cst_frame_decoder_init readies d for a new stream with a maximum of
 * max bytes per frame (kind + body; 0 means CST_FRAME_DEFAULT_MAX, and
 * values above CST_FRAME_MAX_LIMIT are clamped). Allocates nothing.
 */
void cst_frame_decoder_init(cst_frame_decoder *d, uint32_t max);

/**
 * cst_frame_decoder_set_max changes the maximum for the frames whose
 * header has not arrived yet (the handshake uses a small one).
 */
void cst_frame_decoder_set_max(cst_frame_decoder *d, uint32_t max);

/** cst_frame_decoder_fini frees what d holds; d may be reinitialised. */
void cst_frame_decoder_fini(cst_frame_decoder *d);

/**
 * cst_frame_decode takes bytes from buf[0..len) until one frame is whole
 * (CST_FRAME_READY, *out set) or the bytes run out (CST_FRAME_MORE); in
 * both cases *used says how many bytes it took, and the caller calls
 * again with the rest. out->body points into buf or into d, and stays
 * valid until the next call on d (or its fini). A negative result is
 * final: the stream cannot be resynchronised and the connection should
 * be closed; every later call returns the same error.
 */
int cst_frame_decode(cst_frame_decoder *d, const uint8_t *buf, size_t len,
	size_t *used, cst_frame *out);

/** cst_frame_buf is a growable output buffer of encoded frames. */
typedef struct cst_frame_buf {
	uint8_t *data;
	size_t   len, cap;
} cst_frame_buf;

/**
 * cst_frame_append encodes one frame (kind, body of len bytes) at the end
 * of b, growing it. Returns 0, -EMSGSIZE when 1 + len exceeds max (0:
 * CST_FRAME_DEFAULT_MAX), or -ENOMEM (b unchanged on failure).
 */
int cst_frame_append(cst_frame_buf *b, uint8_t kind, const void *body,
	size_t len, uint32_t max);

/**
 * cst_frame_buf_append_raw appends len bytes that are already encoded
 * frames. Returns 0 or -ENOMEM (b unchanged).
 */
int cst_frame_buf_append_raw(cst_frame_buf *b, const void *bytes, size_t len);

/** cst_frame_head writes the 5-byte header of a frame of kind + len. */
void cst_frame_head(uint8_t head[CST_FRAME_HEADER], uint8_t kind, size_t len);

/** cst_frame_buf_fini frees b's memory and empties it. */
void cst_frame_buf_fini(cst_frame_buf *b);

#endif // CASTY_CLUSTER_FRAME_H
