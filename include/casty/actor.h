/**
 * include/casty/actor.h: what a handler can do through its context:
 * name itself, spawn and stop children, stop itself, watch others.
 * Every function here: Thread: self (inside the actor's own handler or
 * setup). Blocks: never.
 */
#ifndef CASTY_ACTOR_H
#define CASTY_ACTOR_H

#include <casty/base.h>
#include <casty/system.h>

/** casty_self returns the ref of the running actor. */
CASTY_API casty_ref casty_self(casty_ctx *ctx);

/** casty_ctx_system returns the system the actor runs in. */
CASTY_API casty_system *casty_ctx_system(casty_ctx *ctx);

/** casty_ctx_parent returns the parent's ref (CASTY_REF_NONE for roots). */
CASTY_API casty_ref casty_ctx_parent(casty_ctx *ctx);

/**
 * casty_ctx_name copies the actor's name (NUL-terminated, truncated to
 * size) into buf and returns its full length.
 */
CASTY_API size_t casty_ctx_name(casty_ctx *ctx, char *buf, size_t size);

/**
 * casty_ctx_path writes the actor's path, "/parent/child", as
 * casty_ctx_name does.
 */
CASTY_API size_t casty_ctx_path(casty_ctx *ctx, char *buf, size_t size);

/**
 * casty_ctx_spawn(ctx, P, behavior, name, &ref) spawns a child speaking
 * protocol P. Returns as casty_spawn_untyped.
 */
#define casty_ctx_spawn(ctx, P, behavior, name, out)                          \
	casty_spawn_untyped(casty_ctx_system(ctx), (ctx), &P##__protocol,     \
	    (behavior), (name), _Generic((out), P##_ref *: &(out)->ref))

/**
 * casty_ctx_child finds the running child called name and writes its ref
 * to *out. Returns CASTY_OK, -ENOENT or -EINVAL.
 */
CASTY_API int casty_ctx_child(casty_ctx *ctx, const char *name,
	casty_ref *out);

/**
 * casty_ctx_stop stops a direct child, or the actor itself, after the
 * messages already queued for it. Returns CASTY_OK, or -EINVAL when ref
 * is neither (use the child's own protocol to stop it otherwise).
 */
CASTY_API int casty_ctx_stop(casty_ctx *ctx, casty_ref ref);

/**
 * casty_ctx_watch asks for a casty_terminated message when the actor ref
 * names has stopped (at once if it already has). Watching twice is the
 * same as once. ref may name an actor of another node (cluster.h): its
 * node's removal from the cluster ends the watch the same way. Returns
 * CASTY_OK, CASTY_ENOREF, or CASTY_ESTOPPED for a remote ref whose
 * cluster node here has stopped.
 */
CASTY_API int casty_ctx_watch(casty_ctx *ctx, casty_ref ref);

/**
 * casty_ctx_unwatch cancels casty_ctx_watch: no casty_terminated for ref
 * is delivered after it returns, even one already on its way.
 */
CASTY_API int casty_ctx_unwatch(casty_ctx *ctx, casty_ref ref);

#endif // CASTY_ACTOR_H
