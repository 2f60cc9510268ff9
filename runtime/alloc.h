// runtime/alloc.h: memory for the runtime, from jemalloc (sized frees).
// Message envelopes go through the per-worker pools of pool.h.
#ifndef CASTY_RUNTIME_ALLOC_H
#define CASTY_RUNTIME_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/** cst_alloc allocates size bytes (jemalloc), or returns NULL. */
void *cst_alloc(size_t size);

/** cst_calloc allocates size zeroed bytes, or returns NULL. */
void *cst_calloc(size_t size);

/** cst_alloc_aligned allocates size bytes aligned to align, or NULL. */
void *cst_alloc_aligned(size_t size, size_t align);

/** cst_free_sized frees p, allocated with size bytes (NULL is a no-op). */
void cst_free_sized(void *p, size_t size);

/** cst_free_aligned frees p from cst_alloc_aligned. */
void cst_free_aligned(void *p, size_t size, size_t align);

/** cst_strdup copies s (cst_free_sized(p, strlen(p) + 1) frees it). */
char *cst_strdup(const char *s);

/** cst_oom reports out-of-memory where nobody can act on it and aborts. */
_Noreturn void cst_oom(const char *what);

#endif // CASTY_RUNTIME_ALLOC_H
