// runtime/type_registry.h: the message types this process knows by name.
//
// A message from another node names its type; the receiver needs the
// schema to build the struct, so it can only take the types it knows:
// those of every protocol an actor of this process was spawned with (the
// runtime registers them at spawn), the built-in ones (casty_int,
// casty_text, casty_terminated) and those registered by hand
// (casty_register_type, for a reply type no local actor speaks). A type
// is known by its name and its schema hash: two types of one name with
// other fields are two types, and a message of a version this process
// does not have is refused, never misread.
//
// Types are static and never leave: lookups take no lock (each entry is
// published with a release store once written); registrations take one.
#ifndef CASTY_RUNTIME_TYPE_REGISTRY_H
#define CASTY_RUNTIME_TYPE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <casty/casty.h>

/**
 * cst_type_schema_hash hashes type's name and the name, kind and size of
 * each field, in order: what must agree for two processes to exchange
 * the type (the wire and the journal record it).
 */
uint32_t cst_type_schema_hash(const casty_msg_type *type);

/**
 * cst_type_register adds type. Returns 0, or -ENOSPC when the registry
 * is full (logged once). Thread: any.
 */
int cst_type_register(const casty_msg_type *type);

/**
 * cst_type_register_protocol adds every type of proto; a protocol seen
 * before costs a lookup. Thread: any.
 */
void cst_type_register_protocol(const casty_protocol *proto);

/**
 * cst_type_find returns the type called name[0..len) with that schema
 * hash, or NULL; *other_version tells whether a type of that name but
 * another hash is known. Thread: any. Blocks: never.
 */
const casty_msg_type *cst_type_find(const char *name, size_t len,
	uint32_t schema_hash, bool *other_version);

#endif // CASTY_RUNTIME_TYPE_REGISTRY_H
