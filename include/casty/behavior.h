/**
 * include/casty/behavior.h: behaviors are values; a handler returns the
 * next one.
 *
 * A behavior is a small immutable value: a handler plus the state it
 * captured, copied in when the behavior is built (the C stand-in for a
 * closure). A state transition is returning a new behavior that captures
 * the new state:
 *
 *     static casty_behavior
 *     account(int64_t balance)
 *     {
 *             return casty_receive(on_msg, &balance, sizeof balance);
 *     }
 *     ...   return account(balance + amount);   // in on_msg
 *
 * States up to CASTY_BEHAVIOR_INLINE bytes live inside the value, so the
 * transition allocates nothing; larger ones are copied to the heap once.
 */
#ifndef CASTY_BEHAVIOR_H
#define CASTY_BEHAVIOR_H

#include <casty/base.h>
#include <casty/msg.h>

/** Captured state up to this many bytes is stored inline. */
#define CASTY_BEHAVIOR_INLINE 48

/**
 * casty_behavior is a behavior value. Build it with the factories below;
 * do not read the fields. A behavior that owns heap state (more than
 * CASTY_BEHAVIOR_INLINE bytes) must be returned or spawned exactly once:
 * the runtime frees it when it is replaced.
 */
typedef struct casty_behavior {
	void    *fn;
	uint32_t kind;
	uint32_t size;
	union {
		unsigned char bytes[CASTY_BEHAVIOR_INLINE];
		void         *heap;
		max_align_t   align;
	} state;
} casty_behavior;

/**
 * casty_receive_fn handles one message and returns the next behavior:
 * casty_same() to keep this one, a new value to change state,
 * casty_stopped() or casty_unhandled(). state points at the bytes this
 * behavior captured (read-only). msg is borrowed: the runtime frees it
 * after the handler returns.
 * Thread: the worker running the actor. Blocks: must not.
 */
typedef casty_behavior (*casty_receive_fn)(
	casty_ctx *ctx, const void *state, const casty_msg *msg);

/**
 * casty_setup_fn runs once when the actor starts (and on every restart)
 * with the actor's context, and returns the behavior for the first
 * message. Children are typically spawned here.
 */
typedef casty_behavior (*casty_setup_fn)(casty_ctx *ctx, const void *state);

#define CASTY__UNUSED __attribute__((unused))

/**
 * CASTY_HANDLER(name, State) { ... } defines a casty_receive_fn `name`
 * whose body sees `ctx`, `state` as a const State * and `msg`; unused
 * ones raise no warning. The typed body is inlined into the wrapper.
 *
 *     CASTY_HANDLER(account_receive, int64_t)
 *     {
 *             ... return account(*state + CASTY_AS(Deposit, msg)->amount);
 *     }
 */
#define CASTY_HANDLER(name, State)                                            	static casty_behavior name##__typed(                                  		casty_ctx *, const State *, const casty_msg *);               	static casty_behavior name(                                           		casty_ctx *ctx, const void *state, const casty_msg *msg)      	{                                                                     		return name##__typed(ctx, (const State *)state, msg);         	}                                                                     	static inline casty_behavior name##__typed(casty_ctx *ctx CASTY__UNUSED, 		const State *state CASTY__UNUSED,                             		const casty_msg *msg CASTY__UNUSED)

/**
 * CASTY_SETUP(name, State) { ... } defines a casty_setup_fn `name` whose
 * body sees `ctx` and `state` (a const State *), as CASTY_HANDLER.
 */
#define CASTY_SETUP(name, State)                                              	static casty_behavior name##__typed(casty_ctx *, const State *);       	static casty_behavior name(casty_ctx *ctx, const void *state)         	{                                                                     		return name##__typed(ctx, (const State *)state);              	}                                                                     	static inline casty_behavior name##__typed(                           		casty_ctx *ctx CASTY__UNUSED, const State *state CASTY__UNUSED)

// Kinds of behavior values; private, for the inline factories below.
enum {
	CASTY__BEH_NONE,
	CASTY__BEH_RECEIVE,
	CASTY__BEH_SETUP,
	CASTY__BEH_SAME,
	CASTY__BEH_STOPPED,
	CASTY__BEH_UNHANDLED,
	CASTY__BEH_RESTART,   // casty_restart (supervision.h)
	CASTY__BEH_FAILED,    // casty_failed: state is the failure
	CASTY__BEH_SUPERVISE, // casty_supervise: state wraps a behavior
	CASTY__BEH_LIFECYCLE, // casty_with_lifecycle: likewise
	CASTY__BEH_PERSISTED, // casty_persisted (persistence.h)
};

/**
 * casty_behavior_capture builds a behavior of the given kind with fn and
 * a copy of state_size bytes of state, on the heap when they do not fit
 * inline. Use casty_receive and casty_setup. Aborts on out-of-memory.
 * Thread: any.
 */
CASTY_API casty_behavior casty_behavior_capture(
	void *fn, uint32_t kind, const void *state, size_t state_size);

static inline casty_behavior
casty__capture(void *fn, uint32_t kind, const void *state, size_t size)
{
	// The common case, a small state of a size known at compile time,
	// becomes a few stores: this is the path of every state transition.
	if (__builtin_constant_p(size) && size <= CASTY_BEHAVIOR_INLINE) {
		casty_behavior b = {.fn = fn, .kind = kind, .size = (uint32_t)size};
		if (size != 0) {
			__builtin_memcpy(b.state.bytes, state, size);
		}
		return b;
	}
	return casty_behavior_capture(fn, kind, state, size);
}

/**
 * casty_receive builds a behavior that copies state_size bytes of state
 * and calls fn for every message. state may be NULL when state_size is 0.
 * Aborts on out-of-memory (only for states above CASTY_BEHAVIOR_INLINE).
 * Thread: any.
 */
static inline casty_behavior
casty_receive(casty_receive_fn fn, const void *state, size_t state_size)
{
	return casty__capture(
		(void *)fn, CASTY__BEH_RECEIVE, state, state_size);
}

/**
 * casty_setup builds a behavior that, when the actor starts, calls
 * fn(ctx, state) and becomes the behavior it returns. Thread: any.
 */
static inline casty_behavior
casty_setup(casty_setup_fn fn, const void *state, size_t state_size)
{
	return casty__capture((void *)fn, CASTY__BEH_SETUP, state, state_size);
}

/** casty_same keeps the current behavior. Allocates nothing. */
static inline casty_behavior
casty_same(void)
{
	casty_behavior b = {.kind = CASTY__BEH_SAME};
	return b;
}

/**
 * casty_stopped stops the actor after this message: its children stop
 * first, then its watchers get casty_terminated. Messages still queued
 * become dead letters. Allocates nothing.
 */
static inline casty_behavior
casty_stopped(void)
{
	casty_behavior b = {.kind = CASTY__BEH_STOPPED};
	return b;
}

/**
 * casty_unhandled reports that the message was not handled: it is
 * counted (casty_system_stats), published as casty_unhandled_message
 * (events.h) and the behavior is kept.
 */
static inline casty_behavior
casty_unhandled(void)
{
	casty_behavior b = {.kind = CASTY__BEH_UNHANDLED};
	return b;
}

#endif // CASTY_BEHAVIOR_H
