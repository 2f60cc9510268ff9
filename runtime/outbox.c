// runtime/outbox.c: per-worker batching of the messages a handler sends.
//
// While a handler runs, what it sends on a worker beyond its first few
// messages is linked into a chain per target instead of being pushed one
// message at a time; the chain is
// pushed into the target's mailbox with one exchange when it is full,
// when its slot is needed for another target, and when the handler
// returns. A handler that sends many messages to one actor (fanin) or
// round-robin to a few (forkjoin) then costs one contended exchange and
// at most one scheduling per chain rather than per message.
//
// Ordering: each chain keeps its messages in send order, and the chains
// of one target are pushed in the order they were filled, so per-sender
// FIFO holds. Messages to different targets may become visible in
// another order than they were sent, which the actor model allows (Akka
// and Erlang promise order per sender and receiver pair only). Anything
// that lets the outside world observe the handler's progress directly (a
// reply to an ask) flushes the outbox first; see ask.c.
#include "runtime/outbox.h"

#include "runtime/sched.h"

static void
push_chain(cst_outbox_chain *c)
{
	if (cst_mbox_push_chain(&c->cell->mbox, c->first, c->last)) {
		cst_schedule(c->cell);
	}
	c->cell = NULL;
	c->len = 0;
}

bool
cst_outbox_add(cst_outbox *ob, casty_cell *cell, cst_mbox_node *node)
{
	// Cells are 64-byte aligned and a few lines long: drop the line bits.
	unsigned          i = ((uintptr_t)cell >> 6) & (CST_OUTBOX_SLOTS - 1);
	cst_outbox_chain *c = &ob->chain[i];

	// Relaxed: the chain is published by the release exchange of the push.
	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
	if (c->cell == cell) {
		atomic_store_explicit(&c->last->next, node, memory_order_relaxed);
		c->last = node;
		ob->appended++;
		if (++c->len == CST_OUTBOX_CHAIN) {
			push_chain(c); // stays listed in open[]; flush skips it
			return true;
		}
		return false;
	}
	if (c->cell != NULL) {
		push_chain(c); // another target had this slot
		// A handler sending round-robin to more targets than there are
		// slots only displaces chains of one: push directly from now on,
		// after what is batched (a direct push must not overtake it).
		if (++ob->displaced > 2 * ob->appended + CST_OUTBOX_SLOTS) {
			ob->bypass = true;
			cst_outbox_flush(ob);
			if (cst_mbox_push(&cell->mbox, node)) {
				cst_schedule(cell);
			}
			return false;
		}
	} else {
		// The slot may still be listed from a chain pushed when full.
		bool listed = false;
		for (uint32_t k = 0; k < ob->nopen; k++) {
			listed |= ob->open[k] == i;
		}
		if (!listed) {
			ob->open[ob->nopen++] = (uint8_t)i;
		}
	}
	c->cell = cell;
	c->first = c->last = node;
	c->len = 1;
	return false;
}

void
cst_outbox_flush(cst_outbox *ob)
{
	for (uint32_t k = 0; k < ob->nopen; k++) {
		cst_outbox_chain *c = &ob->chain[ob->open[k]];
		if (c->cell != NULL) {
			push_chain(c);
		}
	}
	ob->nopen = 0;
}
