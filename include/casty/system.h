/**
 * include/casty/system.h: the actor system: create, spawn root actors,
 * ask from outside, stop and destroy.
 */
#ifndef CASTY_SYSTEM_H
#define CASTY_SYSTEM_H

#include <casty/base.h>
#include <casty/behavior.h>
#include <casty/msg.h>

/** casty_system_config holds the settings of a system. */
typedef struct casty_config casty_config; // config.h

typedef struct casty_system_config {
	// System name in paths; NULL: [system] name of config, else
	// "casty-system".
	const char *name;
	unsigned    workers;    // worker threads; 0: one per online CPU
	unsigned    throughput; // messages per actor run; 0: 64
	// Sender help (the default, false here): while every worker is in a
	// long handler run, a handler that has sent an actor a few dozen
	// messages in this run, or a few hundred to any actors, may handle a
	// batch of the receiver's messages on its own thread inside the
	// send, as Erlang makes a sender to a long queue wait. The
	// receiver's backlog then stays small and in cache (bench/fanin,
	// bench/forkjoin_throughput). The receiver is still run by one
	// thread at a time, in mailbox order. The one thing a handler must
	// not do with it: hold a lock across casty_tell that the receiver's
	// handler also takes. true turns it off.
	bool no_sender_help;
	// How long casty_system_destroy waits for the actors to go idle
	// before it stops them; default 5000 ms, 0: stop at once.
	unsigned drain_timeout_ms;
	// A loaded casty.toml (config.h), or NULL. Spawns then take their
	// mailbox and supervision from it, by name, unless given in code.
	// Borrowed: keep it until casty_system_destroy has returned.
	const casty_config *config;
} casty_system_config;

/** casty_system_config_init fills cfg with the defaults. Thread: any. */
CASTY_API void casty_system_config_init(casty_system_config *cfg);

/**
 * casty_system_create starts a system: its worker threads are running
 * when it returns. cfg may be NULL for the defaults. On success *out is
 * the system, which the caller owns (casty_system_destroy); on failure
 * *out is untouched and the result is -EINVAL (a bad setting), -ENOMEM,
 * the error of pthread_create, or the error of io_uring_queue_init when
 * io_uring is unavailable (disabled by sysctl or seccomp: -EPERM,
 * -ENOSYS), which is also printed on stderr. Thread: any.
 */
CASTY_API int casty_system_create(
	const casty_system_config *cfg, casty_system **out);

/**
 * casty_system_stop begins an orderly shutdown: every root actor is sent
 * a stop, in spawn order, behind the messages already in its mailbox, so
 * what was sent before is still handled; each stops its children first.
 * New root spawns then fail with CASTY_ESTOPPED. Never blocks; calling it
 * again is harmless. Thread: any, including a handler.
 */
CASTY_API void casty_system_stop(casty_system *sys);

/**
 * casty_system_wait blocks until casty_system_stop has run and every
 * actor has stopped. From then on tell returns CASTY_ESTOPPED.
 * Thread: any but a worker (it would deadlock). Blocks: yes.
 */
CASTY_API void casty_system_wait(casty_system *sys);

/**
 * casty_system_destroy shuts the system down gracefully: it first waits
 * (up to drain_timeout_ms) until no actor has work left, so messages sent
 * before and the ones they cause are handled; then it stops the system
 * as casty_system_stop does, waits for every actor to stop, joins every
 * thread and frees everything. Refs into the system must not be used
 * afterwards.
 * Thread: any but a worker. Blocks: yes.
 */
CASTY_API void casty_system_destroy(casty_system *sys);

/** casty_system_name returns the system's name. Thread: any. */
CASTY_API const char *casty_system_name(const casty_system *sys);

/** casty_system_stats counts what a system did; read with _stats(). */
typedef struct casty_system_stats {
	uint64_t dead_letters; // every casty_dead_letter, whatever its reason
	uint64_t unhandled;    // messages a behavior did not handle
	uint64_t live_actors;  // actors started and not yet stopped
} casty_system_stats;

/** casty_system_stats_get reads the counters. Thread: any. */
CASTY_API void casty_system_stats_get(
	casty_system *sys, casty_system_stats *out);

/**
 * casty_spawn_untyped starts a root actor (parent NULL) or a child of the
 * actor whose context is parent, with the given protocol and behavior,
 * and writes its ref to *out. The behavior is consumed even on failure.
 * name may be NULL for a generated one; otherwise it must be non-empty,
 * contain no '/' and be unique among the siblings.
 * Returns CASTY_OK, -EINVAL (bad argument), -EEXIST (duplicate name) or
 * CASTY_ESTOPPED (the system or the parent is stopping).
 * Messages sent to the new ref before the actor has started are queued.
 * Thread: any for roots; the parent's handler for children.
 */
CASTY_API int casty_spawn_untyped(casty_system *sys, casty_ctx *parent,
	const casty_protocol *proto, casty_behavior behavior,
	const char *name, casty_ref *out);

/**
 * casty_spawn(sys, P, behavior, name, &ref) spawns a root actor speaking
 * protocol P; ref must be a P_ref. Returns as casty_spawn_untyped.
 */
#define casty_spawn(sys, P, behavior, name, out)                              \
	casty_spawn_untyped((sys), NULL, &P##__protocol, (behavior), (name),  \
	    _Generic((out), P##_ref *: &(out)->ref))

/**
 * casty_ask_msg sends a request built from payload with a fresh reply ref
 * written at reply_offset, and waits up to timeout_ms for the first
 * reply, which it stores in *reply (free it with casty_msg_free).
 * Returns CASTY_OK, -ETIMEDOUT (no reply in time: a later reply becomes
 * a dead letter and nothing leaks), -EINVAL, CASTY_ENOREF,
 * CASTY_EFULL (a full backpressure mailbox refused the request) or
 * CASTY_ESTOPPED. Thread: any but a worker. Blocks: up to timeout_ms.
 */
CASTY_API int casty_ask_msg(casty_system *sys, casty_ref to,
	const casty_msg_type *type, unsigned tag, const void *payload,
	size_t reply_offset, int64_t timeout_ms, casty_msg **reply);

/**
 * casty_ask(sys, to, Type, reply_field, timeout_ms, &reply, fields...)
 * asks the typed ref `to` with Type{fields...}, whose casty_ref field
 * reply_field is set to the temporary reply ref. Returns as casty_ask_msg.
 *
 *     casty_msg *reply;
 *     casty_ask(sys, account, GetBalance, reply_to, 5000, &reply);
 *     printf("%ld\n", CASTY_AS(casty_int, reply)->value);
 *     casty_msg_free(reply);
 */
#define casty_ask(sys, to, T, reply_field, timeout_ms, reply, ...)            \
	casty_ask_msg((sys), (to).ref, &T##__type, CASTY__TAG(to, T),         \
	    &(T){__VA_ARGS__},                                                \
	    _Generic(&((T *)0)->reply_field,                                  \
		casty_ref *: offsetof(T, reply_field)),                       \
	    (timeout_ms), (reply))

#endif // CASTY_SYSTEM_H
