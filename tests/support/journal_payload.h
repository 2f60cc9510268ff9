// tests/support/journal_payload.h: the payload of event seq of an
// entity in the journal tests: recognisable bytes, so that a load can
// tell a right event from a wrong or damaged one, with a length that
// varies from 0 to 60.
#ifndef CASTY_TESTS_SUPPORT_JOURNAL_PAYLOAD_H
#define CASTY_TESTS_SUPPORT_JOURNAL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TEST_PAYLOAD_MAX 64

static inline size_t
test_payload(const char *entity, uint64_t seq, uint8_t *out, size_t cap)
{
	size_t len = (size_t)((seq * 37 + strlen(entity)) % 61);
	if (seq % 7 == 0) {
		len = 0;
	}
	if (len > cap) {
		len = cap;
	}
	for (size_t i = 0; i < len; i++) {
		out[i] = (uint8_t)(entity[i % strlen(entity)] + seq + i);
	}
	return len;
}

#endif // CASTY_TESTS_SUPPORT_JOURNAL_PAYLOAD_H
