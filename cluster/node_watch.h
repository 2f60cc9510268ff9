// cluster/node_watch.h: death watch across nodes (casty_ctx_watch on a
// remote ref), run by the node's actor over the watch sets of
// remote_watch.h.
//
// The watcher's node: casty_ctx_watch posts a request to the node actor,
// which files (watcher, watched) under the watched actor's node and
// sends that node a watch frame; or, when that node is no member of the
// cluster now (never was, downed, removed), delivers casty_terminated
// at once. A terminated frame from the node, or that node's member
// being downed or removed (a new run of it downs the old one), ends the
// pair with casty_terminated to the watcher (path empty in the second
// case, as Akka's address-terminated). An unwatch or the watcher's stop
// ends it with an unwatch frame, and no casty_terminated.
//
// The watched actor's node: the node actor watches the target locally
// on behalf of all its remote watchers (casty_ctx_watch once per
// target) and answers each with a terminated frame when it stops, or at
// once when the frame names no actor of this run of the node. The pairs
// of a watcher's node go when it is downed or removed.
#ifndef CASTY_CLUSTER_NODE_WATCH_H
#define CASTY_CLUSTER_NODE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/node.h"

/** cst_node_watch is a watch (on) or unwatch of a local actor's. */
typedef struct cst_node_watch {
	casty_ref watcher; // local
	casty_ref watched; // remote
	bool      on;
} cst_node_watch;
extern const casty_msg_type cst_node_watch__type;

/**
 * cst_node_watch_post sends the watch (on) or unwatch of watched by
 * watcher, an actor of c's system, to c's actor. Returns CASTY_OK or
 * CASTY_ENOREF (watcher is of another system). Thread: any.
 */
int cst_node_watch_post(casty_cluster *c, casty_ref watcher,
	casty_ref watched, bool on);

/** cst_node_watch_is_kind says whether frames of kind are handled here. */
bool cst_node_watch_is_kind(uint8_t kind);

/**
 * cst_node_watch_check_frame says whether a frame of such a kind is well
 * formed (NULL) or what is wrong with it. Thread: any.
 */
const char *cst_node_watch_check_frame(
	uint8_t kind, const uint8_t *body, size_t len);

/**
 * The node actor's part, in its handler (c->ctx set): a request posted
 * by cst_node_watch_post; a frame of a watch kind that passed the check
 * from peer (run incarnation); a casty_terminated the actor got for a
 * target it watches for others; the member a (that run of it) downed or
 * removed.
 */
void cst_node_watch_request(casty_cluster *c, const cst_node_watch *m);
void cst_node_watch_frame(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, uint8_t kind, const uint8_t *body, size_t len);
void cst_node_watch_terminated(casty_cluster *c, const casty_terminated *t);
void cst_node_watch_member_gone(casty_cluster *c, const cst_address *a);

/** cst_node_watch_fini frees c's watch sets (the actor has stopped). */
void cst_node_watch_fini(casty_cluster *c);

#endif // CASTY_CLUSTER_NODE_WATCH_H
