// cluster/node.h: what the public face of a cluster node (node.c: start,
// stop, the transport's callbacks, the member snapshot) shares with the
// actor that runs it (node_actor.c: gossip, heartbeats, reachability,
// leader actions, events).
//
// Threads: the transport's callbacks (reactor) only copy a frame into the
// inbox and wake the actor; everything about membership happens in the
// actor, one message at a time. The lock guards the inbox, the member
// snapshot and the actor's "done" flag, nothing else; the membership
// state (tables, failure detectors) belongs to the actor alone, and is
// freed by casty_cluster_stop only after the actor has said it is done.
#ifndef CASTY_CLUSTER_NODE_H
#define CASTY_CLUSTER_NODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <casty/casty.h>

#include "cluster/gossip_codec.h"
#include "cluster/member_table.h"
#include "cluster/phi.h"
#include "cluster/transport.h"

// Frame kinds of the membership protocol (CST_FRAME_KIND_USER and up).
enum {
	CST_KIND_GOSSIP = 16,       // a member table; answered when it differs
	CST_KIND_HEARTBEAT = 17,    // empty; answered with a reply
	CST_KIND_HEARTBEAT_ACK = 18, // empty; feeds the failure detector
	CST_KIND_JOIN = 19,         // the sender (its handshake address)
	                            // asks to join, with its roles
	                            // (gossip_codec.h); checked on the
	                            // reactor: a bad one closes its
	                            // connection
	CST_KIND_GOSSIP_REPLY = 20, // the pull half of push-pull; never
	                            // answered, so an exchange always ends
	// Remote messaging (cluster/remote.c), handled on the reactor.
	CST_KIND_MESSAGE = 21,        // a message to an actor (remote_codec.h)
	CST_KIND_IDENTIFY = 22,       // [request, system, path]: which actor?
	CST_KIND_IDENTIFY_REPLY = 23, // [request, cell id, gen]; id 0: none
};

typedef struct cst_lookup cst_lookup; // a casty_cluster_lookup waiting

// A frame waiting for the actor, copied off the reactor.
typedef struct cst_inbox_frame {
	struct cst_inbox_frame *next;
	cst_peer_addr           peer;
	uint64_t                incarnation;
	uint8_t                 kind;
	size_t                  len;
	uint8_t                 body[];
} cst_inbox_frame;

// The actor's own state: large, so on the heap, never copied.
typedef struct cst_node_state {
	cst_member_table  table;
	cst_member_table  published; // as of the last events published
	cst_member_table  incoming;  // a decoded gossip
	cst_member_events events;
	cst_phi_registry  fd;
	uint32_t          next_peer; // round-robin gossip cursor
	bool              joined;    // self is in table
	uint8_t          *wire;      // encode buffer
	size_t            wire_cap;
} cst_node_state;

struct casty_cluster {
	casty_system  *sys;
	cst_transport *transport;
	cst_address    self;
	char           self_text[CST_ADDRESS_TEXT_MAX]; // as refs carry it
	casty_ref      actor;
	_Atomic uint64_t next_lookup; // request ids of casty_cluster_lookup

	// Options, copied at start.
	casty_node_address           *seeds;
	size_t                        nseeds;
	bool                          founder; // joins itself
	casty_gossip_config           gossip;
	casty_heartbeat_config        heartbeat;
	casty_failure_detector_config fd_config;
	uint64_t                      down_after_ms;
	cst_roles                     roles;
	uint8_t                       join[CST_JOIN_MAX]; // the request
	size_t                        join_len;

	cst_node_state *state; // the actor's

	pthread_mutex_t lock;
	pthread_cond_t  cond; // snapshot changed, or the actor is done
	// Under lock.
	cst_inbox_frame   *inbox_head, *inbox_tail;
	bool               wake_sent; // a wake message is on its way
	casty_member_info *snapshot;  // CST_MEMBERS_MAX entries
	size_t             nsnapshot;
	uint32_t           nup;
	bool               actor_done;
	cst_lookup        *lookups; // waiting for an identify reply
	bool               stopping; // lookups refused
};

// The actor's messages, internal: they reach its handler without a
// protocol and are never dead letters.
extern const casty_msg_type cst_node_wake__type;  // the inbox has frames
extern const casty_msg_type cst_node_leave__type; // casty_cluster_leave
extern const casty_msg_type cst_node_stop__type;  // casty_cluster_stop

/** cst_node_spawn starts the "_cluster" actor for c, its ref in *out. */
int cst_node_spawn(casty_cluster *c, casty_ref *out);

/** cst_node_take_inbox removes and returns every queued frame. */
cst_inbox_frame *cst_node_take_inbox(casty_cluster *c);

/** cst_node_publish_snapshot copies t's members for casty_cluster_members. */
void cst_node_publish_snapshot(casty_cluster *c, const cst_member_table *t);

/** cst_node_now_ms is the monotonic clock the membership runs on. */
uint64_t cst_node_now_ms(void);

/**
 * cst_node_deadline_after sets *ts to ms from now on CLOCK_MONOTONIC, the
 * clock of c->cond (for timed waits).
 */
void cst_node_deadline_after(struct timespec *ts, uint64_t ms);

#endif // CASTY_CLUSTER_NODE_H
