// runtime/timer_heap.c: a binary min-heap of timer nodes in an array; a
// node's index is kept up to date on every move, so any node can be
// removed in O(log n) without a search. Tested by
// tests/runtime/test_timer_heap.c against a sorted reference.
#include "runtime/timer_heap.h"

#include <string.h>

#include "runtime/alloc.h"

void
cst_timer_heap_init(cst_timer_heap *h)
{
	h->nodes = NULL;
	h->len = h->cap = 0;
	h->next_seq = 0;
}

void
cst_timer_heap_fini(cst_timer_heap *h)
{
	cst_free_sized(h->nodes, h->cap * sizeof(*h->nodes));
	cst_timer_heap_init(h);
}

static bool
earlier(const cst_timer_node *a, const cst_timer_node *b)
{
	if (a->deadline != b->deadline) {
		return a->deadline < b->deadline;
	}
	// seq wraps after 2^32 inserts; the signed difference stays right
	// as long as two tied nodes are fewer than 2^31 inserts apart.
	return (int32_t)(a->seq - b->seq) < 0;
}

static void
place(cst_timer_heap *h, uint32_t i, cst_timer_node *node)
{
	h->nodes[i] = node;
	node->index = i;
}

static void
sift_up(cst_timer_heap *h, uint32_t i)
{
	cst_timer_node *node = h->nodes[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(node, h->nodes[parent])) {
			break;
		}
		place(h, i, h->nodes[parent]);
		i = parent;
	}
	place(h, i, node);
}

static void
sift_down(cst_timer_heap *h, uint32_t i)
{
	cst_timer_node *node = h->nodes[i];
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= h->len) {
			break;
		}
		if (child + 1 < h->len &&
		    earlier(h->nodes[child + 1], h->nodes[child])) {
			child++;
		}
		if (!earlier(h->nodes[child], node)) {
			break;
		}
		place(h, i, h->nodes[child]);
		i = child;
	}
	place(h, i, node);
}

static void
grow(cst_timer_heap *h)
{
	uint32_t         ncap = h->cap ? h->cap * 2 : 64;
	cst_timer_node **grown = cst_alloc(ncap * sizeof(*grown));
	if (grown == NULL) {
		cst_oom("timer heap");
	}
	if (h->len > 0) {
		memcpy(grown, h->nodes, h->len * sizeof(*grown));
	}
	cst_free_sized(h->nodes, h->cap * sizeof(*h->nodes));
	h->nodes = grown;
	h->cap = ncap;
}

void
cst_timer_heap_insert(cst_timer_heap *h, cst_timer_node *node)
{
	if (h->len == h->cap) {
		grow(h);
	}
	node->seq = h->next_seq++;
	place(h, h->len++, node);
	sift_up(h, node->index);
}

void
cst_timer_heap_remove(cst_timer_heap *h, cst_timer_node *node)
{
	uint32_t i = node->index;
	if (i == CST_TIMER_NOT_QUEUED) {
		return;
	}
	node->index = CST_TIMER_NOT_QUEUED;
	uint32_t last = --h->len;
	if (i == last) {
		return;
	}
	// The last node fills the hole; it may belong above or below it.
	place(h, i, h->nodes[last]);
	if (i > 0 && earlier(h->nodes[i], h->nodes[(i - 1) / 2])) {
		sift_up(h, i);
	} else {
		sift_down(h, i);
	}
}

cst_timer_node *
cst_timer_heap_pop(cst_timer_heap *h)
{
	cst_timer_node *top = cst_timer_heap_peek(h);
	if (top != NULL) {
		cst_timer_heap_remove(h, top);
	}
	return top;
}
