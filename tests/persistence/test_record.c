// tests/persistence/test_record.c: record framing (persistence/record.c):
// a round trip, and the rejection of every single-byte change and every
// truncation of an encoded record.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include <casty/base.h>

#include "persistence/record.h"

TestSuite(record);

static size_t
encode_sample(uint8_t *buf, uint8_t kind, uint8_t flags)
{
	const char *entity = "account-42";
	const char *payload = "\x94\x01\xa9" "Deposited";
	size_t      size = cst_record_size(strlen(entity), strlen(payload));
	cst_record_encode(buf, kind, flags, entity, strlen(entity), 7,
		payload, strlen(payload));
	return size;
}

Test(record, round_trips_every_field)
{
	uint8_t    buf[128];
	size_t     size = encode_sample(buf, CST_RECORD_EVENT,
			    CST_RECORD_BATCH_END);
	cst_record rec;
	cr_assert(eq(i64, cst_record_decode(buf, size, &rec), (int64_t)size));
	cr_assert(eq(u8, rec.kind, CST_RECORD_EVENT));
	cr_assert(eq(u8, rec.flags, CST_RECORD_BATCH_END));
	cr_assert(eq(u64, rec.seq, 7));
	cr_assert(eq(u8, rec.entity_len, 10));
	cr_assert(memcmp(rec.entity, "account-42", 10) == 0);
	cr_assert(eq(u32, rec.payload_len, 12));
	cr_assert(memcmp(rec.payload, "\x94\x01\xa9" "Deposited", 12) == 0);
	cr_assert(eq(u32, rec.total_len, (uint32_t)size));
	// Trailing bytes belong to the next record.
	cr_assert(eq(i64, cst_record_decode(buf, sizeof buf, &rec),
		(int64_t)size));
}

Test(record, an_empty_payload_round_trips)
{
	uint8_t    buf[64];
	cst_record rec;
	cst_record_encode(buf, CST_RECORD_SNAPSHOT, CST_RECORD_BATCH_END, "e",
		1, 0, NULL, 0);
	cr_assert(eq(i64, cst_record_decode(buf, sizeof buf, &rec),
		(int64_t)cst_record_size(1, 0)));
	cr_assert(eq(u32, rec.payload_len, 0));
}

Test(record, every_single_byte_change_is_rejected)
{
	uint8_t buf[128], copy[128];
	size_t  size = encode_sample(buf, CST_RECORD_EVENT, 0);
	for (size_t i = 0; i < size; i++) {
		for (int bit = 0; bit < 8; bit++) {
			cst_record rec;
			memcpy(copy, buf, size);
			copy[i] ^= (uint8_t)(1u << bit);
			int64_t rc = cst_record_decode(copy, size, &rec);
			cr_assert(rc <= 0, "flip of bit %d of byte %zu accepted",
				bit, i);
		}
		// And a whole-byte change, not only single bits.
		memcpy(copy, buf, size);
		copy[i] = (uint8_t)~copy[i];
		cst_record rec;
		cr_assert(cst_record_decode(copy, size, &rec) <= 0);
	}
}

Test(record, every_truncation_is_rejected)
{
	uint8_t buf[128];
	size_t  size = encode_sample(buf, CST_RECORD_SNAPSHOT,
		 CST_RECORD_BATCH_END);
	for (size_t len = 0; len < size; len++) {
		cst_record rec;
		cr_assert(eq(i64, cst_record_decode(buf, len, &rec), 0),
			"truncation to %zu", len);
	}
}

Test(record, garbage_and_bad_fields_are_corrupt)
{
	uint8_t    buf[128];
	cst_record rec;
	memset(buf, 0xab, sizeof buf);
	cr_assert(eq(i64, cst_record_decode(buf, sizeof buf, &rec),
		CASTY_ECORRUPT));
	cr_assert(eq(i64, cst_record_decode(buf, 3, &rec), CASTY_ECORRUPT));
	// A snapshot must end its batch; an event needs seq >= 1.
	size_t size = encode_sample(buf, CST_RECORD_SNAPSHOT, 0);
	cr_assert(eq(i64, cst_record_decode(buf, size, &rec), CASTY_ECORRUPT));
	cst_record_encode(buf, CST_RECORD_EVENT, 0, "e", 1, 0, "x", 1);
	cr_assert(eq(i64, cst_record_decode(buf, sizeof buf, &rec),
		CASTY_ECORRUPT));
}
