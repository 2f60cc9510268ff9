// tests/persistence/test_msgpack_check.c: the bounded MessagePack
// validator (persistence/msgpack_check.c). Every kind of value is taken
// whole; every truncation, a byte too many, the reserved byte and
// container counts the input cannot hold are refused (the five-byte
// array header that overflowed msgpuck's own mp_check among them).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include <msgpuck.h>

#include "persistence/msgpack_check.h"

// One value of every kind, nested: [nil, true, false, -1, 300, -70000,
// 2^40, 1.5f, 2.5, "str", bin, ext, fixext, {"k": [1, 2]}, long string].
static size_t
every_kind(char *buf)
{
	char *w = mp_encode_array(buf, 15);
	w = mp_encode_nil(w);
	w = mp_encode_bool(w, true);
	w = mp_encode_bool(w, false);
	w = mp_encode_int(w, -1);
	w = mp_encode_uint(w, 300);
	w = mp_encode_int(w, -70000);
	w = mp_encode_uint(w, UINT64_C(1) << 40);
	w = mp_encode_float(w, 1.5f);
	w = mp_encode_double(w, 2.5);
	w = mp_encode_str(w, "str", 3);
	w = mp_encode_bin(w, "\x01\x02", 2);
	// ext8 of 10 bytes and fixext4, by hand (this msgpuck has no ext).
	memcpy(w, "\xc7\x0a\x07" "abcdefghij", 13);
	w += 13;
	memcpy(w, "\xd6\x07" "abcd", 6);
	w += 6;
	w = mp_encode_map(w, 1);
	w = mp_encode_str(w, "k", 1);
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, 1);
	w = mp_encode_uint(w, 2);
	char long_str[300];
	memset(long_str, 'x', sizeof long_str);
	w = mp_encode_str(w, long_str, sizeof long_str);
	return (size_t)(w - buf);
}

Test(msgpack_check, takes_every_kind_whole)
{
	char   buf[1024];
	size_t n = every_kind(buf);
	cr_assert(cst_msgpack_check(buf, n));
	// msgpuck agrees on well-formed input.
	const char *p = buf;
	cr_assert(eq(int, mp_check(&p, buf + n), 0));
	cr_assert(eq(ptr, (void *)p, buf + n));
}

Test(msgpack_check, refuses_every_truncation_and_a_byte_too_many)
{
	char   buf[1024];
	size_t n = every_kind(buf);
	for (size_t cut = 0; cut < n; cut++) {
		cr_assert(not(cst_msgpack_check(buf, cut)), "cut at %zu", cut);
	}
	buf[n] = 0;
	cr_assert(not(cst_msgpack_check(buf, n + 1)));
}

Test(msgpack_check, refuses_counts_the_input_cannot_hold)
{
	// array32 and map32 of 2^31 - 1 and 2^32 - 1 elements, then nothing
	// or a few bytes: msgpuck's mp_check overflowed an int on the first.
	static const unsigned char inputs[][9] = {
		{0xdd, 0x7f, 0xff, 0xff, 0xff},
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04},
		{0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x01, 0x01, 0x01},
		{0xdc, 0xff, 0xff, 0x01},
		{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, // str32 longer than input
		{0xc6, 0x00, 0x00, 0x10, 0x00},       // bin32 likewise
	};
	static const size_t lens[] = {5, 9, 9, 4, 6, 5};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		cr_assert(not(cst_msgpack_check(inputs[i], lens[i])), "input %zu",
			i);
	}
	// Nested fixarrays, each claiming 15 more: refused at once.
	unsigned char nested[64];
	memset(nested, 0x9f, sizeof nested);
	cr_assert(not(cst_msgpack_check(nested, sizeof nested)));
}

Test(msgpack_check, refuses_the_reserved_byte_and_empty_input)
{
	cr_assert(not(cst_msgpack_check("\xc1", 1)));
	cr_assert(not(cst_msgpack_check("\x91\xc1", 2)));
	cr_assert(not(cst_msgpack_check("", 0)));
	cr_assert(cst_msgpack_check("\x90", 1)); // an empty array
	cr_assert(cst_msgpack_check("\x80", 1)); // an empty map
}
