// tests/runtime/test_envelope_arena.c: the envelope arena
// (runtime/envelope_arena.c). Blocks of every envelope size come back
// usable and distinct, through a worker's own cache and through none;
// blocks allocated by one thread's cache and freed by another's (the
// path of every message) keep their contents to the end; caches are
// made and destroyed many times. The sanitizer builds use malloc here,
// so this runs the arena in the plain build.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "runtime/envelope_arena.h"

#define BLOCKS 20000
static const size_t sizes[] = {32, 64, 128, 256, 512, 4096, 100000};

Test(envelope_arena, blocks_of_every_size_are_distinct_and_usable)
{
	cst_envelope_cache cache;
	cst_envelope_cache_init(&cache);
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t         size = sizes[k];
		unsigned char *a = cst_envelope_alloc(&cache, size);
		unsigned char *b = cst_envelope_alloc(NULL, size);
		cr_assert(not(eq(ptr, a, NULL)));
		cr_assert(not(eq(ptr, b, NULL)));
		cr_assert(not(eq(ptr, a, b)));
		memset(a, 0xaa, size);
		memset(b, 0x55, size);
		cr_assert(eq(u8, a[size - 1], 0xaa));
		cr_assert(eq(u8, b[0], 0x55));
		cst_envelope_free(NULL, a, size);
		cst_envelope_free(&cache, b, size);
	}
	cst_envelope_cache_fini(&cache);
}

// A producer fills blocks with their index; the consumer checks and frees
// them through its own cache.
static unsigned char *handoff[BLOCKS];

static void *
producer(void *arg)
{
	(void)arg;
	cst_envelope_cache cache;
	cst_envelope_cache_init(&cache);
	for (uint32_t i = 0; i < BLOCKS; i++) {
		unsigned char *p = cst_envelope_alloc(&cache, 64);
		for (size_t j = 0; j < 64; j += 4) {
			memcpy(p + j, &i, 4);
		}
		handoff[i] = p;
	}
	cst_envelope_cache_fini(&cache);
	return NULL;
}

Test(envelope_arena, blocks_freed_by_another_thread_keep_their_contents)
{
	for (int round = 0; round < 5; round++) {
		pthread_t t;
		cr_assert(eq(int, pthread_create(&t, NULL, producer, NULL), 0));
		cr_assert(eq(int, pthread_join(t, NULL), 0));
		cst_envelope_cache cache;
		cst_envelope_cache_init(&cache);
		for (uint32_t i = 0; i < BLOCKS; i++) {
			for (size_t j = 0; j < 64; j += 4) {
				uint32_t v;
				memcpy(&v, handoff[i] + j, 4);
				cr_assert(eq(u32, v, i));
			}
			cst_envelope_free(&cache, handoff[i], 64);
		}
		cst_envelope_cache_fini(&cache);
	}
}
