// tests/persistence/test_codec.c: events and states as MessagePack
// through their schema: round trips of every field kind, and refusal of
// records of another type, another version of the type, truncated or
// out-of-range ones.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include <casty/casty.h>

#include <msgpuck.h>

#include "persistence/codec.h"
#include "runtime/type_registry.h"

TestSuite(codec, .timeout = 60);

typedef struct {
	int8_t    i8;
	int16_t   i16;
	int32_t   i32;
	int64_t   i64;
	uint8_t   u8;
	uint32_t  u32;
	uint64_t  u64;
	float     f;
	double    d;
	bool      b;
	char      s[16];
	casty_ref r;
} Every;
CASTY_MESSAGE(Every, i8, i16, i32, i64, u8, u32, u64, f, d, b, s, r);

typedef struct {
	int64_t amount;
} Deposited;
CASTY_MESSAGE(Deposited, amount);

typedef struct {
	int32_t amount; // a narrower field than Deposited's
} Narrow;
CASTY_MESSAGE(Narrow, amount);

static size_t
encode(const casty_msg_type *t, const void *payload, char **out)
{
	*out = malloc(cst_codec_encoded_max(t, NULL));
	return cst_codec_encode(t, payload, *out, NULL);
}

Test(codec, every_field_kind_round_trips)
{
	Every e = {-5, -300, -70000, INT64_MIN, 200, 4000000000u, UINT64_MAX,
		1.5f, -2.25, true, "hello", {(void *)&e, 3, 0}};
	char  *buf;
	size_t n = encode(&Every__type, &e, &buf);
	cr_assert(le(sz, n, cst_codec_encoded_max(&Every__type, NULL)));
	Every back;
	cr_assert(eq(int, cst_codec_decode(&Every__type, buf, n, &back, NULL), 0));
	cr_assert(eq(i8, back.i8, -5));
	cr_assert(eq(i16, back.i16, -300));
	cr_assert(eq(i32, back.i32, -70000));
	cr_assert(eq(i64, back.i64, INT64_MIN));
	cr_assert(eq(u8, back.u8, 200));
	cr_assert(eq(u32, back.u32, 4000000000u));
	cr_assert(eq(u64, back.u64, UINT64_MAX));
	cr_assert(eq(flt, back.f, 1.5f));
	cr_assert(eq(dbl, back.d, -2.25));
	cr_assert(back.b);
	cr_assert(eq(str, back.s, "hello"));
	cr_assert(casty_ref_is_none(back.r)); // refs are not kept
	const char *name;
	uint32_t    len;
	cr_assert(eq(int, cst_codec_type_name(buf, n, &name, &len, NULL), 0));
	cr_assert(eq(u32, len, 5));
	cr_assert(eq(int, memcmp(name, "Every", 5), 0));
	free(buf);
}

Test(codec, another_type_or_another_version_is_etype)
{
	Deposited d = {42};
	char     *buf;
	size_t    n = encode(&Deposited__type, &d, &buf);
	Narrow    nw;
	cr_assert(eq(int, cst_codec_decode(&Narrow__type, buf, n, &nw, NULL),
		CASTY_ETYPE));
	// Same name, another schema: the hash tells them apart.
	casty_field   fields[] = {{"amount", CASTY_FIELD_INT, 4, 0}};
	casty_msg_type v2 = {"Deposited", 4, 4, 1, 0, fields};
	cr_assert(eq(int, cst_codec_decode(&v2, buf, n, &nw, NULL), CASTY_ETYPE));
	cr_assert(not(eq(u32, cst_type_schema_hash(&v2),
		cst_type_schema_hash(&Deposited__type))));
	// Another format version.
	buf[1] = 2; // the version is a positive fixint after the array head
	Deposited back;
	cr_assert(eq(int, cst_codec_decode(&Deposited__type, buf, n, &back, NULL),
		CASTY_ETYPE));
	free(buf);
}

Test(codec, every_truncation_is_refused_and_no_byte_flip_crashes)
{
	Every  e = {.i64 = 7, .s = "abc"};
	char  *buf;
	size_t n = encode(&Every__type, &e, &buf);
	Every  back;
	for (size_t cut = 0; cut < n; cut++) {
		cr_assert(not(eq(int, cst_codec_decode(&Every__type, buf, cut,
			&back, NULL), 0)), "cut at %zu", cut);
	}
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			int rc = cst_codec_decode(&Every__type, buf, n, &back, NULL);
			cr_assert(rc == 0 || rc == -EINVAL || rc == CASTY_ETYPE);
			buf[i] ^= (char)(1 << bit);
		}
	}
	free(buf);
}

Test(codec, values_out_of_a_fields_range_are_refused)
{
	// Deposited's 64-bit amount does not fit Narrow's 32 bits: build a
	// record of Narrow's name and schema by hand with a large value.
	casty_field    wide[] = {{"amount", CASTY_FIELD_INT, 8, 0}};
	casty_msg_type fake = {"Narrow", 8, 8, 1, 0, wide};
	int64_t        big = INT64_C(1) << 40;
	char          *buf;
	size_t         n = encode(&fake, &big, &buf);
	// Patch the hash to Narrow's so only the range check can refuse.
	Narrow out;
	char  *buf2 = malloc(n + 16);
	char  *w = buf2;
	w = mp_encode_array(w, 4);
	w = mp_encode_uint(w, CST_CODEC_VERSION);
	w = mp_encode_str(w, "Narrow", 6);
	w = mp_encode_uint(w, cst_type_schema_hash(&Narrow__type));
	w = mp_encode_map(w, 1);
	w = mp_encode_str(w, "amount", 6);
	w = mp_encode_uint(w, (uint64_t)big);
	cr_assert(eq(int, cst_codec_decode(&Narrow__type, buf2,
		(size_t)(w - buf2), &out, NULL), -EINVAL));
	free(buf);
	free(buf2);
}

Test(codec, strings_must_fit_with_their_nul)
{
	char *buf = malloc(256), *w = buf;
	w = mp_encode_array(w, 4);
	w = mp_encode_uint(w, CST_CODEC_VERSION);
	w = mp_encode_str(w, "Every", 5);
	w = mp_encode_uint(w, cst_type_schema_hash(&Every__type));
	w = mp_encode_map(w, 1);
	w = mp_encode_str(w, "s", 1);
	w = mp_encode_str(w, "0123456789abcdef", 16); // 16 bytes: no room
	Every out;
	cr_assert(eq(int, cst_codec_decode(&Every__type, buf, (size_t)(w - buf),
		&out, NULL), -EINVAL)); // also: fields missing
	free(buf);
}
