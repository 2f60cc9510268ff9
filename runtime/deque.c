// runtime/deque.c: Chase-Lev work-stealing deque, in the C11 form of
// Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing
// for Weak Memory Models" (PPoPP 2013), growable.
//
// Roles: push and take by the owning worker only; steal by any thread.
// Linearisation: push at its store to bottom; take at its seq_cst fence
//   (or at the CAS on top for the last item); steal at its CAS on top.
//   NULL from steal means empty at its load of bottom, nothing more.
// Memory: grown-out arrays are kept on a retired list until fini, since a
//   thief may still read a slot of the old array; items are copied into
//   the new one so both hold the same values. Indices only grow (64-bit),
//   so the CAS on top has no ABA.
// Thread sanitizer: it does not model standalone fences, so the stores
//   and loads that carry data between threads (bottom, array, the slots)
//   are release/acquire themselves; the seq_cst fences remain for the
//   take/steal race on the last item, as in the paper.
// Tested by: tests/runtime/test_deque.c (suite deque_stress) under TSan.
#include "runtime/deque.h"

#include <errno.h>

#include "runtime/alloc.h"
#include "runtime/fence.h"

struct cst_deque_array {
	int64_t          size; // a power of two
	cst_deque_array *next_retired;
	_Atomic(void *)  slot[];
};

static cst_deque_array *
array_new(int64_t size)
{
	cst_deque_array *a = cst_alloc(
		sizeof(*a) + (size_t)size * sizeof(a->slot[0]));
	if (a == NULL) {
		return NULL;
	}
	a->size = size;
	a->next_retired = NULL;
	return a;
}

static void
array_free(cst_deque_array *a)
{
	cst_free_sized(a, sizeof(*a) + (size_t)a->size * sizeof(a->slot[0]));
}

int
cst_deque_init(cst_deque *dq)
{
	cst_deque_array *a = array_new(256);
	if (a == NULL) {
		return -ENOMEM;
	}
	atomic_init(&dq->top, 0);
	atomic_init(&dq->bottom, 0);
	atomic_init(&dq->array, a);
	dq->retired = NULL;
	return 0;
}

void
cst_deque_fini(cst_deque *dq)
{
	cst_deque_array *a =
		atomic_load_explicit(&dq->array, memory_order_relaxed);
	if (a != NULL) {
		array_free(a);
	}
	while (dq->retired != NULL) {
		a = dq->retired;
		dq->retired = a->next_retired;
		array_free(a);
	}
	atomic_store_explicit(&dq->array, NULL, memory_order_relaxed);
}

static cst_deque_array *
grow(cst_deque *dq, cst_deque_array *a, int64_t top, int64_t bottom)
{
	cst_deque_array *b = array_new(a->size * 2);
	if (b == NULL) {
		cst_oom("deque grow");
	}
	for (int64_t i = top; i < bottom; i++) {
		void *x = atomic_load_explicit(&a->slot[i & (a->size - 1)],
			memory_order_relaxed);
		atomic_store_explicit(&b->slot[i & (b->size - 1)], x,
			memory_order_relaxed);
	}
	a->next_retired = dq->retired;
	dq->retired = a;
	// Release: a thief that loads the new array (acquire) sees its slots.
	atomic_store_explicit(&dq->array, b, memory_order_release);
	return b;
}

void
cst_deque_push(cst_deque *dq, void *item)
{
	// Relaxed: only the owner writes bottom.
	int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);
	// Acquire: pairs with a thief's CAS on top, so a slot it emptied is
	// not overwritten while it may still read it.
	int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
	cst_deque_array *a =
		atomic_load_explicit(&dq->array, memory_order_relaxed);

	if (b - t > a->size - 1) {
		a = grow(dq, a, t, b);
	}
	atomic_store_explicit(&a->slot[b & (a->size - 1)], item,
		memory_order_relaxed);
	// Release: pairs with the acquire load of bottom in steal, so a thief
	// that sees the new bottom sees the slot and the item's contents.
	atomic_store_explicit(&dq->bottom, b + 1, memory_order_release);
}

void *
cst_deque_take(cst_deque *dq)
{
	int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed) - 1;
	cst_deque_array *a =
		atomic_load_explicit(&dq->array, memory_order_relaxed);
	atomic_store_explicit(&dq->bottom, b, memory_order_relaxed);
	// seq_cst: orders the store to bottom before the load of top against
	// the thieves' fence between their loads of top and bottom.
	cst_fence_seq_cst();
	int64_t t = atomic_load_explicit(&dq->top, memory_order_relaxed);
	void *x = NULL;

	if (t <= b) {
		x = atomic_load_explicit(&a->slot[b & (a->size - 1)],
			memory_order_relaxed);
		if (t == b) {
			// Last item: race the thieves for it on top.
			if (!atomic_compare_exchange_strong_explicit(&dq->top,
				    &t, t + 1, memory_order_seq_cst,
				    memory_order_relaxed)) {
				x = NULL;
			}
			atomic_store_explicit(
				&dq->bottom, b + 1, memory_order_relaxed);
		}
	} else {
		atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
	}
	return x;
}

void *
cst_deque_steal(cst_deque *dq)
{
	// Acquire: pairs with the owner's and other thieves' updates of top.
	int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
	// seq_cst: see cst_deque_take.
	cst_fence_seq_cst();
	// Acquire: pairs with the release store of bottom in push.
	int64_t b = atomic_load_explicit(&dq->bottom, memory_order_acquire);

	if (t >= b) {
		return NULL;
	}
	// Acquire: pairs with the release store of a grown array.
	cst_deque_array *a =
		atomic_load_explicit(&dq->array, memory_order_acquire);
	void *x = atomic_load_explicit(&a->slot[t & (a->size - 1)],
		memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&dq->top, &t, t + 1,
		    memory_order_seq_cst, memory_order_relaxed)) {
		return CST_DEQUE_ABORT;
	}
	return x;
}

bool
cst_deque_looks_empty(cst_deque *dq)
{
	// seq_cst: parking re-checks queues after announcing itself idle;
	// these loads must not move before that announcement.
	int64_t t = atomic_load_explicit(&dq->top, memory_order_seq_cst);
	int64_t b = atomic_load_explicit(&dq->bottom, memory_order_seq_cst);
	return b <= t;
}

