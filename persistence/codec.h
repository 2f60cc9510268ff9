// persistence/codec.h: events and states as MessagePack, through their
// message schema (include/casty/msg.h). One record is the array
//   [1, "TypeName", schema_hash, {"field": value, ...}]
// The format version (1) and the schema hash (cst_type_schema_hash: names,
// kinds and sizes of the fields, in order) let a reader detect a record written by another
// version of the type; such a record is refused, never misread.
#ifndef CASTY_PERSISTENCE_CODEC_H
#define CASTY_PERSISTENCE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <casty/casty.h>

#define CST_CODEC_VERSION 1

/**
 * cst_codec_refs says how casty_ref fields are written and read. The
 * journal has none (refs are written as nil and read back as the empty
 * ref); the cluster's wire writes a ref as what names its actor across
 * processes (cluster/remote_codec.c).
 */
typedef struct cst_codec_refs {
	size_t max; // the largest encoding of one ref, in bytes
	/** encode writes ref at w and returns the end of what it wrote. */
	char *(*encode)(void *arg, casty_ref ref, char *w);
	/**
	 * decode reads one ref at *r (a value that cst_msgpack_check has found
	 * whole), moving *r past it. Returns 0 or -EINVAL.
	 */
	int (*decode)(void *arg, const char **r, casty_ref *out);
	void *arg;
} cst_codec_refs;

/**
 * cst_codec_encoded_max bounds the encoded size of a payload of type,
 * with refs written by refs (NULL: as nil).
 */
size_t cst_codec_encoded_max(
	const casty_msg_type *type, const cst_codec_refs *refs);

/**
 * cst_codec_encode writes payload (a type struct) into buf, which holds
 * cst_codec_encoded_max(type, refs) bytes, and returns the bytes written.
 * With refs NULL, casty_ref fields are written as nil: in a journal, a
 * ref names a process's actor and means nothing to a later one.
 * Thread: any.
 */
size_t cst_codec_encode(const casty_msg_type *type, const void *payload,
	char *buf, const cst_codec_refs *refs);

/**
 * cst_codec_type_name finds the type name of a record without decoding
 * it: *name points into data; with schema_hash not NULL, *schema_hash
 * is the record's schema hash. Returns 0, or -EINVAL for bytes that are
 * not a record.
 */
int cst_codec_type_name(const void *data, size_t len, const char **name,
	uint32_t *name_len, uint32_t *schema_hash);

/**
 * cst_codec_decode checks and decodes a record of type into payload
 * (type->size bytes, zeroed first). Returns 0, -EINVAL (not a well-formed
 * record: truncated, wrong kinds, unknown or missing fields, values out of
 * the field's range, a ref refs refuses) or CASTY_ETYPE (a record of
 * another type, or of another version of this type). With refs NULL, a
 * ref must be nil. Never reads past len. Thread: any.
 */
int cst_codec_decode(const casty_msg_type *type, const void *data,
	size_t len, void *payload, const cst_codec_refs *refs);

#endif // CASTY_PERSISTENCE_CODEC_H
