/**
 * include/casty/timer.h: messages scheduled for later, once or at a fixed
 * interval, kept by the system's reactor thread.
 *
 * Two kinds, both keyed: scheduling again with a key that is in use
 * replaces the older timer, and cancelling forgets it.
 *
 * - System timers (casty_schedule, casty_tick) send to any actor; their
 *   keys are the system's. A message that was already handed to the
 *   target's mailbox when the timer was cancelled or replaced is still
 *   delivered.
 * - Actor timers (casty_ctx_schedule, casty_ctx_tick) send to the actor
 *   that set them; their keys are that actor's, and they end when it
 *   stops or restarts. Akka's guarantee holds: once
 *   casty_ctx_cancel_timer returns, or the timer was replaced, no
 *   message of the old timer reaches the handler, not even one already
 *   in the mailbox.
 *
 *     casty_tick(sys, "poll", poller, Poll, 1000);         // every second
 *     casty_ctx_schedule(ctx, "timeout", Timeout, 5000);   // once, to self
 *     casty_ctx_cancel_timer(ctx, "timeout");
 *
 * Delays are in milliseconds on CLOCK_MONOTONIC, measured from the call.
 * A tick keeps its rate (the n-th firing is due at delay + n * interval)
 * and skips the firings it is too late for rather than bursting.
 * Requests reach the reactor in the order a thread makes them, so a
 * schedule followed by a cancel of the same key never leaves the timer
 * alive. Timers do not keep the system alive: casty_system_destroy drops
 * the ones still pending once every actor has stopped.
 */
#ifndef CASTY_TIMER_H
#define CASTY_TIMER_H

#include <casty/base.h>
#include <casty/msg.h>

/** CASTY_TIMER_KEY_MAX is the longest key, in bytes, without the NUL. */
#define CASTY_TIMER_KEY_MAX 255

/**
 * casty_schedule_msg makes the system send a copy of payload (type->size
 * bytes, copied now) as a message of type with tag to `to`, after
 * delay_ms, then, when interval_ms > 0, every interval_ms after that;
 * interval_ms == 0 sends once, and the key is forgotten after the
 * firing. A timer with the same key is replaced. Each firing is a tell:
 * a stopped target makes it a dead letter.
 * Returns CASTY_OK, -EINVAL (NULL system, NULL, empty or too long key,
 * NULL or system type, NULL payload, negative delay or interval, a ref of
 * another system), CASTY_ENOREF (the empty ref), CASTY_ESTOPPED (the
 * system is stopping or has stopped) or -ENOMEM.
 * Thread: any. Blocks: never.
 */
CASTY_API int casty_schedule_msg(casty_system *sys, const char *key,
	casty_ref to, const casty_msg_type *type, unsigned tag,
	const void *payload, int64_t delay_ms, int64_t interval_ms);

/**
 * casty_schedule(sys, key, to, Type, delay_ms, fields...) sends
 * Type{fields...} once to the typed ref `to` after delay_ms; Type must
 * belong to to's protocol, as for casty_tell. Returns as
 * casty_schedule_msg.
 */
#define casty_schedule(sys, key, to, T, delay_ms, ...)                        \
	casty_schedule_msg((sys), (key), (to).ref, &T##__type,                \
	    CASTY__TAG(to, T), &(T){__VA_ARGS__}, (delay_ms), 0)

/**
 * casty_tick(sys, key, to, Type, interval_ms, fields...) sends
 * Type{fields...} to the typed ref `to` every interval_ms, the first
 * after one interval (Casty's tick). interval_ms must be > 0 for a tick;
 * 0 sends once at once. Returns as casty_schedule_msg.
 */
#define casty_tick(sys, key, to, T, interval_ms, ...)                         \
	casty__tick_msg((sys), (key), (to).ref, &T##__type,                   \
	    CASTY__TAG(to, T), &(T){__VA_ARGS__}, (interval_ms))

/**
 * casty_cancel_schedule cancels the system timer key. An unknown key is
 * a no-op. A firing already handed to the target's mailbox may still
 * arrive after it returns; none is sent after. Returns CASTY_OK, or
 * -EINVAL (NULL system, bad key) or -ENOMEM.
 * Thread: any. Blocks: never.
 */
CASTY_API int casty_cancel_schedule(casty_system *sys, const char *key);

/**
 * casty_ctx_timer_msg sets the actor timer key of the running actor: it
 * sends the actor itself a copy of payload as a message of type after
 * delay_ms, then every interval_ms when interval_ms > 0. tag is the
 * type's tag in the actor's protocol or CASTY_TAG_UNKNOWN (resolved on
 * arrival; a type outside the protocol is then an unhandled message). A
 * timer of this actor with the same key is replaced, and no message of
 * the old one is handled afterwards. The timer ends when the actor stops.
 * Returns CASTY_OK, -EINVAL (as casty_schedule_msg) or CASTY_ESTOPPED
 * (the actor or the system is stopping).
 * Thread: self. Blocks: never.
 */
CASTY_API int casty_ctx_timer_msg(casty_ctx *ctx, const char *key,
	const casty_msg_type *type, unsigned tag, const void *payload,
	int64_t delay_ms, int64_t interval_ms);

/**
 * casty_ctx_schedule(ctx, key, Type, delay_ms, fields...) sends
 * Type{fields...} to the running actor once, after delay_ms. Untyped: the
 * actor checks the type on arrival. Returns as casty_ctx_timer_msg.
 */
#define casty_ctx_schedule(ctx, key, T, delay_ms, ...)                        \
	casty_ctx_timer_msg((ctx), (key), &T##__type, CASTY_TAG_UNKNOWN,      \
	    &(T){__VA_ARGS__}, (delay_ms), 0)

/**
 * casty_ctx_tick(ctx, key, Type, interval_ms, fields...) sends
 * Type{fields...} to the running actor every interval_ms, the first after
 * one interval. Returns as casty_ctx_timer_msg.
 */
#define casty_ctx_tick(ctx, key, T, interval_ms, ...)                         \
	casty__ctx_tick_msg((ctx), (key), &T##__type, CASTY_TAG_UNKNOWN,      \
	    &(T){__VA_ARGS__}, (interval_ms))

/**
 * casty_ctx_cancel_timer cancels the running actor's timer key: no
 * message of it is handled after it returns, even one already in the
 * mailbox. An unknown key is a no-op. Returns CASTY_OK or -EINVAL.
 * Thread: self. Blocks: never.
 */
CASTY_API int casty_ctx_cancel_timer(casty_ctx *ctx, const char *key);

// The ticks' first delay is their interval; these evaluate it once.
static inline int
casty__tick_msg(casty_system *sys, const char *key, casty_ref to,
	const casty_msg_type *type, unsigned tag, const void *payload,
	int64_t interval_ms)
{
	return casty_schedule_msg(
		sys, key, to, type, tag, payload, interval_ms, interval_ms);
}

static inline int
casty__ctx_tick_msg(casty_ctx *ctx, const char *key,
	const casty_msg_type *type, unsigned tag, const void *payload,
	int64_t interval_ms)
{
	return casty_ctx_timer_msg(
		ctx, key, type, tag, payload, interval_ms, interval_ms);
}

#endif // CASTY_TIMER_H
