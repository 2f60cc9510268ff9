// cluster/remote_watch.h: death watch across nodes, the bookkeeping.
//
// A watch set holds pairs of an actor of this node and an actor of
// another node, each pair filed under that other node's address (with its
// incarnation). The node actor keeps two: the watches its actors placed
// on remote actors (local = the watcher), and the watches remote actors
// placed on its own (local = the watched one). When a member is downed
// or removed, every pair of that run of the node is taken out at once:
// its watchers get casty_terminated, or its watchers are forgotten, and
// nothing about a node that never comes back stays behind.
//
// A pure structure: no sockets, threads or locks; its owner serialises.
// Tested by: tests/cluster/test_remote_watch.c.
#ifndef CASTY_CLUSTER_REMOTE_WATCH_H
#define CASTY_CLUSTER_REMOTE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <casty/casty.h>

#include "cluster/address.h"

/** cst_watch_pair is one watch between an actor here and one there. */
typedef struct cst_watch_pair {
	cst_address node;   // the other node, uid included
	casty_ref   local;  // the actor of this node
	casty_ref   remote; // the actor of node (a remote ref)
} cst_watch_pair;

/** cst_watch_set is a set of pairs; zeroed storage is the empty set. */
typedef struct cst_watch_set {
	cst_watch_pair *pair;
	size_t          n, cap;
} cst_watch_set;

/** cst_watch_fn is called with each pair taken out of a set. */
typedef void (*cst_watch_fn)(void *arg, const cst_watch_pair *p);

/** cst_watch_set_init makes *s the empty set. */
void cst_watch_set_init(cst_watch_set *s);

/** cst_watch_set_fini frees what *s holds; it is empty afterwards. */
void cst_watch_set_fini(cst_watch_set *s);

/**
 * cst_watch_set_add adds the pair (local, remote) filed under node.
 * Returns 1 when added, 0 when the pair was there already (unchanged),
 * -ENOMEM.
 */
int cst_watch_set_add(cst_watch_set *s, const cst_address *node,
	casty_ref local, casty_ref remote);

/**
 * cst_watch_set_remove removes the pair (local, remote); false when it
 * was not there.
 */
bool cst_watch_set_remove(cst_watch_set *s, casty_ref local, casty_ref remote);

/** cst_watch_set_has_local says whether some pair has this local actor. */
bool cst_watch_set_has_local(const cst_watch_set *s, casty_ref local);

/**
 * cst_watch_set_take_node removes every pair filed under node (the same
 * run: the uid must match) and calls fn with each, after the removal, so
 * that fn sees the set without them (fn must not change the set).
 * Returns how many there were.
 */
size_t cst_watch_set_take_node(cst_watch_set *s, const cst_address *node,
	cst_watch_fn fn, void *arg);

/**
 * cst_watch_set_take_local removes every pair of the local actor and
 * calls fn with each, as cst_watch_set_take_node does.
 */
size_t cst_watch_set_take_local(cst_watch_set *s, casty_ref local,
	cst_watch_fn fn, void *arg);

/** cst_watch_set_count is the number of pairs in s. */
size_t cst_watch_set_count(const cst_watch_set *s);

#endif // CASTY_CLUSTER_REMOTE_WATCH_H
