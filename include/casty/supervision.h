/**
 * include/casty/supervision.h: how a handler fails, and what its
 * supervisor does about it.
 *
 * A handler (or a setup, or a pre_start/post_restart hook) fails by
 * returning a failed behavior:
 *
 *     if (amount < 0)
 *             return casty_failed(EINVAL, "negative amount %ld", amount);
 *
 * The message that caused the failure is dropped, not retried. What
 * happens next is decided by the strategy the actor was spawned with
 * (casty_supervise): restart it from the behavior it was spawned with
 * (setup runs again, state is reset, its children are stopped first and
 * its timers cancelled; the messages waiting in its mailbox are kept),
 * stop it, or escalate: it stops and its parent fails with the same
 * code, so the parent's own strategy decides for the parent. An actor
 * spawned without a strategy stops on failure, and the failure is
 * logged. A root that escalates is stopped and logged: no failure takes
 * the process down.
 */
#ifndef CASTY_SUPERVISION_H
#define CASTY_SUPERVISION_H

#include <casty/base.h>
#include <casty/behavior.h>

/** casty_failure describes a failure to a decider or a hook. */
typedef struct casty_failure {
	int         code;   // what the failing code passed to casty_failed
	const char *reason; // its message; valid during the call only
} casty_failure;

/**
 * casty_failed returns a behavior that fails the actor with code and a
 * printf-formatted reason (truncated to 255 bytes). Return it from a
 * handler or a setup. Thread: any. Allocates: only for a reason longer
 * than the inline state.
 */
CASTY_API casty_behavior casty_failed(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * casty_restart returns a behavior that restarts the actor on purpose,
 * as a supervisor's restart would, without consulting or counting in its
 * strategy.
 */
static inline casty_behavior
casty_restart(void)
{
	casty_behavior b = {.kind = CASTY__BEH_RESTART};
	return b;
}

/** casty_directive is a supervisor's decision about one failure. */
typedef enum casty_directive {
	CASTY_RESTART = 1, // restart from the initial behavior
	CASTY_STOP,        // stop for good (watchers get casty_terminated)
	CASTY_ESCALATE,    // stop, and fail the parent with the same code
} casty_directive;

/**
 * casty_decider_fn maps a failure to a directive. Called on the failing
 * actor's worker; must not block.
 */
typedef casty_directive (*casty_decider_fn)(const casty_failure *failure);

/**
 * casty_strategy is a one-for-one strategy: each actor is judged alone.
 * A failure first goes to decider (NULL: always restart). A stop or an
 * escalate is final at once. A restart is granted only while fewer than
 * max_restarts restarts happened in the last within_ms milliseconds (a
 * sliding window); otherwise the actor is stopped. So with the defaults
 * (3 in 60 s) the fourth failure within a minute stops the actor.
 */
typedef struct casty_strategy {
	uint32_t         max_restarts; // at most CASTY_MAX_RESTARTS
	uint32_t         within_ms;    // window; 0: no limit in time
	casty_decider_fn decider;
} casty_strategy;

#define CASTY_MAX_RESTARTS 1024

/** CASTY_ONE_FOR_ONE is the default strategy: 3 restarts in 60 s. */
#define CASTY_ONE_FOR_ONE                                                     \
	((casty_strategy){.max_restarts = 3, .within_ms = 60000, .decider = NULL})

/**
 * casty_supervise wraps behavior so that the actor's failures are
 * handled by strategy (copied). The result is what you spawn; wrappers
 * nest (the innermost strategy wins). max_restarts above
 * CASTY_MAX_RESTARTS is clamped to it. Thread: any. Allocates: the
 * wrapper, freed with the actor.
 */
CASTY_API casty_behavior casty_supervise(
	casty_behavior behavior, casty_strategy strategy);

#endif // CASTY_SUPERVISION_H
