// cluster/node_directory.h: the other nodes this process has refs to.
//
// A remote ref (ref.node != 0) names its node by an index into this one
// process-wide directory: the entry holds the node's address (system,
// host, port and incarnation) and the local cluster node that learned it,
// through which messages to it travel. Entries are never removed or
// reused, so an index in any ref stays meaningful for the process's life;
// when the local cluster node stops, its entries are detached and sends
// through them fail with CASTY_ESTOPPED.
//
// A send and the stop of the cluster meet on the entry's sender count
// (Dekker's pattern, seq_cst on both sides): a sender counts itself in
// before it reads the entry's cluster, and detach clears the cluster
// before it waits for the count to fall to zero. Either the sender sees
// NULL, or detach sees the sender and waits for it; no send uses a
// cluster after its stop has gone on to free it.
#ifndef CASTY_CLUSTER_NODE_DIRECTORY_H
#define CASTY_CLUSTER_NODE_DIRECTORY_H

#include <stdatomic.h>
#include <stdint.h>

#include <casty/casty.h>

#include "cluster/address.h"

typedef struct cst_node_entry {
	_Atomic(casty_cluster *) cluster; // NULL once detached
	casty_cluster           *owner;   // the cluster that learned it
	_Atomic uint32_t         senders; // sends using cluster now
	// The cluster has removed that run of the node: messages to it are
	// dead letters. Relaxed: a send that misses the mark sends to a node
	// that is gone, which dead-letters or loses it all the same.
	_Atomic bool gone;
	// A member of the cluster when last checked (cluster/remote.c): a
	// cache of the member snapshot, set and cleared under the
	// cluster's lock. Relaxed: a send that reads a stale yes sends to a
	// node downed a moment ago, as one sent just before would.
	_Atomic bool member;
	cst_address              address; // uid: the node's incarnation
	// The formatted address, as refs to the node travel on the wire.
	char text[CST_ADDRESS_TEXT_MAX];
} cst_node_entry;

/**
 * cst_node_dir_intern returns the index (from 1) of the entry for
 * address as learned by c, adding it when new. Returns 0 when the
 * directory is full or memory is out (logged). Thread: any.
 * Blocks: briefly, on the directory's lock.
 */
uint32_t cst_node_dir_intern(casty_cluster *c, const cst_address *address);

/**
 * cst_node_dir_find returns the index of c's entry for address, or 0
 * when there is none (or c has detached). Adds nothing. Thread: any.
 * Blocks: briefly, on the directory's lock.
 */
uint32_t cst_node_dir_find(casty_cluster *c, const cst_address *address);

/**
 * cst_node_dir_get returns the entry at index, or NULL for an index no
 * entry has. Thread: any. Blocks: never.
 */
cst_node_entry *cst_node_dir_get(uint32_t index);

/**
 * cst_node_dir_mark_gone marks the entries of c for address (that run
 * of that node) gone. Thread: any.
 */
void cst_node_dir_mark_gone(casty_cluster *c, const cst_address *address);

/**
 * cst_node_dir_enter counts a send through e in and returns e's
 * cluster, valid until cst_node_dir_leave(e); or NULL (nothing to leave)
 * when e is detached. Thread: any.
 */
casty_cluster *cst_node_dir_enter(cst_node_entry *e);

/** cst_node_dir_leave ends a send begun by cst_node_dir_enter. */
void cst_node_dir_leave(cst_node_entry *e);

/**
 * cst_node_dir_detach detaches every entry of c, then waits until the
 * sends that entered one of them have left. Thread: any but a worker
 * (a sender may be one). Blocks: while such sends finish.
 */
void cst_node_dir_detach(casty_cluster *c);

#endif // CASTY_CLUSTER_NODE_DIRECTORY_H
