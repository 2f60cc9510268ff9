// cluster/vclock.h: vector clocks over member addresses, the version of a
// gossip. A clock is a value of bounded size whose entries are kept sorted
// by cst_address_compare and never hold a zero counter, so two equal
// clocks have the same entries in the same order on every node.
#ifndef CASTY_CLUSTER_VCLOCK_H
#define CASTY_CLUSTER_VCLOCK_H

#include <stdint.h>

#include "cluster/address.h"

/** CST_VCLOCK_MAX bounds the entries of a clock (one per member). */
#define CST_VCLOCK_MAX 128

typedef struct cst_vclock_entry {
	cst_address node;
	uint64_t    counter; // > 0
} cst_vclock_entry;

/** cst_vclock is a clock; an all-zero value is the empty clock. */
typedef struct cst_vclock {
	uint32_t         len;
	cst_vclock_entry entry[CST_VCLOCK_MAX]; // sorted by node
} cst_vclock;

/** cst_vclock_order is how a clock relates to another. */
typedef enum cst_vclock_order {
	CST_VCLOCK_SAME,       // every counter equal
	CST_VCLOCK_BEFORE,     // every counter <=, one <: a happened before b
	CST_VCLOCK_AFTER,      // the reverse
	CST_VCLOCK_CONCURRENT, // each has a counter greater than the other's
} cst_vclock_order;

/** cst_vclock_init makes *c the empty clock. */
void cst_vclock_init(cst_vclock *c);

/** cst_vclock_get returns node's counter in c, 0 when absent. */
uint64_t cst_vclock_get(const cst_vclock *c, const cst_address *node);

/**
 * cst_vclock_increment adds one to node's counter. Returns 0, -ENOSPC
 * when node is new and c is full, or -EOVERFLOW at UINT64_MAX; c is
 * unchanged on failure.
 */
int cst_vclock_increment(cst_vclock *c, const cst_address *node);

/** cst_vclock_compare says how a relates to b. */
cst_vclock_order cst_vclock_compare(const cst_vclock *a, const cst_vclock *b);

/**
 * cst_vclock_merge writes the pointwise maximum of a and b into *out (out
 * may be a or b). Returns 0, or -ENOSPC when the union of their nodes
 * exceeds CST_VCLOCK_MAX (out is then untouched). Commutative,
 * associative and idempotent.
 */
int cst_vclock_merge(const cst_vclock *a, const cst_vclock *b, cst_vclock *out);

/** cst_vclock_equal says whether a and b have the same entries. */
bool cst_vclock_equal(const cst_vclock *a, const cst_vclock *b);

#endif // CASTY_CLUSTER_VCLOCK_H
