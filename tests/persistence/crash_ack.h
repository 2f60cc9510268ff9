// tests/persistence/crash_ack.h: what the crash test's child reports
// through its pipe for each acknowledged batch.
#ifndef CASTY_TESTS_PERSISTENCE_CRASH_ACK_H
#define CASTY_TESTS_PERSISTENCE_CRASH_ACK_H

#include <stdint.h>

#define CRASH_ENTITIES 8
#define CRASH_MAX_BATCH 4
#define CRASH_FAILED UINT32_MAX // entity of a failure report

typedef struct crash_ack {
	uint32_t entity; // 0..CRASH_ENTITIES-1, or CRASH_FAILED
	uint32_t pad;
	uint64_t seq; // highest acknowledged seq (or the error)
} crash_ack;

#endif // CASTY_TESTS_PERSISTENCE_CRASH_ACK_H
