// cluster/membership.h: one node's membership protocol as a state
// machine: frames and timer ticks in, with the time; frames, events and
// the new view out, through callbacks. No socket, thread, lock or clock
// inside, so one thread can drive the machines of a whole cluster over a
// simulated network (tests/sim) exactly as node_actor.c drives one over
// the transport and the reactor's timers.
//
// What it does on each input:
//   gossip tick     join requests to the seeds until a member (the first
//                   seed founds the cluster, unless another seed admits
//                   it first); then push-pull gossip to up to fanout
//                   peers, those that have not seen this version first,
//                   and "a cluster is here" to the seeds where no live
//                   member is (restarted seeds join it rather than found
//                   a second cluster beside it);
//   heartbeat tick  a heartbeat to every live member, whose replies feed
//                   the phi accrual detectors;
//   check tick      members the detector gives up on are marked
//                   unreachable, recovered ones reachable again (this
//                   node's own rows only: it retracts what it observed as
//                   soon as it hears the member again);
//   frames          join requests admitted, gossip merged and answered,
//                   heartbeats answered.
// After each, the leader (if this node leads in its own view) acts, the
// split-brain resolver (downing.h) decides when the view has been
// stable, and the difference to the last published view goes out as
// events.
//
// Gossip goes only to members this node itself hears: rows that other
// observers hold may be stale (their retraction is what the gossip would
// bring), and a node that skipped members because of such rows could cut
// itself off from the very gossip that clears them; after a healed
// partition every node did, and the cluster never recovered.
//
// A node whose own table says it is down or removed is out: it no longer
// gossips or heartbeats, and answers gossip only so that others learn
// that it is out. Only a new incarnation (a restart) joins again.
//
// What keeps one cluster, found by the simulator (tests/sim), each a way
// a node could go on as a cluster beside the real one:
//   - a joining member leads a forming cluster only; one admitted just
//     before every up member was downed leaves (orphaned) rather than
//     move itself up;
//   - a resolver's decision goes to the members it downs too, so that
//     after a down-all the rest of the side hears of it;
//   - another run at self's endpoint is down (self is the newest), and
//     so is a member that self cannot hear when a new run answers from
//     its endpoint;
//   - a cluster without the earliest seed that meets one with it (its
//     leader sends "a cluster is here" to seeds that have no live
//     member) ends, every member down, and its nodes rejoin through
//     the seeds.
#ifndef CASTY_CLUSTER_MEMBERSHIP_H
#define CASTY_CLUSTER_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <casty/config.h>
#include <casty/log.h>

#include "cluster/downing.h"
#include "cluster/gossip_codec.h"
#include "cluster/member_table.h"
#include "cluster/phi.h"

// Frame kinds of the membership protocol (cst_transport's user kinds).
enum {
	CST_KIND_GOSSIP        = 16, // a member table; answered when it differs
	CST_KIND_HEARTBEAT     = 17, // empty; answered with a reply
	CST_KIND_HEARTBEAT_ACK = 18, // empty; feeds the failure detector
	CST_KIND_JOIN          = 19, // the sender asks to join, with its roles
	CST_KIND_GOSSIP_REPLY  = 20, // the pull half of push-pull; never
	                             // answered, so an exchange always ends
	CST_KIND_JOIN_NACK     = 24, // empty: "I am not a member yet"
	CST_KIND_JOIN_REFUSED  = 25, // why a join is refused, as text
	CST_KIND_CLUSTER_HERE  = 26, // "a cluster lives here": two bytes,
	                             // what (below) and the index of the
	                             // first seed alive in it (0xff: none)
};

// What a CST_KIND_CLUSTER_HERE is: an answer is never answered, so two
// clusters that tell each other stop after one exchange.
enum { CST_HERE_TELL = 0, CST_HERE_ANSWER = 1 };
#define CST_HERE_NO_SEED 0xff

/** cst_membership_is_kind says whether kind is one of the above. */
bool cst_membership_is_kind(uint8_t kind);

