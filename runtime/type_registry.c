// runtime/type_registry.c: the known message types (type_registry.h).
// Two open-addressed tables of fixed size in static memory: types by
// name, protocols by address (only to skip the ones seen). Slots are
// claimed under the lock and published with a release store of the
// pointer after the rest of the entry is written; readers probe with
// acquire loads and stop at the first empty slot, which stays correct
// because nothing is ever removed.
#include "runtime/type_registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define TYPE_SLOTS 8192  // a power of two; at most 3/4 used
#define PROTO_SLOTS 4096 // a power of two; at most 3/4 used

typedef struct type_entry {
	_Atomic(const casty_msg_type *) type; // NULL: empty
	uint32_t name_hash;
	uint32_t schema_hash;
} type_entry;

static pthread_mutex_t                  lock = PTHREAD_MUTEX_INITIALIZER;
static type_entry                       types[TYPE_SLOTS];
static size_t                           ntypes;
static _Atomic(const casty_protocol *) protos[PROTO_SLOTS];
static size_t                           nprotos;
static pthread_once_t                   builtins_once = PTHREAD_ONCE_INIT;
static bool                             full_logged; // under lock

static uint32_t
fnv_bytes(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 16777619u;
	}
	return h;
}

uint32_t
cst_type_schema_hash(const casty_msg_type *type)
{
	// FNV-1a over the name and each field's name, kind and size (the
	// record format the journal has always written).
	uint32_t h = fnv_bytes(2166136261u, type->name, strlen(type->name));
	for (uint32_t i = 0; i < type->nfields; i++) {
		const casty_field *f = &type->fields[i];
		unsigned char      tail[3] = {(unsigned char)f->kind,
			     (unsigned char)f->size, (unsigned char)(f->size >> 8)};
		h = fnv_bytes(h, "", 1);
		h = fnv_bytes(h, f->name, strlen(f->name));
		h = fnv_bytes(h, tail, sizeof tail);
	}
	return h;
}

static uint32_t
name_hash(const char *name, size_t len)
{
	return fnv_bytes(2166136261u, name, len);
}

// Called with the lock held.
static int
add_locked(const casty_msg_type *type)
{
	uint32_t nh = name_hash(type->name, strlen(type->name));
	uint32_t sh = cst_type_schema_hash(type);
	size_t   i = nh & (TYPE_SLOTS - 1);
	for (;; i = (i + 1) & (TYPE_SLOTS - 1)) {
		const casty_msg_type *t = atomic_load_explicit(
			&types[i].type, memory_order_relaxed);
		if (t == NULL) {
			break;
		}
		if (t == type || (types[i].schema_hash == sh &&
					 strcmp(t->name, type->name) == 0)) {
			return 0; // known (the same schema, perhaps a copy)
		}
	}
	if (ntypes >= TYPE_SLOTS / 4 * 3) {
		if (!full_logged) {
			full_logged = true;
			casty_log_error(NULL, "message types: more than %d; "
					      "%s and later ones cannot travel",
				TYPE_SLOTS / 4 * 3, type->name);
		}
		return -ENOSPC;
	}
	types[i].name_hash = nh;
	types[i].schema_hash = sh;
	// Release: a reader that sees the type sees the hashes.
	atomic_store_explicit(&types[i].type, type, memory_order_release);
	ntypes++;
	return 0;
}

static void
add_builtins(void)
{
	pthread_mutex_lock(&lock);
	add_locked(&casty_int__type);
	add_locked(&casty_text__type);
	add_locked(&casty_terminated__type);
	pthread_mutex_unlock(&lock);
}

int
cst_type_register(const casty_msg_type *type)
{
	pthread_once(&builtins_once, add_builtins);
	pthread_mutex_lock(&lock);
	int rc = add_locked(type);
	pthread_mutex_unlock(&lock);
	return rc;
}

static size_t
proto_slot(const casty_protocol *proto)
{
	uintptr_t a = (uintptr_t)proto;
	return (size_t)((a >> 4) ^ (a >> 16)) & (PROTO_SLOTS - 1);
}

static bool
proto_seen(const casty_protocol *proto)
{
	for (size_t i = proto_slot(proto);; i = (i + 1) & (PROTO_SLOTS - 1)) {
		// Acquire: pairs with the release store below, after which
		// the protocol's types are registered.
		const casty_protocol *p =
			atomic_load_explicit(&protos[i], memory_order_acquire);
		if (p == proto) {
			return true;
		}
		if (p == NULL) {
			return false;
		}
	}
}

void
cst_type_register_protocol(const casty_protocol *proto)
{
	if (proto_seen(proto)) {
		return;
	}
	pthread_once(&builtins_once, add_builtins);
	pthread_mutex_lock(&lock);
	for (uint32_t k = 0; k < proto->ntypes; k++) {
		add_locked(proto->types[k]);
	}
	// Remember the protocol unless the table is nearly full: then it
	// is looked at again on its next spawn, which costs only time.
	if (!proto_seen(proto) && nprotos < PROTO_SLOTS / 4 * 3) {
		size_t i = proto_slot(proto);
		while (atomic_load_explicit(&protos[i], memory_order_relaxed) !=
		       NULL) {
			i = (i + 1) & (PROTO_SLOTS - 1);
		}
		atomic_store_explicit(&protos[i], proto, memory_order_release);
		nprotos++;
	}
	pthread_mutex_unlock(&lock);
}

const casty_msg_type *
cst_type_find(const char *name, size_t len, uint32_t schema_hash,
	bool *other_version)
{
	uint32_t nh = name_hash(name, len);
	*other_version = false;
	pthread_once(&builtins_once, add_builtins);
	for (size_t i = nh & (TYPE_SLOTS - 1);; i = (i + 1) & (TYPE_SLOTS - 1)) {
		// Acquire: pairs with the release store of add_locked.
		const casty_msg_type *t = atomic_load_explicit(
			&types[i].type, memory_order_acquire);
		if (t == NULL) {
			return NULL;
		}
		if (types[i].name_hash != nh || strncmp(t->name, name, len) != 0 ||
		    t->name[len] != '\0') {
			continue;
		}
		if (types[i].schema_hash == schema_hash) {
			return t;
		}
		*other_version = true;
	}
}
