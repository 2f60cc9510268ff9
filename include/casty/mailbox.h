/**
 * include/casty/mailbox.h: bounded mailboxes.
 *
 * Mailboxes are unbounded unless an actor is spawned with a capacity.
 * A bounded mailbox holds at most capacity user messages (the runtime's
 * own messages, such as stop and watch, are never refused); when it is
 * full the overflow strategy decides:
 *   CASTY_DROP_NEW      the new message is dropped; tell returns CASTY_OK
 *   CASTY_DROP_OLDEST   the oldest waiting message is dropped when the
 *                       actor next takes one, so it never sees more than
 *                       capacity waiting; tell returns CASTY_OK
 *   CASTY_BACKPRESSURE  tell refuses the message and returns CASTY_EFULL
 *                       to the sender, who still owns the decision
 * Every dropped message is published as a casty_dead_letter with the
 * reason (events.h) and counted in casty_system_stats.dead_letters.
 */
#ifndef CASTY_MAILBOX_H
#define CASTY_MAILBOX_H

#include <casty/base.h>
#include <casty/actor.h>
#include <casty/system.h>

typedef enum casty_overflow {
	CASTY_DROP_NEW = 1,
	CASTY_DROP_OLDEST,
	CASTY_BACKPRESSURE,
} casty_overflow;

/** casty_mailbox configures one actor's mailbox. */
typedef struct casty_mailbox {
	uint32_t       capacity; // 0: unbounded
	casty_overflow overflow; // used when capacity > 0
} casty_mailbox;

#define CASTY_MAILBOX_MAX_CAPACITY (1u << 30)

/**
 * casty_spawn_mailbox(sys, P, behavior, name, mailbox, &ref) spawns a
 * root actor as casty_spawn does, with the mailbox settings *mailbox
 * (copied; NULL: unbounded). A capacity above CASTY_MAILBOX_MAX_CAPACITY
 * or an unknown overflow is -EINVAL.
 */
#define casty_spawn_mailbox(sys, P, behavior, name, mailbox, out)             \
	casty_spawn_with((sys), NULL, &P##__protocol, (behavior), (name),     \
	    (mailbox), _Generic((out), P##_ref *: &(out)->ref))

/** casty_ctx_spawn_mailbox is casty_spawn_mailbox for a child. */
#define casty_ctx_spawn_mailbox(ctx, P, behavior, name, mailbox, out)         \
	casty_spawn_with(casty_ctx_system(ctx), (ctx), &P##__protocol,        \
	    (behavior), (name), (mailbox),                                    \
	    _Generic((out), P##_ref *: &(out)->ref))

/**
 * casty_spawn_with is casty_spawn_untyped with mailbox settings (NULL:
 * unbounded). Returns as casty_spawn_untyped.
 */
CASTY_API int casty_spawn_with(casty_system *sys, casty_ctx *parent,
	const casty_protocol *proto, casty_behavior behavior,
	const char *name, const casty_mailbox *mailbox, casty_ref *out);

#endif // CASTY_MAILBOX_H