/**
 * cst_membership_check_frame says whether a frame of a membership kind
 * is well formed enough to queue (a join request's roles decode, bodies
 * that must be empty are): NULL, or what is wrong ("bad join request")
 * with *detail set to why (static text). Transports close the
 * connection of a frame that fails it.
 */
const char *cst_membership_check_frame(
    uint8_t kind, const uint8_t *body, size_t len, const char **detail);

/** How long the first seed asks the others before founding alone. */
#define CST_SEED_NODE_TIMEOUT_MS 5000

/** cst_membership_config: seeds are not copied. */
typedef struct cst_membership_config {
	cst_address               self;
	cst_roles                 roles;
	const casty_node_address *seeds;
	size_t                    nseeds;
	uint32_t                  fanout;
	casty_failure_detector_config failure_detector;
	casty_downing_config          downing;
} cst_membership_config;

/** cst_membership_event is a member event, or a new leader. */
typedef struct cst_membership_event {
	cst_member_event_kind kind;
	cst_member            member; // the leader, zeroed when none
} cst_membership_event;

/**
 * cst_membership_io is where a machine's outputs go. The callbacks run
 * inside the machine's calls, on the caller's thread; they must not call
 * back into the machine. Any but send may be NULL.
 */
typedef struct cst_membership_io {
	/** send: a frame for the node listening at host:port. */
	void (*send)(void *arg, const char *host, uint16_t port, uint8_t kind,
	    const void *body, size_t len);
	/** changed: the view changed (before its events); leader: an
	 * index, -1 for none. */
	void (*changed)(void *arg, const cst_member_table *t, int leader);
	/** event: in the order things happened, after changed. */
	void (*event)(void *arg, const cst_membership_event *e);
	/** log: one line, as casty_log_* would print it. */
	void (*log)(void *arg, casty_log_level level, const char *text);
	void *arg;
} cst_membership_io;

/** cst_membership_timer names the three periodic ticks. */
typedef enum cst_membership_timer {
	CST_MEMBERSHIP_GOSSIP,
	CST_MEMBERSHIP_HEARTBEAT,
	CST_MEMBERSHIP_CHECK,
} cst_membership_timer;

typedef struct cst_membership cst_membership;

/**
 * cst_membership_new makes a machine for cfg, with nothing sent yet.
 * Returns 0, -EINVAL (bad roles, failure detector or downing config) or
 * -ENOMEM.
 */
int cst_membership_new(const cst_membership_config *cfg,
    const cst_membership_io *io, cst_membership **out);

/** cst_membership_free frees a machine (NULL is a no-op). */
void cst_membership_free(cst_membership *m);

/**
 * cst_membership_start begins at now_ms: a node with no other seeds
 * founds the cluster at once; any other asks the seeds to join.
 */
void cst_membership_start(cst_membership *m, uint64_t now_ms);

/**
 * cst_membership_frame handles a frame of a membership kind from the
 * node at host:port, run incarnation, that passed
 * cst_membership_check_frame. Other kinds are ignored.
 */
void cst_membership_frame(cst_membership *m, uint64_t now_ms,
    const char *host, uint16_t port, uint64_t incarnation, uint8_t kind,
    const uint8_t *body, size_t len);

/** cst_membership_timer_fired runs one tick of timer at now_ms. */
void cst_membership_timer_fired(
    cst_membership *m, cst_membership_timer timer, uint64_t now_ms);

/** cst_membership_leave starts this node's graceful leave. */
void cst_membership_leave(cst_membership *m, uint64_t now_ms);

/** cst_membership_table is the node's current view. */
const cst_member_table *cst_membership_table(const cst_membership *m);

/** cst_membership_joined says whether self has become a member. */
bool cst_membership_joined(const cst_membership *m);

/**
 * cst_membership_is_out says whether self is down or removed in its own
 * view: its part in this cluster is over.
 */
bool cst_membership_is_out(const cst_membership *m);

/** cst_membership_leader is the leader's index in the view, or -1. */
int cst_membership_leader(const cst_membership *m);

#endif // CASTY_CLUSTER_MEMBERSHIP_H
