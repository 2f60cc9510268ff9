/**
 * include/casty/lifecycle.h: hooks around an actor's start, stop and
 * restart.
 *
 * The order, for an actor spawned with casty_with_lifecycle:
 *   start:   setup (if any), pre_start, then the first message;
 *            casty_actor_started is published after pre_start.
 *   stop:    the last message, the children stop, post_stop, then the
 *            watchers get casty_terminated and casty_actor_stopped is
 *            published.
 *   restart: pre_restart (with the failure), the children stop, the
 *            actor's timers are cancelled, setup and pre_start run again,
 *            post_restart, casty_actor_restarted is published, then the
 *            next message (mailbox contents are kept).
 * Hooks that run while the actor comes alive (pre_start, post_restart)
 * fail it when they return a nonzero code: the failure goes to its
 * strategy like a handler's (an unsupervised actor stops, and a
 * restart-forever strategy is still bounded by max_restarts). Hooks that
 * run while it goes away (pre_restart, post_stop) cannot stop that: a
 * nonzero code is logged and the stop or restart goes on.
 */
#ifndef CASTY_LIFECYCLE_H
#define CASTY_LIFECYCLE_H

#include <casty/base.h>
#include <casty/behavior.h>
#include <casty/supervision.h>

/**
 * casty_lifecycle holds the hooks; any may be NULL. Each runs on the
 * actor's worker with its context, and returns CASTY_OK (0) or a failure
 * code.
 */
typedef struct casty_lifecycle {
	int (*pre_start)(casty_ctx *ctx);
	int (*post_stop)(casty_ctx *ctx);
	int (*pre_restart)(casty_ctx *ctx, const casty_failure *failure);
	int (*post_restart)(casty_ctx *ctx);
} casty_lifecycle;

/**
 * casty_with_lifecycle wraps behavior with hooks (copied). Wrappers nest;
 * an inner hook overrides an outer one of the same kind. Thread: any.
 * Allocates: the wrapper, freed with the actor.
 */
CASTY_API casty_behavior casty_with_lifecycle(
	casty_behavior behavior, casty_lifecycle hooks);

#endif // CASTY_LIFECYCLE_H
