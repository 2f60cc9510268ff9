// persistence/crc32c.c: CRC32C (Castagnoli polynomial 0x1EDC6F41,
// reflected 0x82F63B78), the checksum iSCSI, ext4 and most logs use: it
// detects every burst error up to 32 bits, and x86 has an instruction
// for it (a later speed-up; the journal's cost is fdatasync, not this).
//
// Slicing-by-8: eight 256-entry tables, built once, fold eight input
// bytes per step. The tables are built by pthread_once so that any
// thread may checksum first.
#include "persistence/crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t       table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
build_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		}
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++) {
		for (int t = 1; t < 8; t++) {
			uint32_t prev = table[t - 1][i];
			table[t][i] = (prev >> 8) ^ table[0][prev & 0xff];
		}
	}
}

uint32_t
cst_crc32c_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&table_once, build_tables);
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
		hi = __builtin_bswap32(hi);
#endif
		lo ^= crc;
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0) {
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	}
	return ~crc;
}
