// tests/fuzz/fuzz_journal_record.c: libFuzzer target for the journal's
// record reader (persistence/record.c), the code that reads bytes from
// disk before they are trusted: on any input, decoding walks record
// after record and never reads out of bounds, and never accepts a record
// whose stored CRC32C does not match its bytes (checked here again with
// an independent bitwise CRC) or whose fields are out of range. Built
// and run by tools/fuzz.sh.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <casty/journal.h>

#include "persistence/record.h"

// Bitwise CRC32C, deliberately not the table code under test.
static uint32_t
slow_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++) {
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
		}
	}
	return ~crc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		cst_record rec;
		int64_t    n = cst_record_decode(data + off, size - off, &rec);
		if (n <= 0) {
			break;
		}
		const uint8_t *r = data + off;
		uint32_t       stored;
		if ((size_t)n > size - off || n != rec.total_len ||
		    rec.entity_len == 0 ||
		    rec.payload_len > CASTY_JOURNAL_MAX_RECORD ||
		    (rec.kind != CST_RECORD_EVENT &&
			    rec.kind != CST_RECORD_SNAPSHOT) ||
		    (const uint8_t *)rec.entity != r + CST_RECORD_HEADER ||
		    rec.payload + rec.payload_len !=
			    r + rec.total_len - CST_RECORD_TRAILER) {
			abort();
		}
		memcpy(&stored, r + n - 4, 4); // little-endian host
		if (slow_crc32c(r, (size_t)n - 4) != stored) {
			abort(); // accepted a record whose checksum is wrong
		}
		off += (size_t)n;
	}
	// The header check alone, on whatever is left.
	uint32_t total;
	if (size - off >= CST_RECORD_HEADER &&
	    cst_record_peek_len(data + off, size - off, &total) == 0 &&
	    total < CST_RECORD_HEADER + 1 + CST_RECORD_TRAILER) {
		abort();
	}
	return 0;
}
