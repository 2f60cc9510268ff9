// persistence/entity_map.h: entity id -> per-entity state, the index of
// both journals. Not thread-safe: each journal serialises its own use.
#ifndef CASTY_PERSISTENCE_ENTITY_MAP_H
#define CASTY_PERSISTENCE_ENTITY_MAP_H

#include <stddef.h>

typedef struct cst_entity_slot {
	char  *key; // owned, NUL-terminated; NULL: empty slot
	size_t key_len;
	void  *value;
} cst_entity_slot;

/** cst_entity_map maps entity ids to values (open addressing). */
typedef struct cst_entity_map {
	cst_entity_slot *slot;
	size_t           cap; // a power of two, or 0
	size_t           count;
} cst_entity_map;

/** cst_entity_map_find returns the value for key (len bytes), or NULL. */
void *cst_entity_map_find(const cst_entity_map *m, const char *key,
	size_t len);

/**
 * cst_entity_map_insert adds key -> value; key must not be there. The
 * key is copied. Returns 0 or -ENOMEM.
 */
int cst_entity_map_insert(cst_entity_map *m, const char *key, size_t len,
	void *value);

/** cst_entity_map_fini frees the table and the keys, not the values. */
void cst_entity_map_fini(cst_entity_map *m);

#endif // CASTY_PERSISTENCE_ENTITY_MAP_H
