// tests/persistence/test_crc32c.c: CRC32C (persistence/crc32c.c) against
// published check values (RFC 3720 appendix B.4 and the usual "123456789"
// check), in one piece and split at every point.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "persistence/crc32c.h"

TestSuite(crc32c);

Test(crc32c, matches_the_check_value)
{
	cr_assert(eq(u32, cst_crc32c_update(0, "123456789", 9), 0xE3069283u));
	cr_assert(eq(u32, cst_crc32c_update(0, "", 0), 0));
	cr_assert(eq(u32, cst_crc32c_update(0, "a", 1), 0xC1D04330u));
}

Test(crc32c, matches_the_iscsi_vectors)
{
	uint8_t buf[48];
	memset(buf, 0, 32);
	cr_assert(eq(u32, cst_crc32c_update(0, buf, 32), 0x8A9136AAu));
	memset(buf, 0xff, 32);
	cr_assert(eq(u32, cst_crc32c_update(0, buf, 32), 0x62A8AB43u));
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)i;
	}
	cr_assert(eq(u32, cst_crc32c_update(0, buf, 32), 0x46DD794Eu));
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)(31 - i);
	}
	cr_assert(eq(u32, cst_crc32c_update(0, buf, 32), 0x113FDB5Cu));
}

Test(crc32c, gives_the_same_value_in_pieces)
{
	const char *text = "The quick brown fox jumps over the lazy dog";
	size_t      len = strlen(text);
	uint32_t    whole = cst_crc32c_update(0, text, len);
	cr_assert(eq(u32, whole, 0x22620404u));
	for (size_t cut = 0; cut <= len; cut++) {
		uint32_t c = cst_crc32c_update(0, text, cut);
		c = cst_crc32c_update(c, text + cut, len - cut);
		cr_assert(eq(u32, c, whole), "cut at %zu", cut);
	}
}
