// runtime/behavior.h: behavior kinds and state access for the runtime.
#ifndef CASTY_RUNTIME_BEHAVIOR_H
#define CASTY_RUNTIME_BEHAVIOR_H

#include <casty/behavior.h>

// The kinds, named for the runtime (their values are public: the inline
// factories of include/casty/behavior.h build them).
enum cst_behavior_kind {
	CST_BEH_NONE = CASTY__BEH_NONE,           // zeroed: not a behavior
	CST_BEH_RECEIVE = CASTY__BEH_RECEIVE,     // fn is a casty_receive_fn
	CST_BEH_SETUP = CASTY__BEH_SETUP,         // fn is a casty_setup_fn
	CST_BEH_SAME = CASTY__BEH_SAME,           // keep the current one
	CST_BEH_STOPPED = CASTY__BEH_STOPPED,     // stop the actor
	CST_BEH_UNHANDLED = CASTY__BEH_UNHANDLED, // report, keep the current
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
