// runtime/field.h: reading a message field's integer of any declared
// width (1, 2, 4 or 8 bytes) from a payload, for the printer and the
// codec, which both walk payloads through their schema.
#ifndef CASTY_RUNTIME_FIELD_H
#define CASTY_RUNTIME_FIELD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int64_t
cst_field_load_int(const unsigned char *p, size_t size)
{
	switch (size) {
	case 1: { int8_t v; memcpy(&v, p, 1); return v; }
	case 2: { int16_t v; memcpy(&v, p, 2); return v; }
	case 4: { int32_t v; memcpy(&v, p, 4); return v; }
	default: { int64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline uint64_t
cst_field_load_uint(const unsigned char *p, size_t size)
{
	switch (size) {
	case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

#endif // CASTY_RUNTIME_FIELD_H
