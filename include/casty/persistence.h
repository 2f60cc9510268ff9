/**
 * include/casty/persistence.h: event-sourced actors. The state is not
 * stored; the events that changed it are, in a journal (journal.h), and
 * the state is their fold. A command handler decides which events to
 * persist; once the journal has made them durable, the event handler
 * folds them into the state and the next command is handled.
 *
 *     typedef struct { int64_t balance; } AccountState;
 *     CASTY_MESSAGE(AccountState, balance);
 *     CASTY_PROTOCOL(AccountEvent, Deposited, Withdrawn);
 *
 *     static void on_event(void *state, const casty_msg *event)
 *     {
 *             AccountState *s = state;
 *             switch (AccountEvent_tag_of(event)) {
 *             case AccountEvent_Deposited: s->balance += ...; break;
 *             ...
 *     }
 *
 *     CASTY_COMMAND(on_command, AccountState)   // ctx, state, msg
 *     {
 *             ... casty_persist(ctx, Deposited, .amount = 100);
 *             return casty_persisted();
 *     }
 *
 *     casty_spawn(system, AccountMsg, casty_event_sourced(&(casty_event_sourced_spec){
 *             .entity_id = "account-1", .journal = journal,
 *             .events = &AccountEvent__protocol,
 *             .state_type = &AccountState__type, .initial_state = &zero,
 *             .on_event = on_event, .on_command = on_command,
 *             .snapshot_every = 100}), "account-1", &ref);
 *
 * Recovery: when the actor starts (and after every restart by its
 * supervisor) it loads the newest snapshot and folds the events after it
 * before it handles its first command. Commands that arrive during the
 * recovery or while a persist is in flight are stashed and handled after
 * it, in order. A failed persist or recovery fails the actor (its
 * supervisor decides; an unsupervised actor stops): it is never left
 * half alive. Events and states are stored as MessagePack through their
 * schema, with a version and a schema hash, so a record written by
 * another version of a type is refused, not misread. casty_ref fields of
 * events are not kept (a ref means nothing to a later process).
 */
#ifndef CASTY_PERSISTENCE_H
#define CASTY_PERSISTENCE_H

#include <casty/base.h>
#include <casty/behavior.h>
#include <casty/journal.h>
#include <casty/msg.h>

/**
 * casty_event_fn folds one event into the state, in place. It must be a
 * pure function of the state and the event: it runs again at recovery.
 * Read the event with its protocol's tag (P_tag_of) and CASTY_AS.
 */
typedef void (*casty_event_fn)(void *state, const casty_msg *event);

/**
 * casty_command_fn handles one command: it calls casty_persist for the
 * events to store and returns casty_persisted(), or returns casty_same(),
 * casty_stopped(), casty_unhandled() or casty_failed(...).
 */
typedef casty_behavior (*casty_command_fn)(
	casty_ctx *ctx, const void *state, const casty_msg *command);

/** casty_event_sourced_spec describes an event-sourced actor. */
typedef struct casty_event_sourced_spec {
	const char           *entity_id;  // 1..255 bytes
	casty_journal        *journal;    // outlives the actor
	const casty_protocol *events;     // the event types
	const casty_msg_type *state_type; // the state's schema (snapshots)
	const void           *initial_state; // state_type->size bytes
	casty_event_fn        on_event;
	casty_command_fn      on_command;
	uint32_t              snapshot_every; // 0: no snapshots
} casty_event_sourced_spec;

/**
 * casty_event_sourced builds the behavior of an event-sourced actor from
 * spec (copied, with the entity id and the initial state). Spawn it with
 * the protocol of the commands; wrap it with casty_supervise as any
 * behavior. A spec missing a field yields a behavior that fails the
 * actor at start with -EINVAL. Thread: any.
 */
CASTY_API casty_behavior casty_event_sourced(
	const casty_event_sourced_spec *spec);

/**
 * casty_persist_msg stages one event for the command being handled; the
 * events staged are persisted together, all or nothing, when the handler
 * returns casty_persisted() (and dropped if it returns anything else).
 * Returns CASTY_OK, -EINVAL (not inside an event-sourced command handler)
 * or CASTY_ETYPE (type is not one of the actor's events).
 */
CASTY_API int casty_persist_msg(
	casty_ctx *ctx, const casty_msg_type *type, const void *payload);

/** casty_persist(ctx, Type, fields...) stages Type{fields...}. */
#define casty_persist(ctx, T, ...)                                            \
	casty_persist_msg((ctx), &T##__type, &(T){__VA_ARGS__})

/** casty_persisted persists the events staged by this command. */
static inline casty_behavior
casty_persisted(void)
{
	casty_behavior b = {.kind = CASTY__BEH_PERSISTED};
	return b;
}

/**
 * CASTY_COMMAND(name, State) { ... } defines a casty_command_fn whose
 * body sees ctx, state (a const State *) and msg, as CASTY_HANDLER.
 */
#define CASTY_COMMAND(name, State) CASTY_HANDLER(name, State)

#endif // CASTY_PERSISTENCE_H
