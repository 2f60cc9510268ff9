// persistence/entity_map.c: an open-addressing hash table (linear
// probing, FNV-1a, at most half full) from entity ids to journal state.
// Entities are never removed, so there are no tombstones.
#include "persistence/entity_map.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "runtime/alloc.h"

static uint64_t
hash(const char *key, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)key[i];
		h *= 1099511628211ull;
	}
	return h;
}

void *
cst_entity_map_find(const cst_entity_map *m, const char *key, size_t len)
{
	if (m->cap == 0) {
		return NULL;
	}
	size_t mask = m->cap - 1;
	for (size_t i = hash(key, len) & mask;; i = (i + 1) & mask) {
		cst_entity_slot *s = &m->slot[i];
		if (s->key == NULL) {
			return NULL;
		}
		if (s->key_len == len && memcmp(s->key, key, len) == 0) {
			return s->value;
		}
	}
}

static void
place(cst_entity_slot *slots, size_t cap, cst_entity_slot entry)
{
	size_t mask = cap - 1;
	size_t i = hash(entry.key, entry.key_len) & mask;
	while (slots[i].key != NULL) {
		i = (i + 1) & mask;
	}
	slots[i] = entry;
}

int
cst_entity_map_insert(cst_entity_map *m, const char *key, size_t len,
	void *value)
{
	if ((m->count + 1) * 2 > m->cap) {
		size_t           cap = m->cap == 0 ? 64 : m->cap * 2;
		cst_entity_slot *slots = cst_calloc(cap * sizeof(*slots));
		if (slots == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slot[i].key != NULL) {
				place(slots, cap, m->slot[i]);
			}
		}
		cst_free_sized(m->slot, m->cap * sizeof(*m->slot));
		m->slot = slots;
		m->cap = cap;
	}
	char *copy = cst_alloc(len + 1);
	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, key, len);
	copy[len] = '\0';
	place(m->slot, m->cap,
		(cst_entity_slot){.key = copy, .key_len = len, .value = value});
	m->count++;
	return 0;
}

void
cst_entity_map_fini(cst_entity_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slot[i].key != NULL) {
			cst_free_sized(m->slot[i].key, m->slot[i].key_len + 1);
		}
	}
	cst_free_sized(m->slot, m->cap * sizeof(*m->slot));
	*m = (cst_entity_map){0};
}
