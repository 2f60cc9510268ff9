// runtime/behavior.h: behavior kinds and state access for the runtime.
#ifndef CASTY_RUNTIME_BEHAVIOR_H
#define CASTY_RUNTIME_BEHAVIOR_H

#include <casty/behavior.h>
#include <casty/lifecycle.h>
#include <casty/supervision.h>

// The kinds, named for the runtime (their values are public: the inline
// factories of include/casty/behavior.h build them).
enum cst_behavior_kind {
	CST_BEH_NONE = CASTY__BEH_NONE,           // zeroed: not a behavior
	CST_BEH_RECEIVE = CASTY__BEH_RECEIVE,     // fn is a casty_receive_fn
	CST_BEH_SETUP = CASTY__BEH_SETUP,         // fn is a casty_setup_fn
	CST_BEH_SAME = CASTY__BEH_SAME,           // keep the current one
	CST_BEH_STOPPED = CASTY__BEH_STOPPED,     // stop the actor
	CST_BEH_UNHANDLED = CASTY__BEH_UNHANDLED, // report, keep the current
	CST_BEH_RESTART = CASTY__BEH_RESTART,     // restart on purpose
	CST_BEH_FAILED = CASTY__BEH_FAILED,       // state: cst_failed_state
	CST_BEH_SUPERVISE = CASTY__BEH_SUPERVISE, // state: cst_supervise_state
	CST_BEH_LIFECYCLE = CASTY__BEH_LIFECYCLE, // state: cst_lifecycle_state
	CST_BEH_PERSISTED = CASTY__BEH_PERSISTED, // persist what was staged
};

// The states of the wrapper kinds; each owns its inner behavior.
typedef struct cst_supervise_state {
	casty_behavior inner;
	casty_strategy strategy;
} cst_supervise_state;

typedef struct cst_lifecycle_state {
	casty_behavior  inner;
	casty_lifecycle hooks;
} cst_lifecycle_state;

// The state of a failed behavior: the code, then the reason's bytes.
typedef struct cst_failed_state {
	int32_t code;
	char    reason[];
} cst_failed_state;

/** cst_behavior_state returns the captured state of b. */
static inline const void *
cst_behavior_state(const casty_behavior *b)
{
	return b->size <= CASTY_BEHAVIOR_INLINE ? (const void *)b->state.bytes
						: b->state.heap;
}

/**
 * cst_behavior_free frees b's heap state, if any (and a wrapper's inner
 * behavior), and clears b.
 */
void cst_behavior_free(casty_behavior *b);

/**
 * cst_behavior_clone returns a deep copy of b, which stays b's own: the
 * runtime keeps an actor's spawn behavior and runs clones of it at each
 * restart. Aborts on out-of-memory.
 */
casty_behavior cst_behavior_clone(const casty_behavior *b);

#endif // CASTY_RUNTIME_BEHAVIOR_H
