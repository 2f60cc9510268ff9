// runtime/lanes.c: lanes of envelopes.
//
// A handler that sends round-robin to several actors (forkjoin's driver)
// used to take its envelopes from the pool one after another. Two costs
// came with that, one per core:
// - The sender writes each envelope into a cache line the consumer's
//   core read last, so every store waits for the line to come back, and
//   the next envelope's address is not known early enough to fetch it
//   ahead.
// - The messages one actor receives lay kilobytes apart. The consumer
//   walks its mailbox as a linked list, each node a miss whose address
//   is in the node before it, so the misses cannot overlap: about one
//   cross-core latency per message, half of forkjoin's time.
//
// A lane reserves free envelopes for one target, CST_LANE_BLOCKS at a
// time, taken from the pool in the order they were freed. The sender
// now knows its next envelopes to each target and prefetches them for
// writing a couple of messages ahead. And since a consumer frees
// envelopes in the order it handles them, and a lane hands them out in
// that order again, envelopes go round in address order: most chains of
// messages to one actor are consecutive cache lines, which the hardware
// prefetchers stream to the consumer. Forkjoin runs 2.7 times as fast
// (bench/RESULTS.md); lanes without the prefetch gained about 1.3x.
//
// Who pays: only sends the outbox batches use lanes (a handler's sends
// after its first few; see outbox.h), so short handlers and ping-pong
// never come here. A target gets blocks on its second message in a row
// in its slot, so a handler that sends one message each to many actors
// reserves nothing. Reserved blocks wait in their lane until another
// target takes the slot or the worker parks: at most CST_LANE_SLOTS x
// CST_LANE_BLOCKS blocks of 64 bytes (256 KiB) per worker.
#include "runtime/lanes.h"

// Envelopes a lane prefetches ahead of the one it hands out: the next
// cache line of 32-byte envelopes. Measured on forkjoin: 1 to 3 alike,
// 4 a little slower, 8 and 16 slower still.
#define PREFETCH_AHEAD 2

// Fetches the line at p in a state this core may write, so the stores
// that fill the envelope do not wait for it. On x86, prefetchw (a NOP on
// the few x86-64 cores without it; gcc emits it for __builtin_prefetch
// only when told the target has it, and prefetcht0 fetches the line
// shared, which a store must then upgrade).
static inline void
prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

void
cst_lanes_init(cst_lanes *l)
{
	for (unsigned i = 0; i < CST_LANE_SLOTS; i++) {
		l->lane[i].target = NULL;
		l->lane[i].next = l->lane[i].len = 0;
	}
	l->held = 0;
}

static void
give_back(cst_lane *lane, cst_pool *pool)
{
	if (lane->next != lane->len) {
		cst_pool_give(pool, lane->cls, &lane->blocks[lane->next],
			lane->len - lane->next);
	}
	lane->next = lane->len = 0;
}

void *
cst_lanes_get(cst_lanes *l, cst_pool *pool, const void *target, unsigned c,
	size_t size)
{
	// Cells are 64-byte aligned and a few lines long: drop the line bits.
	unsigned  i = ((uintptr_t)target >> 6) & (CST_LANE_SLOTS - 1);
	cst_lane *lane = &l->lane[i];

	if (c >= CST_LANE_CLASSES) {
		return cst_pool_get(pool, c, size);
	}
	if (lane->target != target || lane->cls != c) {
		give_back(lane, pool);
		lane->target = target;
		lane->cls = c;
		return cst_pool_get(pool, c, size);
	}
	if (lane->next == lane->len) {
		l->held |= (uint64_t)1 << i;
		lane->len =
			cst_pool_take(pool, c, lane->blocks, CST_LANE_BLOCKS);
		lane->next = 0;
	}
	if (lane->next + PREFETCH_AHEAD < lane->len) {
		prefetch_for_write(lane->blocks[lane->next + PREFETCH_AHEAD]);
	}
	return lane->blocks[lane->next++];
}

void
cst_lanes_release(cst_lanes *l, cst_pool *pool)
{
	for (uint64_t h = l->held; h != 0; h &= h - 1) {
		cst_lane *lane = &l->lane[__builtin_ctzll(h)];
		give_back(lane, pool);
		lane->target = NULL;
	}
	l->held = 0;
}
