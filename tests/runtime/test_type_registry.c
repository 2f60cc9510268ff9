// tests/runtime/test_type_registry.c: the process's registry of message
// types (runtime/type_registry.c). A type is found by its name and
// schema hash; another version of a name is told apart; protocols
// register their types; and the stress test has threads register
// distinct types while others look them up without the lock: a lookup
// finds either nothing or the very type registered, and once every
// registration is done, every type is found.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

#include "runtime/type_registry.h"

typedef struct {
	int64_t a;
} Alpha;
typedef struct {
	int64_t a;
	int64_t b;
} AlphaV2;
CASTY_MESSAGE(Alpha, a);
CASTY_MESSAGE(AlphaV2, a, b);
CASTY_PROTOCOL(AlphaMsg, Alpha);

Test(type_registry, types_are_found_by_name_and_schema)
{
	bool other;
	uint32_t h = cst_type_schema_hash(&Alpha__type);
	cr_assert(eq(ptr, (void *)cst_type_find("Alpha", 5, h, &other), NULL));
	cst_type_register_protocol(&AlphaMsg__protocol);
	cr_assert(eq(ptr, (void *)cst_type_find("Alpha", 5, h, &other),
		(void *)&Alpha__type));
	cr_assert(not(other));
	// Another version: the same name with AlphaV2's fields.
	casty_msg_type v2 = AlphaV2__type;
	v2.name = "Alpha";
	cr_assert(eq(ptr, (void *)cst_type_find("Alpha", 5,
				  cst_type_schema_hash(&v2), &other),
		NULL));
	cr_assert(other);
	// Built-ins are there from the start; a prefix is no match.
	cr_assert(not(eq(ptr, (void *)cst_type_find("casty_int", 9,
				      cst_type_schema_hash(&casty_int__type),
				      &other),
		NULL)));
	cr_assert(eq(ptr, (void *)cst_type_find("Alph", 4, h, &other), NULL));
}

#define WRITERS 2
#define READERS 2
#define PER_WRITER 1500

static casty_msg_type types[WRITERS][PER_WRITER];
static char           names[WRITERS][PER_WRITER][24];
static atomic_int     registered[WRITERS]; // how many each has added
static atomic_long    wrong;

static void *
writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	for (int i = 0; i < PER_WRITER; i++) {
		cst_type_register(&types[w][i]);
		atomic_store(&registered[w], i + 1);
	}
	return NULL;
}

static void *
reader(void *arg)
{
	(void)arg;
	for (int round = 0; round < 20; round++) {
		for (int w = 0; w < WRITERS; w++) {
			int seen = atomic_load(&registered[w]);
			for (int i = 0; i < PER_WRITER; i++) {
				bool other;
				const casty_msg_type *t = cst_type_find(
					names[w][i], strlen(names[w][i]),
					cst_type_schema_hash(&types[w][i]),
					&other);
				// Registered before we looked: must be found;
				// any time: nothing or the very type.
				if ((t != NULL && t != &types[w][i]) ||
				    (i < seen && t == NULL)) {
					atomic_fetch_add(&wrong, 1);
				}
			}
		}
	}
	return NULL;
}

Test(type_registry, lookups_race_registrations_safely)
{
	for (int w = 0; w < WRITERS; w++) {
		for (int i = 0; i < PER_WRITER; i++) {
			snprintf(names[w][i], sizeof names[w][i], "Stress%d_%d", w, i);
			types[w][i] = (casty_msg_type){names[w][i], 8, 8, 0, 0, NULL};
		}
	}
	pthread_t t[WRITERS + READERS];
	for (int i = 0; i < WRITERS; i++) {
		pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i);
	}
	for (int i = 0; i < READERS; i++) {
		pthread_create(&t[WRITERS + i], NULL, reader, NULL);
	}
	for (int i = 0; i < WRITERS + READERS; i++) {
		pthread_join(t[i], NULL);
	}
	cr_assert(eq(long, atomic_load(&wrong), 0));
	for (int w = 0; w < WRITERS; w++) {
		for (int i = 0; i < PER_WRITER; i++) {
			bool other;
			cr_assert(eq(ptr,
				(void *)cst_type_find(names[w][i],
					strlen(names[w][i]),
					cst_type_schema_hash(&types[w][i]), &other),
				(void *)&types[w][i]));
		}
	}
}
