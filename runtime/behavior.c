// runtime/behavior.c: building behaviors whose state is not known to be
// small at compile time (include/casty/behavior.h inlines the rest), and
// freeing their heap state. A behavior is returned by value; its state is
// copied in, inline when it fits, so the usual
// `return account(balance + amount);` costs a 64-byte copy and no
// allocation.
#include "runtime/behavior.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/alloc.h"

casty_behavior
casty_behavior_capture(
	void *fn, uint32_t kind, const void *state, size_t size)
{
	casty_behavior b = {.fn = fn, .kind = kind, .size = (uint32_t)size};

	if (size > UINT32_MAX) {
		cst_oom("behavior state too large");
	}
	if (size <= CASTY_BEHAVIOR_INLINE) {
		if (size != 0) {
			memcpy(b.state.bytes, state, size);
		}
	} else {
		b.state.heap = cst_alloc(size);
		if (b.state.heap == NULL) {
			cst_oom("behavior state");
		}
		memcpy(b.state.heap, state, size);
	}
	return b;
}

#define REASON_MAX 255

// Wrappers always live on the heap, so inner_of can reach them there.
_Static_assert(sizeof(cst_supervise_state) > CASTY_BEHAVIOR_INLINE, "heap");
_Static_assert(sizeof(cst_lifecycle_state) > CASTY_BEHAVIOR_INLINE, "heap");

casty_behavior
casty_failed(int code, const char *fmt, ...)
{
	struct {
		cst_failed_state head;
		char             reason[REASON_MAX + 1];
	} f;
	va_list ap;

	f.head.code = code;
	f.reason[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(f.reason, sizeof f.reason, fmt, ap);
		va_end(ap);
	}
	// The inline state takes reasons up to 43 bytes without allocating.
	return casty_behavior_capture(NULL, CST_BEH_FAILED, &f,
		sizeof f.head + strlen(f.reason) + 1);
}

casty_behavior
casty_supervise(casty_behavior behavior, casty_strategy strategy)
{
	if (strategy.max_restarts > CASTY_MAX_RESTARTS) {
		strategy.max_restarts = CASTY_MAX_RESTARTS;
	}
	cst_supervise_state s = {.inner = behavior, .strategy = strategy};
	return casty_behavior_capture(NULL, CST_BEH_SUPERVISE, &s, sizeof s);
}

casty_behavior
casty_with_lifecycle(casty_behavior behavior, casty_lifecycle hooks)
{
	cst_lifecycle_state s = {.inner = behavior, .hooks = hooks};
	return casty_behavior_capture(NULL, CST_BEH_LIFECYCLE, &s, sizeof s);
}

// The inner behavior of a wrapper kind, else NULL.
static casty_behavior *
inner_of(casty_behavior *b)
{
	switch (b->kind) {
	case CST_BEH_SUPERVISE:
		return &((cst_supervise_state *)b->state.heap)->inner;
	case CST_BEH_LIFECYCLE:
		return &((cst_lifecycle_state *)b->state.heap)->inner;
	default:
		return NULL;
	}
}

casty_behavior
cst_behavior_clone(const casty_behavior *b)
{
	casty_behavior c = *b;

	if (b->size > CASTY_BEHAVIOR_INLINE) {
		c.state.heap = cst_alloc(b->size);
		if (c.state.heap == NULL) {
			cst_oom("behavior state");
		}
		memcpy(c.state.heap, b->state.heap, b->size);
		casty_behavior *inner = inner_of(&c);
		if (inner != NULL) {
			*inner = cst_behavior_clone(inner);
		}
	}
	return c;
}

void
cst_behavior_free(casty_behavior *b)
{
	casty_behavior *inner = inner_of(b);
	if (inner != NULL) {
		cst_behavior_free(inner);
	}
	if (b->size > CASTY_BEHAVIOR_INLINE) {
		cst_free_sized(b->state.heap, b->size);
	}
	b->kind = CST_BEH_NONE;
	b->size = 0;
	b->fn = NULL;
}
