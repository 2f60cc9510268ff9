// runtime/msg.h: envelopes: allocation, delivery and dead letters.
#ifndef CASTY_RUNTIME_MSG_H
#define CASTY_RUNTIME_MSG_H

#include <casty/casty.h>

#include "runtime/cell.h"
#include "runtime/supervision.h"

/**
 * cst_msg_new returns an envelope of type with a payload of type->size
 * bytes copied from payload (zeroed when NULL), addressed to ref's
 * incarnation. Aborts on out-of-memory. Thread: any.
 */
casty_msg *cst_msg_new(const casty_msg_type *type, unsigned tag,
	const void *payload, uint32_t target_gen);

/** cst_msg_free frees an envelope into the caller's pool. */
void cst_msg_free(casty_msg *msg);

// A type flag (casty_msg_type.flags) beside CASTY_MSG_SYSTEM and
// CASTY_MSG_EVENT: a layer's own message to its actor's handler (event
// sourcing's journal completions). It reaches the handler without being
// in the actor's protocol, and is never published as a dead letter.
#define CST_MSG_INTERNAL 4u

// Envelope flags (casty_msg.flags).
enum {
	CST_MSG_COUNTED = 1u << 0, // counted in a bounded mailbox's queued
};

/**
 * cst_deliver hands msg to cell: a dead letter when the incarnation is
 * gone, the promise's slot for a promise cell, else the mailbox (and
 * schedules the cell when that made it non-empty); a full bounded
 * mailbox applies its overflow strategy. Consumes msg. Returns CASTY_OK
 * (also for a dead letter or a dropped message) or CASTY_EFULL (a
 * backpressure mailbox refused it). Thread: any.
 */
int cst_deliver(casty_cell *cell, casty_msg *msg);

/**
 * cst_dead_letter counts msg as undeliverable to cell for reason (a
 * casty_dead_letter_reason) and publishes it. A watch request that cannot
 * be delivered is answered with casty_terminated at once. System
 * messages and events are not dead letters. Does not free msg.
 * Thread: any.
 */
void cst_dead_letter(casty_cell *cell, casty_msg *msg, int reason);

/**
 * cst_dead_letter_undecoded counts and publishes a dead letter for a
 * message that never became an envelope (one from another node that
 * could not be decoded, or one for a node the cluster removed):
 * type_name and detail stand for the message.
 * Thread: any.
 */
void cst_dead_letter_undecoded(casty_system *sys, casty_ref recipient,
	int reason, const char *type_name, const char *detail);

// The runtime's own messages; they never reach a handler.
typedef struct cst_sys_start {
	char unused; // the behavior is in the cell already (see actor.c)
} cst_sys_start;
typedef struct cst_sys_stop {
	int unused;
} cst_sys_stop;
typedef struct cst_sys_watch {
	casty_ref watcher;
} cst_sys_watch;
typedef struct cst_sys_child_stopped {
	casty_cell *child;
} cst_sys_child_stopped;
// A failure, a cst_failure: to the actor itself (decided on the next
// dispatch) or, for an escalation, to its parent.
typedef struct cst_sys_timer { // an actor timer fired (actor_timers.c)
	uint64_t id;
} cst_sys_timer;

// Which actor a path names (cst_identify): the request travels down the
// tree, one named child per hop, each hop handled by the actor whose
// children it reads; the actor the path ends at, or the first that lacks
// the next name, answers reply_to with a cst_identified.
#define CST_IDENTIFY_PATH_MAX 512
typedef struct cst_sys_identify {
	casty_ref reply_to;
	uint64_t  request;
	uint32_t  offset; // where the rest of the path starts, at a '/'
	char      path[CST_IDENTIFY_PATH_MAX];
} cst_sys_identify;
// The answer; ref is CASTY_REF_NONE when no actor has the path. Internal:
// it reaches a handler without a protocol (the cluster node's).
typedef struct cst_identified {
	uint64_t  request;
	casty_ref ref;
} cst_identified;

extern const casty_msg_type cst_sys_start__type;
extern const casty_msg_type cst_sys_stop__type;
extern const casty_msg_type cst_sys_watch__type;
extern const casty_msg_type cst_sys_unwatch__type;
extern const casty_msg_type cst_sys_child_stopped__type;
extern const casty_msg_type cst_sys_failed__type;       // to itself
extern const casty_msg_type cst_sys_child_failed__type; // to the parent
extern const casty_msg_type cst_sys_timer__type;
extern const casty_msg_type cst_sys_identify__type;
extern const casty_msg_type cst_identified__type;

/**
 * cst_identify asks which descendant of the root actor `root` the path
 * (below the root: "" for the root itself, "/child/grandchild" otherwise)
 * names; the answer goes to reply_to as a cst_identified with request.
 * Returns 0, or -ENAMETOOLONG. Thread: any.
 */
int cst_identify(casty_ref root, const char *path, size_t len,
	casty_ref reply_to, uint64_t request);

/** cst_send_sys sends a system message to ref. Thread: any. */
void cst_send_sys(casty_ref ref, const casty_msg_type *type,
	const void *payload);

#endif // CASTY_RUNTIME_MSG_H
