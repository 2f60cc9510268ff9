// persistence/record.c: encode and decode journal records (the format
// is in record.h). Decoding is the only code that reads bytes from disk
// before they are trusted: every length is checked against its bound and
// against the bytes available before it is used, and the checksum is
// verified before any field reaches the caller.
// Tested by: tests/persistence/test_record.c (every single-byte flip and
// every truncation is rejected) and tests/fuzz/fuzz_journal_record.c.
#include "persistence/record.h"

#include <string.h>

#include <casty/base.h>
#include <casty/journal.h>

#include "persistence/crc32c.h"

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

size_t
cst_record_size(size_t entity_len, size_t payload_len)
{
	return CST_RECORD_HEADER + entity_len + payload_len +
	       CST_RECORD_TRAILER;
}

void
cst_record_encode(uint8_t *out, uint8_t kind, uint8_t flags,
	const char *entity, size_t entity_len, uint64_t seq,
	const void *payload, size_t payload_len)
{
	size_t total = cst_record_size(entity_len, payload_len);

	put32(out, CST_RECORD_MAGIC);
	out[4] = kind;
	out[5] = flags;
	out[6] = (uint8_t)entity_len;
	out[7] = 0;
	put32(out + 8, (uint32_t)total);
	put32(out + 12, (uint32_t)payload_len);
	put64(out + 16, seq);
	memcpy(out + CST_RECORD_HEADER, entity, entity_len);
	if (payload_len > 0) {
		memcpy(out + CST_RECORD_HEADER + entity_len, payload,
			payload_len);
	}
	put32(out + total - CST_RECORD_TRAILER,
		cst_crc32c_update(0, out, total - CST_RECORD_TRAILER));
}

int
cst_record_peek_len(const uint8_t *buf, size_t avail, uint32_t *total)
{
	if (avail < CST_RECORD_HEADER || get32(buf) != CST_RECORD_MAGIC) {
		return CASTY_ECORRUPT;
	}
	uint8_t  kind = buf[4], flags = buf[5], entity_len = buf[6];
	uint32_t len = get32(buf + 8), payload_len = get32(buf + 12);
	if ((kind != CST_RECORD_EVENT && kind != CST_RECORD_SNAPSHOT) ||
	    (flags & ~CST_RECORD_BATCH_END) != 0 || entity_len == 0 ||
	    buf[7] != 0 || payload_len > CASTY_JOURNAL_MAX_RECORD ||
	    len != cst_record_size(entity_len, payload_len)) {
		return CASTY_ECORRUPT;
	}
	// A snapshot stands alone; an event has a sequence number >= 1.
	if (kind == CST_RECORD_SNAPSHOT && flags != CST_RECORD_BATCH_END) {
		return CASTY_ECORRUPT;
	}
	if (kind == CST_RECORD_EVENT && get64(buf + 16) == 0) {
		return CASTY_ECORRUPT;
	}
	*total = len;
	return 0;
}

int64_t
cst_record_decode(const uint8_t *buf, size_t avail, cst_record *out)
{
	uint32_t total;

	if (avail < CST_RECORD_HEADER) {
		// Judge what is there: a wrong prefix is garbage, not short.
		static const uint8_t magic[4] = {'C', 'S', 'J', '1'};
		size_t n = avail < 4 ? avail : 4;
		return memcmp(buf, magic, n) == 0 ? 0 : CASTY_ECORRUPT;
	}
	if (cst_record_peek_len(buf, avail, &total) != 0) {
		return CASTY_ECORRUPT;
	}
	if (avail < total) {
		return 0;
	}
	uint32_t want = get32(buf + total - CST_RECORD_TRAILER);
	if (cst_crc32c_update(0, buf, total - CST_RECORD_TRAILER) != want) {
		return CASTY_ECORRUPT;
	}
	out->kind = buf[4];
	out->flags = buf[5];
	out->entity_len = buf[6];
	out->payload_len = get32(buf + 12);
	out->seq = get64(buf + 16);
	out->entity = (const char *)buf + CST_RECORD_HEADER;
	out->payload = buf + CST_RECORD_HEADER + out->entity_len;
	out->total_len = total;
	return total;
}
