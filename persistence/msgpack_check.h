// persistence/msgpack_check.h: checks that bytes hold one whole
// MessagePack value before anything reads them.
//
// msgpuck's own mp_check counts the values still to read in an int and
// adds a container's declared size to it unchecked: a five-byte array
// header claiming 2^31 - 1 elements overflows that count (undefined
// behaviour, found by tests/fuzz/fuzz_remote_message.c). This checker
// counts in size_t and refuses a count that the remaining bytes cannot
// hold (every value takes at least one byte), so it never overflows and
// never loops longer than the input is long.
#ifndef CASTY_PERSISTENCE_MSGPACK_CHECK_H
#define CASTY_PERSISTENCE_MSGPACK_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/**
 * cst_msgpack_check tells whether data[0..len) is exactly one well-formed
 * MessagePack value (nested containers, strings and the rest whole, no
 * byte left over; the reserved byte 0xc1 refused).
 */
bool cst_msgpack_check(const void *data, size_t len);

#endif // CASTY_PERSISTENCE_MSGPACK_CHECK_H
