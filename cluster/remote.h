// cluster/remote.h: messages to and from actors of other nodes.
//
// Sending: casty_tell (and casty_ask) to a remote ref reach the remote
// operations installed here, which encode the message by its schema
// (remote_codec.h) and queue it on the transport to the ref's node; the
// transport keeps one connection per peer and the order of each sender's
// messages. Receiving: message frames are decoded on the reactor thread,
// checked (the cell id, the node's incarnation, the type and its schema)
// and delivered into the target's mailbox; a message that fails any check
// is a dead letter with its reason and disturbs nothing else.
//
// Looking up: casty_cluster_lookup asks a node which actor a path names
// (an identify request and its reply) and makes a ref of the answer; the
// node resolves the path down its actor tree (cst_identify).
#ifndef CASTY_CLUSTER_REMOTE_H
#define CASTY_CLUSTER_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/node.h"
#include "runtime/msg.h"

/**
 * cst_remote_start readies c for remote messaging (installs the remote
 * operations on first use). Call once the transport and c->self are set.
 */
void cst_remote_start(casty_cluster *c);

/**
 * cst_remote_stop ends it: refs through c fail with CASTY_ESTOPPED, a
 * send under way finishes first, waiting lookups return CASTY_ESTOPPED.
 * Call before the transport is destroyed. Thread: any but a worker.
 */
void cst_remote_stop(casty_cluster *c);

/** cst_remote_is_kind says whether frames of kind are handled here. */
bool cst_remote_is_kind(uint8_t kind);

/**
 * cst_remote_frame handles a frame of kind CST_KIND_MESSAGE,
 * CST_KIND_IDENTIFY or CST_KIND_IDENTIFY_REPLY from peer (its
 * incarnation). Thread: the reactor (the transport's frame callback).
 */
void cst_remote_frame(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, uint8_t kind, const uint8_t *body, size_t len);

/**
 * cst_remote_dropped makes a message frame for peer that the transport
 * did not keep (it was over max_pending_per_node while peer was not
 * connected) a dead letter here: CASTY_DEAD_DROP_NEW, to the remote ref
 * it was sent through, printed when this process knows its type (the
 * text is empty otherwise).
 * Thread: the reactor (the transport's dropped callback).
 */
void cst_remote_dropped(casty_cluster *c, const cst_peer_addr *peer,
	const uint8_t *body, size_t len);

/**
 * cst_remote_member_gone marks that run of a node (downed or removed) no
 * member any more: tells to its actors become dead letters here, asks
 * fail at once. Thread: the cluster actor's worker.
 */
void cst_remote_member_gone(casty_cluster *c, const cst_address *a);

/**
 * cst_remote_identified takes the answer of a path's resolution that this
 * node's actor received. Thread: the cluster actor's worker.
 */
void cst_remote_identified(casty_cluster *c, const cst_identified *a);

#endif // CASTY_CLUSTER_REMOTE_H
