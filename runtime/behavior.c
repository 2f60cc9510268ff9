// runtime/behavior.c: building behaviors whose state is not known to be
// small at compile time (include/casty/behavior.h inlines the rest), and
// freeing their heap state. A behavior is returned by value; its state is
// copied in, inline when it fits, so the usual
// `return account(balance + amount);` costs a 64-byte copy and no
// allocation.
#include "runtime/behavior.h"

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

void
cst_behavior_free(casty_behavior *b)
{
	if (b->size > CASTY_BEHAVIOR_INLINE) {
		cst_free_sized(b->state.heap, b->size);
	}
	b->kind = CST_BEH_NONE;
	b->size = 0;
	b->fn = NULL;
}
