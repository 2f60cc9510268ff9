// persistence/record.h: the framing of one journal record on disk, and
// the one place that reads untrusted bytes (persistence/record.c).
//
// A record, little-endian, CRC32C over everything before the checksum:
//
//   0  u32 magic "CSJ1"       16 u64 sequence number
//   4  u8  kind (1 event, 2 snapshot)
//   5  u8  flags (bit 0: last record of its batch)
//   6  u8  entity id length (1..255)
//   7  u8  zero               24 entity id, then the payload
//   8  u32 total length       end - 4: u32 CRC32C
//   12 u32 payload length
#ifndef CASTY_PERSISTENCE_RECORD_H
#define CASTY_PERSISTENCE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CST_RECORD_EVENT = 1,
	CST_RECORD_SNAPSHOT = 2,
};

/** CST_RECORD_BATCH_END flags the last record of a persist's batch. */
#define CST_RECORD_BATCH_END 0x01u
#define CST_RECORD_MAGIC 0x314A5343u // "CSJ1" as bytes
#define CST_RECORD_HEADER 24u
#define CST_RECORD_TRAILER 4u

/** cst_record is one decoded record; pointers into the decoded buffer. */
typedef struct cst_record {
	uint8_t        kind;
	uint8_t        flags;
	uint8_t        entity_len;
	const char    *entity; // not NUL-terminated
	uint64_t       seq;
	const uint8_t *payload;
	uint32_t       payload_len;
	uint32_t       total_len; // header + entity + payload + checksum
} cst_record;

/** cst_record_size is the encoded size of a record. */
size_t cst_record_size(size_t entity_len, size_t payload_len);

/**
 * cst_record_encode writes one record (cst_record_size bytes) at out.
 * entity_len is 1..255 and payload_len at most CASTY_JOURNAL_MAX_RECORD
 * (the caller has checked). Thread: any.
 */
void cst_record_encode(uint8_t *out, uint8_t kind, uint8_t flags,
	const char *entity, size_t entity_len, uint64_t seq,
	const void *payload, size_t payload_len);

/**
 * cst_record_peek_len reads the total length from a header of at least
 * CST_RECORD_HEADER bytes, after checking every header field. Returns 0
 * with *total set, or CASTY_ECORRUPT. Thread: any.
 */
int cst_record_peek_len(const uint8_t *buf, size_t avail, uint32_t *total);

/**
 * cst_record_decode decodes the record at the start of buf (avail bytes
 * readable). Returns its total length (> 0) with *out set, 0 when buf
 * ends before the record does (a header that is valid so far), or
 * CASTY_ECORRUPT when a field is out of range or the checksum does not
 * match. Never reads past avail. Thread: any.
 */
int64_t cst_record_decode(const uint8_t *buf, size_t avail, cst_record *out);

#endif // CASTY_PERSISTENCE_RECORD_H
