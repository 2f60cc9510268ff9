// runtime/outbox.h: per-worker batching of the messages a handler sends.
#ifndef CASTY_RUNTIME_OUTBOX_H
#define CASTY_RUNTIME_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/cell.h"

#define CST_OUTBOX_SLOTS 64 // targets with an open chain; a power of two
#define CST_OUTBOX_CHAIN 64 // messages in one chain before it is pushed
#define CST_OUTBOX_DIRECT 4 // sends of a handler pushed at once, unbatched

typedef struct cst_outbox_chain {
	casty_cell    *cell;
	cst_mbox_node *first, *last;
	uint32_t       len;
} cst_outbox_chain;

/** cst_outbox holds the unpushed messages of one worker. Owner only. */
typedef struct cst_outbox {
	cst_outbox_chain chain[CST_OUTBOX_SLOTS];
	uint8_t          open[CST_OUTBOX_SLOTS]; // slots in opening order
	uint32_t         nopen;
	uint32_t         sent;  // by the running handler (see sched.c)
	uint32_t         appended, displaced; // chain hits and misses
	bool             armed;  // a handler is running: count its sends
	bool             bypass; // batching does not pay for this handler
} cst_outbox;

/**
 * cst_outbox_take decides whether the handler's next send is batched:
 * the first CST_OUTBOX_DIRECT of each handler run are pushed at once, so
 * the short handlers that make up message ping-pong pay nothing here,
 * and so is everything once batching has stopped paying (see outbox.c).
 */
static inline bool
cst_outbox_take(cst_outbox *ob)
{
	return ob->armed && ob->sent++ >= CST_OUTBOX_DIRECT && !ob->bypass;
}

/**
 * cst_outbox_batching tells whether the handler's next send will be
 * batched, as cst_outbox_take decides it, without counting the send.
 */
static inline bool
cst_outbox_batching(const cst_outbox *ob)
{
	return ob->armed && ob->sent >= CST_OUTBOX_DIRECT && !ob->bypass;
}

/**
 * cst_outbox_add appends node (a message for cell, whose generation was
 * checked) to the chain for cell, pushing a full chain or the chain it
 * displaces. Returns true when it pushed a full chain to cell (the
 * moment for cst_sched_help). Thread: the owning worker, while armed.
 */
bool cst_outbox_add(cst_outbox *ob, casty_cell *cell, cst_mbox_node *node);

/**
 * cst_outbox_flush pushes every open chain, in the order the chains were
 * opened, and schedules each target its push made non-empty.
 * Thread: the owning worker.
 */
void cst_outbox_flush(cst_outbox *ob);

/**
 * cst_outbox_end closes a handler run: pushes what it batched and resets
 * the count of its sends. Thread: the owning worker.
 */
static inline void
cst_outbox_end(cst_outbox *ob)
{
	ob->armed = false;
	if (ob->nopen != 0) {
		cst_outbox_flush(ob);
	}
	ob->sent = ob->appended = ob->displaced = 0;
	ob->bypass = false;
}

#endif // CASTY_RUNTIME_OUTBOX_H
