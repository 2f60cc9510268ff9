/**
 * include/casty/events.h: the system event stream, a publish/subscribe
 * bus for observing actors.
 *
 * Subscribers are actors: casty_subscribe(sys, ref, casty_dead_letter)
 * makes every later casty_dead_letter event a message to ref, which must
 * have the event type in its protocol. Events are published by the
 * runtime only; each subscriber receives them in the order one publisher
 * published them. A subscriber that stops is unsubscribed; an event that
 * cannot be delivered is dropped, never republished as a dead letter.
 * With no subscriber for a type, publishing it costs one atomic load.
 */
#ifndef CASTY_EVENTS_H
#define CASTY_EVENTS_H

#include <casty/base.h>
#include <casty/config.h> // CASTY_ROLES_MAX, CASTY_ROLE_MAX
#include <casty/msg.h>

/** casty_actor_started: an actor has started (after its pre_start). */
typedef struct casty_actor_started {
	casty_ref ref;
	char      path[112];
} casty_actor_started;
CASTY_API extern const casty_msg_type casty_actor_started__type;

/** casty_actor_stopped: an actor has stopped (after its post_stop). */
typedef struct casty_actor_stopped {
	casty_ref ref;
	char      path[112];
} casty_actor_stopped;
CASTY_API extern const casty_msg_type casty_actor_stopped__type;

/** casty_actor_restarted: an actor was restarted after code/reason. */
typedef struct casty_actor_restarted {
	casty_ref ref;
	char      path[112];
	int32_t   code;
	char      reason[128];
} casty_actor_restarted;
CASTY_API extern const casty_msg_type casty_actor_restarted__type;

/** Why a message became a dead letter. */
typedef enum casty_dead_letter_reason {
	CASTY_DEAD_STOPPED = 1, // the recipient had stopped (or never ran)
	CASTY_DEAD_DROP_NEW,    // bounded mailbox full: the new one dropped;
	                        // or, for an actor of another node, its
	                        // node not connected and max_pending_per_node
	                        // messages waiting already (cluster.h)
	CASTY_DEAD_DROP_OLDEST, // bounded mailbox full: the oldest dropped
	// From another node (cluster.h): a type this node does not know,
	// or another version of it (message_type names it, message says
	// which); the recipient was never disturbed.
	CASTY_DEAD_UNKNOWN_TYPE,
	// From another node: the bytes do not fit the type's schema (a
	// missing or unknown field, a value out of range, a bad ref).
	CASTY_DEAD_INVALID,
	// For an actor of a node that is no current member of the cluster
	// (cluster.h: never was, or downed, removed, replaced by a new run);
	// the message never left this node.
	CASTY_DEAD_NOT_MEMBER,
} casty_dead_letter_reason;

/**
 * casty_dead_letter: a message that was not delivered. message is the
 * message printed with its schema ("Deposit{amount=100}", truncated);
 * message_type its type name.
 */
typedef struct casty_dead_letter {
	casty_ref recipient;
	int32_t   reason; // casty_dead_letter_reason
	char      message_type[64];
	char      message[192];
} casty_dead_letter;
CASTY_API extern const casty_msg_type casty_dead_letter__type;

/**
 * casty_unhandled_message: a message the recipient's behavior did not
 * handle (casty_unhandled(), or a type outside its protocol).
 */
typedef struct casty_unhandled_message {
	casty_ref recipient;
	char      path[112];
	char      message_type[64];
	char      message[192];
} casty_unhandled_message;
CASTY_API extern const casty_msg_type casty_unhandled_message__type;

/*
 * Cluster membership (include/casty/cluster.h), published by the cluster
 * node of this system. Each names the member: its system, host and port,
 * the incarnation that tells a restarted node from its predecessor, and
 * its roles, sorted and comma-separated ("backend,worker"; "" for none),
 * which casty_roles_contain reads. (One string rather than an array:
 * events are messages, and a message field is a scalar, a string or a
 * ref.)
 */

