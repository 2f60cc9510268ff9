// runtime/behavior.h: behavior kinds and state access for the runtime.
#ifndef CASTY_RUNTIME_BEHAVIOR_H
#define CASTY_RUNTIME_BEHAVIOR_H

#include <casty/behavior.h>

enum cst_behavior_kind {
	CST_BEH_NONE,      // zeroed: not a behavior
	CST_BEH_RECEIVE,   // fn is a casty_receive_fn
	CST_BEH_SETUP,     // fn is a casty_setup_fn
	CST_BEH_SAME,      // keep the current one
	CST_BEH_STOPPED,   // stop the actor
	CST_BEH_UNHANDLED, // report the message, keep the current one
};

/** cst_behavior_state returns the captured state of b. */
static inline const void *
cst_behavior_state(const casty_behavior *b)
{
	return b->size <= CASTY_BEHAVIOR_INLINE ? (const void *)b->state.bytes
						: b->state.heap;
}

/** cst_behavior_free frees b's heap state, if any, and clears b. */
void cst_behavior_free(casty_behavior *b);

#endif // CASTY_RUNTIME_BEHAVIOR_H
