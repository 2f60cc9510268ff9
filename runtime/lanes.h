// runtime/lanes.h: per-worker lanes of envelopes, so that the messages
// one handler sends to one actor lie side by side in memory (lanes.c).
#ifndef CASTY_RUNTIME_LANES_H
#define CASTY_RUNTIME_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pool.h"

#define CST_LANE_SLOTS 64  // targets with a lane at once (bits of held)
#define CST_LANE_BLOCKS 64 // free envelopes a lane reserves at a time
#define CST_LANE_CLASSES 2 // pool classes that get lanes: 32 and 64 bytes

/** cst_lane reserves free envelopes of one class for one target. */
typedef struct cst_lane {
	const void *target; // the cell these blocks are for, or NULL
	uint32_t    cls;
	uint32_t    next, len; // blocks[next..len) are free
	void       *blocks[CST_LANE_BLOCKS];
} cst_lane;

/** cst_lanes are the lanes of one worker. Owner only. */
typedef struct cst_lanes {
	cst_lane lane[CST_LANE_SLOTS];
	uint64_t held; // bit i: lane[i] may hold blocks
} cst_lanes;

/** cst_lanes_init readies lanes holding nothing. */
void cst_lanes_init(cst_lanes *l);

/**
 * cst_lanes_get returns a free block of class c (size bytes are needed)
 * for a message to target, from target's lane when it has one, else from
 * pool. Thread: the owning worker.
 */
void *cst_lanes_get(cst_lanes *l, cst_pool *pool, const void *target,
	unsigned c, size_t size);

/**
 * cst_lanes_release gives every reserved block back to pool (when the
 * worker parks, and before the pool is finished). Thread: the owner, or
 * any thread once the owner has been joined.
 */
void cst_lanes_release(cst_lanes *l, cst_pool *pool);

#endif // CASTY_RUNTIME_LANES_H
