// persistence/msgpack_check.c: a bounded MessagePack validator (see
// msgpack_check.h). The format's first byte says what follows: a fixed
// size, a length of 1, 2 or 4 big-endian bytes and then that many bytes,
// or a count of values that follow.
#include "persistence/msgpack_check.h"

#include <stdint.h>

static uint32_t
load_be(const unsigned char *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

bool
cst_msgpack_check(const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	size_t               pending = 1; // values still to read

	while (pending > 0) {
		// Each value takes at least one byte: a count the rest of
		// the input cannot hold is refused before it grows further.
		if (pending > (size_t)(end - p)) {
			return false;
		}
		pending--;
		unsigned c = *p++;
		size_t   skip = 0;  // bytes of payload after the header
		unsigned width = 0; // bytes of a length field
		size_t   values = 0; // values a container adds
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 ||
		    c == 0xc3) {
			// fixint, nil, false, true: the byte is the value
		} else if (c <= 0x8f) {
			values = 2 * (size_t)(c & 0x0f); // fixmap
		} else if (c <= 0x9f) {
			values = c & 0x0f; // fixarray
		} else if (c <= 0xbf) {
			skip = c & 0x1f; // fixstr
		} else {
			switch (c) {
			case 0xc4: case 0xd9: width = 1; break; // bin8, str8
			case 0xc5: case 0xda: width = 2; break;
			case 0xc6: case 0xdb: width = 4; break;
			case 0xc7: width = 1, skip = 1; break; // ext8: + type
			case 0xc8: width = 2, skip = 1; break;
			case 0xc9: width = 4, skip = 1; break;
			case 0xca: skip = 4; break; // float
			case 0xcb: skip = 8; break; // double
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break; // fixext: type + data
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: case 0xde: width = 2; break; // array, map 16
			case 0xdd: case 0xdf: width = 4; break; // array, map 32
			default:
				return false; // 0xc1, never used
			}
		}
		if (width != 0) {
			if ((size_t)(end - p) < width) {
				return false;
			}
			size_t n = load_be(p, width);
			p += width;
			if (c >= 0xdc) {
				values = c >= 0xde ? 2 * n : n;
			} else {
				skip += n;
			}
		}
		if ((size_t)(end - p) < skip) {
			return false;
		}
		p += skip;
		pending += values;
	}
	return p == end;
}
