// persistence/codec.c: MessagePack records of schema'd structs (see
// codec.h), with msgpuck. Decoding treats the bytes as hostile: the
// record is validated whole (cst_msgpack_check) before anything is read,
// and every value is checked against its field's kind and range.
#include "persistence/codec.h"

#include <errno.h>
#include <string.h>

#include <msgpuck.h>

#include "persistence/msgpack_check.h"

#include "runtime/field.h"
#include "runtime/type_registry.h"

size_t
cst_codec_encoded_max(const casty_msg_type *type, const cst_codec_refs *refs)
{
	size_t ref_max = refs != NULL ? refs->max : 1;
	size_t n = mp_sizeof_array(4) + mp_sizeof_uint(CST_CODEC_VERSION) +
		   mp_sizeof_str((uint32_t)strlen(type->name)) +
		   mp_sizeof_uint(UINT32_MAX) + mp_sizeof_map(type->nfields);
	for (uint32_t i = 0; i < type->nfields; i++) {
		const casty_field *f = &type->fields[i];
		n += mp_sizeof_str((uint32_t)strlen(f->name));
		n += f->kind == CASTY_FIELD_STR ? mp_sizeof_str(f->size)
		     : f->kind == CASTY_FIELD_REF ? ref_max
						  : 9;
	}
	return n;
}

static void
store(unsigned char *p, const void *v, size_t size)
{
	memcpy(p, v, size);
}

size_t
cst_codec_encode(const casty_msg_type *type, const void *payload, char *buf,
	const cst_codec_refs *refs)
{
	const unsigned char *in = payload;
	char                *w = buf;

	w = mp_encode_array(w, 4);
	w = mp_encode_uint(w, CST_CODEC_VERSION);
	w = mp_encode_str(w, type->name, (uint32_t)strlen(type->name));
	w = mp_encode_uint(w, cst_type_schema_hash(type));
	w = mp_encode_map(w, type->nfields);
	for (uint32_t i = 0; i < type->nfields; i++) {
		const casty_field   *f = &type->fields[i];
		const unsigned char *p = in + f->offset;
		w = mp_encode_str(w, f->name, (uint32_t)strlen(f->name));
		switch (f->kind) {
		case CASTY_FIELD_INT: {
			int64_t v = cst_field_load_int(p, f->size);
			w = v < 0 ? mp_encode_int(w, v)
				  : mp_encode_uint(w, (uint64_t)v);
			break;
		}
		case CASTY_FIELD_UINT:
			w = mp_encode_uint(w, cst_field_load_uint(p, f->size));
			break;
		case CASTY_FIELD_FLOAT:
			if (f->size == sizeof(float)) {
				float v;
				memcpy(&v, p, sizeof v);
				w = mp_encode_float(w, v);
			} else {
				double v;
				memcpy(&v, p, sizeof v);
				w = mp_encode_double(w, v);
			}
			break;
		case CASTY_FIELD_BOOL:
			w = mp_encode_bool(w, *p != 0);
			break;
		case CASTY_FIELD_STR:
			w = mp_encode_str(w, (const char *)p,
				(uint32_t)strnlen((const char *)p, f->size - 1));
			break;
		case CASTY_FIELD_REF:
			if (refs != NULL) {
				casty_ref ref;
				memcpy(&ref, p, sizeof ref);
				w = refs->encode(refs->arg, ref, w);
				break;
			}
			w = mp_encode_nil(w);
			break;
		default:
			w = mp_encode_nil(w);
			break;
		}
	}
	return (size_t)(w - buf);
}

// Reads the header up to the field map; returns 0 and leaves *r at the
// map, or an error.
static int
read_header(const char **r, const char *end, const char **name,
	uint32_t *name_len, uint64_t *hash)
{
	if (*r >= end || !cst_msgpack_check(*r, (size_t)(end - *r))) {
		return -EINVAL; // not exactly one well-formed value
	}
	if (mp_typeof(**r) != MP_ARRAY || mp_decode_array(r) != 4) {
		return -EINVAL;
	}
	if (mp_typeof(**r) != MP_UINT ||
	    mp_decode_uint(r) != CST_CODEC_VERSION) {
		return CASTY_ETYPE; // another format version
	}
	if (mp_typeof(**r) != MP_STR) {
		return -EINVAL;
	}
	*name = mp_decode_str(r, name_len);
	if (mp_typeof(**r) != MP_UINT) {
		return -EINVAL;
	}
	*hash = mp_decode_uint(r);
	return mp_typeof(**r) == MP_MAP ? 0 : -EINVAL;
}

int
cst_codec_type_name(const void *data, size_t len, const char **name,
	uint32_t *name_len, uint32_t *schema_hash)
{
	const char *r = data;
	uint64_t    hash;
	int rc = read_header(&r, (const char *)data + len, name, name_len,
		&hash);
	if (rc == 0 && schema_hash != NULL) {
		if (hash > UINT32_MAX) {
			return -EINVAL;
		}
		*schema_hash = (uint32_t)hash;
	}
	return rc == CASTY_ETYPE ? -EINVAL : rc;
}

