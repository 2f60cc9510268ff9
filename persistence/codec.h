// persistence/codec.h: events and states as MessagePack, through their
// message schema (include/casty/msg.h). One record is the array
//   [1, "TypeName", schema_hash, {"field": value, ...}]
// The format version (1) and the schema hash (names, kinds and sizes of
// the fields, in order) let a reader detect a record written by another
// version of the type; such a record is refused, never misread.
#ifndef CASTY_PERSISTENCE_CODEC_H
#define CASTY_PERSISTENCE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <casty/casty.h>

#define CST_CODEC_VERSION 1

/** cst_codec_schema_hash is the hash recorded with each record of type. */
uint32_t cst_codec_schema_hash(const casty_msg_type *type);

/**
 * cst_codec_encoded_max bounds the encoded size of a payload of type.
 */
size_t cst_codec_encoded_max(const casty_msg_type *type);

/**
 * cst_codec_encode writes payload (a type struct) into buf, which holds
 * cst_codec_encoded_max(type) bytes, and returns the bytes written.
 * casty_ref fields are written as nil: a ref names a process's actor and
 * means nothing to a later one. Thread: any.
 */
size_t cst_codec_encode(const casty_msg_type *type, const void *payload,
	char *buf);

/**
 * cst_codec_type_name finds the type name of a record without decoding
 * it: *name points into data. Returns 0, or -EINVAL for bytes that are
 * not a record.
 */
int cst_codec_type_name(const void *data, size_t len, const char **name,
	uint32_t *name_len);

/**
 * cst_codec_decode checks and decodes a record of type into payload
 * (type->size bytes, zeroed first). Returns 0, -EINVAL (not a well-formed
 * record: truncated, wrong kinds, unknown or missing fields, values out of
 * the field's range) or CASTY_ETYPE (a record of another type, or of
 * another version of this type). Never reads past len. Thread: any.
 */
int cst_codec_decode(const casty_msg_type *type, const void *data,
	size_t len, void *payload);

#endif // CASTY_PERSISTENCE_CODEC_H
