// cluster/node.h: what the public face of a cluster node (node.c: start,
// stop, the transport's callbacks, the member snapshot) shares with the
// actor that runs it (node_actor.c: gossip, heartbeats, reachability,
// leader actions, events).
//
// Threads: the transport's callbacks (reactor) only copy a frame into the
// inbox and wake the actor; everything about membership happens in the
// actor, one message at a time, in its state machine (membership.h). The
// lock guards the inbox, the member snapshot and the actor's "done"
// flag, nothing else; the machine belongs to the actor alone, and is
// freed by casty_cluster_stop only after the actor has said it is done.
#ifndef CASTY_CLUSTER_NODE_H
#define CASTY_CLUSTER_NODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <casty/casty.h>

#include "cluster/membership.h"
#include "cluster/remote_watch.h"
#include "cluster/transport.h"

// Frame kinds of remote messaging (cluster/remote.c), handled on the
// reactor; membership's are in cluster/membership.h.
enum {
	CST_KIND_MESSAGE = 21,        // a message to an actor (remote_codec.h)
	CST_KIND_IDENTIFY = 22,       // [request, system, path]: which actor?
	CST_KIND_IDENTIFY_REPLY = 23, // [request, cell id, gen]; id 0: none
};

// Frame kinds of remote death watch (cluster/node_watch.c), handled by
// the node's actor; bodies in remote_codec.h.
enum {
	CST_KIND_WATCH = 27,      // watch that actor of yours for mine
	CST_KIND_UNWATCH = 28,    // no longer
	CST_KIND_TERMINATED = 29, // the actor you watch has stopped
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

struct casty_cluster {
	casty_system  *sys;
	cst_transport *transport;
	cst_address    self;
	char           self_text[CST_ADDRESS_TEXT_MAX]; // as refs carry it
	casty_ref      actor;
	_Atomic uint64_t next_lookup; // request ids of casty_cluster_lookup

	// Options, copied at start.
	casty_node_address    *seeds;
	casty_gossip_config    gossip;
	casty_heartbeat_config heartbeat;

	cst_membership *membership; // the actor's alone
	// The actor's alone too (node_watch.c): the watches by actors of
	// this node of remote ones, and by remote actors of ours.
	cst_watch_set watching, watched;
	casty_ctx    *ctx; // the actor's, while its handler runs

	pthread_mutex_t lock;
	pthread_cond_t  cond; // snapshot changed, or the actor is done
	// Under lock.
	cst_inbox_frame   *inbox_head, *inbox_tail;
	bool               wake_sent; // a wake message is on its way
	casty_member_info *snapshot;  // CST_MEMBERS_MAX entries
	size_t             nsnapshot;
	uint32_t           nup;
	bool               has_leader;
	casty_member_info  leader;
	bool               actor_done;
	cst_lookup        *lookups; // waiting for an identify reply
	bool               stopping; // lookups refused
};

// The actor's messages, internal: they reach its handler without a
// protocol and are never dead letters.
extern const casty_msg_type cst_node_wake__type;  // the inbox has frames
extern const casty_msg_type cst_node_leave__type; // casty_cluster_leave
extern const casty_msg_type cst_node_stop__type;  // casty_cluster_stop

/**
 * cst_node_membership_new makes c's membership machine for cfg, its
 * outputs wired to the transport, the snapshot and the event stream.
 */
int cst_node_membership_new(casty_cluster *c, const cst_membership_config *cfg);

/** cst_node_spawn starts the "_cluster" actor for c, its ref in *out. */
int cst_node_spawn(casty_cluster *c, casty_ref *out);

/** cst_node_take_inbox removes and returns every queued frame. */
cst_inbox_frame *cst_node_take_inbox(casty_cluster *c);

/**
 * cst_node_publish_snapshot copies t's members, as self sees them, and
 * its leader (an index, -1 for none) for casty_cluster_members and
 * casty_cluster_leader.
 */
void cst_node_publish_snapshot(
	casty_cluster *c, const cst_member_table *t, int leader);

/**
 * cst_node_has_member_locked says whether the member snapshot has a
 * member at a's system, host and port, neither down nor removed, and of
 * a's run when a->uid is not 0. Called with c->lock held.
 */
bool cst_node_has_member_locked(const casty_cluster *c, const cst_address *a);

/** cst_node_now_ms is the monotonic clock the membership runs on. */
uint64_t cst_node_now_ms(void);

/**
 * cst_node_deadline_after sets *ts to ms from now on CLOCK_MONOTONIC, the
 * clock of c->cond (for timed waits).
 */
void cst_node_deadline_after(struct timespec *ts, uint64_t ms);

#endif // CASTY_CLUSTER_NODE_H