static int
decode_int(const char **r, const casty_field *f, unsigned char *p)
{
	int64_t v;
	if (mp_typeof(**r) == MP_UINT) {
		uint64_t u = mp_decode_uint(r);
		if (u > INT64_MAX) {
			return -EINVAL;
		}
		v = (int64_t)u;
	} else if (mp_typeof(**r) == MP_INT) {
		v = mp_decode_int(r);
	} else {
		return -EINVAL;
	}
	int bits = f->size * 8;
	if (bits < 64 && (v < -(INT64_C(1) << (bits - 1)) ||
			     v >= (INT64_C(1) << (bits - 1)))) {
		return -EINVAL;
	}
	switch (f->size) {
	case 1: { int8_t x = (int8_t)v; store(p, &x, 1); break; }
	case 2: { int16_t x = (int16_t)v; store(p, &x, 2); break; }
	case 4: { int32_t x = (int32_t)v; store(p, &x, 4); break; }
	default: store(p, &v, 8);
	}
	return 0;
}

static int
decode_uint(const char **r, const casty_field *f, unsigned char *p)
{
	if (mp_typeof(**r) != MP_UINT) {
		return -EINVAL;
	}
	uint64_t v = mp_decode_uint(r);
	if (f->size < 8 && v >= (UINT64_C(1) << (f->size * 8))) {
		return -EINVAL;
	}
	switch (f->size) {
	case 1: { uint8_t x = (uint8_t)v; store(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; store(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; store(p, &x, 4); break; }
	default: store(p, &v, 8);
	}
	return 0;
}

static int
decode_value(const char **r, const casty_field *f, unsigned char *p,
	const cst_codec_refs *refs)
{
	switch (f->kind) {
	case CASTY_FIELD_INT:
		return decode_int(r, f, p);
	case CASTY_FIELD_UINT:
		return decode_uint(r, f, p);
	case CASTY_FIELD_FLOAT: {
		double v;
		if (mp_typeof(**r) == MP_DOUBLE) {
			v = mp_decode_double(r);
		} else if (mp_typeof(**r) == MP_FLOAT) {
			v = mp_decode_float(r);
		} else {
			return -EINVAL;
		}
		if (f->size == sizeof(float)) {
			float x = (float)v;
			store(p, &x, sizeof x);
		} else {
			store(p, &v, sizeof v);
		}
		return 0;
	}
	case CASTY_FIELD_BOOL:
		if (mp_typeof(**r) != MP_BOOL) {
			return -EINVAL;
		}
		*p = mp_decode_bool(r) ? 1 : 0;
		return 0;
	case CASTY_FIELD_STR: {
		if (mp_typeof(**r) != MP_STR) {
			return -EINVAL;
		}
		uint32_t    n;
		const char *s = mp_decode_str(r, &n);
		if (n >= f->size || memchr(s, '\0', n) != NULL) {
			return -EINVAL; // must fit with its NUL
		}
		memcpy(p, s, n);
		p[n] = '\0';
		return 0;
	}
	case CASTY_FIELD_REF:
		if (refs != NULL && f->size == sizeof(casty_ref)) {
			casty_ref ref;
			int       rc = refs->decode(refs->arg, r, &ref);
			if (rc == 0) {
				store(p, &ref, sizeof ref);
			}
			return rc;
		}
		if (mp_typeof(**r) != MP_NIL) {
			return -EINVAL;
		}
		mp_decode_nil(r);
		return 0; // the zeroed payload is CASTY_REF_NONE
	}
	return -EINVAL;
}

int
cst_codec_decode(const casty_msg_type *type, const void *data, size_t len,
	void *payload, const cst_codec_refs *refs)
{
	const char *r = data, *end = (const char *)data + len, *name;
	uint32_t    name_len;
	uint64_t    hash;
	int         rc = read_header(&r, end, &name, &name_len, &hash);

	if (rc != 0) {
		return rc;
	}
	if (name_len != strlen(type->name) ||
	    memcmp(name, type->name, name_len) != 0 ||
	    hash != cst_type_schema_hash(type)) {
		return CASTY_ETYPE;
	}
	uint32_t n = mp_decode_map(&r);
	if (n != type->nfields) {
		return -EINVAL;
	}
	memset(payload, 0, type->size);
	uint64_t seen = 0; // fields are at most 16 (CASTY__EACH)
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*r) != MP_STR) {
			return -EINVAL;
		}
		uint32_t    klen;
		const char *key = mp_decode_str(&r, &klen);
		uint32_t    k = 0;
		while (k < type->nfields &&
		       !(strlen(type->fields[k].name) == klen &&
			       memcmp(type->fields[k].name, key, klen) == 0)) {
			k++;
		}
		if (k == type->nfields || k >= 64 || (seen & (1ull << k))) {
			return -EINVAL; // unknown or repeated field
		}
		seen |= 1ull << k;
		rc = decode_value(&r, &type->fields[k],
			(unsigned char *)payload + type->fields[k].offset, refs);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}