/** The size of the roles of a member event: every role and its comma. */
#define CASTY_ROLES_TEXT_MAX (CASTY_ROLES_MAX * CASTY_ROLE_MAX)

/**
 * casty_roles_contain says whether role is one of roles, a member
 * event's comma-separated list. Thread: any.
 */
CASTY_API bool casty_roles_contain(const char *roles, const char *role);

/** casty_member_joined: the member has asked to join and is joining. */
typedef struct casty_member_joined {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_member_joined;
CASTY_API extern const casty_msg_type casty_member_joined__type;

/** casty_member_up: the leader has moved the member up. */
typedef struct casty_member_up {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_member_up;
CASTY_API extern const casty_msg_type casty_member_up__type;

/** casty_member_left: the member has left gracefully (it is exiting). */
typedef struct casty_member_left {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_member_left;
CASTY_API extern const casty_msg_type casty_member_left__type;

/**
 * casty_member_downed: the member is down: the split-brain resolver (or
 * a restart of its node) took it out, and the leader removes it next.
 * Published about this node itself when its own side has downed itself:
 * its part in the cluster is over; stop it, and start the process again
 * to rejoin as a new incarnation.
 */
typedef struct casty_member_downed {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_member_downed;
CASTY_API extern const casty_msg_type casty_member_downed__type;

/** casty_member_removed: the member is gone from the cluster for good. */
typedef struct casty_member_removed {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_member_removed;
CASTY_API extern const casty_msg_type casty_member_removed__type;

/** casty_unreachable_member: some member's failure detector gave up on it. */
typedef struct casty_unreachable_member {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_unreachable_member;
CASTY_API extern const casty_msg_type casty_unreachable_member__type;

/** casty_reachable_member: every member reaches it again. */
typedef struct casty_reachable_member {
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_reachable_member;
CASTY_API extern const casty_msg_type casty_reachable_member__type;

/**
 * casty_leader_changed: the leader, as this node sees it, is another
 * member, or (has_leader false, the rest empty) there is none: every
 * member is unreachable or gone. The leader is the first reachable up
 * member by address (cluster.h).
 */
typedef struct casty_leader_changed {
	bool     has_leader;
	char     system[64];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} casty_leader_changed;
CASTY_API extern const casty_msg_type casty_leader_changed__type;

/** casty_dead_letter_reason_name names a reason ("stopped", ...). */
CASTY_API const char *casty_dead_letter_reason_name(int reason);

/**
 * casty_subscribe_type makes every event of type published from now on a
 * message to subscriber. Subscribing twice is the same as once. Returns
 * CASTY_OK, -EINVAL (type is not an event type), CASTY_ENOREF or
 * CASTY_ESTOPPED. Thread: any. Blocks: briefly, on the stream's lock.
 */
CASTY_API int casty_subscribe_type(casty_system *sys, casty_ref subscriber,
	const casty_msg_type *type);

/**
 * casty_unsubscribe_type cancels casty_subscribe_type; events published
 * after it returns are not sent. Unknown pairs are ignored. Returns
 * CASTY_OK or -EINVAL. Thread: any.
 */
CASTY_API int casty_unsubscribe_type(casty_system *sys,
	casty_ref subscriber, const casty_msg_type *type);

/**
 * casty_subscribe(sys, ref, Event) subscribes the typed ref to Event,
 * which must be in ref's protocol (else it does not compile).
 */
#define casty_subscribe(sys, to, T)                                           \
	((void)CASTY__TAG(to, T), casty_subscribe_type((sys), (to).ref, &T##__type))
#define casty_unsubscribe(sys, to, T)                                         \
	((void)CASTY__TAG(to, T),                                             \
	    casty_unsubscribe_type((sys), (to).ref, &T##__type))

/**
 * casty_msg_format prints a message as its schema describes it,
 * "Type{field=value, ...}", into buf (NUL-terminated, truncated to size)
 * and returns the full length. Thread: any.
 */
CASTY_API size_t casty_msg_format(const casty_msg_type *type,
	const void *payload, char *buf, size_t size);

#endif // CASTY_EVENTS_H
