// runtime/deque.h: the Chase-Lev work-stealing deque of runnable actors.
#ifndef CASTY_RUNTIME_DEQUE_H
#define CASTY_RUNTIME_DEQUE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cst_deque_array cst_deque_array;

typedef struct cst_deque {
	// Thieves CAS top; the owner reads it.
	alignas(64) _Atomic int64_t top;
	// Owner writes bottom and array; thieves read them.
	alignas(64) _Atomic int64_t bottom;
	_Atomic(cst_deque_array *) array;
	cst_deque_array *retired; // owner only: grown-out arrays, freed at fini
} cst_deque;

/** CST_DEQUE_ABORT: a steal lost a race; the deque may not be empty. */
#define CST_DEQUE_ABORT ((void *)1)

/** cst_deque_init makes an empty deque. Returns 0 or -ENOMEM. */
int cst_deque_init(cst_deque *dq);

/** cst_deque_fini frees the deque's arrays. Thread: single. */
void cst_deque_fini(cst_deque *dq);

/** cst_deque_push adds item at the bottom. Thread: owner. */
void cst_deque_push(cst_deque *dq, void *item);

/** cst_deque_take removes the bottom item, or NULL. Thread: owner. */
void *cst_deque_take(cst_deque *dq);

/**
 * cst_deque_steal removes the top item, or returns NULL (empty) or
 * CST_DEQUE_ABORT (lost a race, retry elsewhere). Thread: any.
 */
void *cst_deque_steal(cst_deque *dq);

/** cst_deque_looks_empty: a hint for parking decisions. Thread: any. */
bool cst_deque_looks_empty(cst_deque *dq);

#endif // CASTY_RUNTIME_DEQUE_H
