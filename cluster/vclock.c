// cluster/vclock.c: vector clocks (Lamport; Mattern and Fidge). Both
// compare and merge walk the two sorted entry lists once, side by side.
#include "cluster/vclock.h"

#include <errno.h>
#include <string.h>

void
cst_vclock_init(cst_vclock *c)
{
	memset(c, 0, sizeof(*c));
}

// Returns the index of node in c, or -(insertion point) - 1.
static int
find(const cst_vclock *c, const cst_address *node)
{
	return cst_address_search(
	    &c->entry[0].node, c->len, sizeof(c->entry[0]), node);
}

uint64_t
cst_vclock_get(const cst_vclock *c, const cst_address *node)
{
	int i = find(c, node);
	return i >= 0 ? c->entry[i].counter : 0;
}

int
cst_vclock_increment(cst_vclock *c, const cst_address *node)
{
	int i = find(c, node);
	if (i >= 0) {
		if (c->entry[i].counter == UINT64_MAX) {
			return -EOVERFLOW;
		}
		c->entry[i].counter++;
		return 0;
	}
	if (c->len == CST_VCLOCK_MAX) {
		return -ENOSPC;
	}
	uint32_t at = (uint32_t)(-i - 1);
	memmove(&c->entry[at + 1], &c->entry[at],
	    (c->len - at) * sizeof(c->entry[0]));
	c->entry[at].node    = *node;
	c->entry[at].counter = 1;
	c->len++;
	return 0;
}

// Where a merge walk of a and b (entries sorted by node) stands: < 0 when
// a's entry i comes first (or b is done), > 0 when b's entry j does, 0
// when both name one node.
static int
walk_order(const cst_vclock *a, uint32_t i, const cst_vclock *b, uint32_t j)
{
	if (i == a->len) {
		return 1;
	}
	if (j == b->len) {
		return -1;
	}
	return cst_address_compare(&a->entry[i].node, &b->entry[j].node);
}

cst_vclock_order
cst_vclock_compare(const cst_vclock *a, const cst_vclock *b)
{
	bool     a_ahead = false, b_ahead = false; // some counter greater
	uint32_t i = 0, j = 0;
	while (i < a->len || j < b->len) {
		int cmp = walk_order(a, i, b, j);
		if (cmp < 0) { // only in a (counters are never 0)
			a_ahead = true;
			i++;
		} else if (cmp > 0) {
			b_ahead = true;
			j++;
		} else {
			uint64_t x = a->entry[i++].counter;
			uint64_t y = b->entry[j++].counter;
			a_ahead |= x > y;
			b_ahead |= y > x;
		}
		if (a_ahead && b_ahead) {
			return CST_VCLOCK_CONCURRENT;
		}
	}
	if (a_ahead) {
		return CST_VCLOCK_AFTER;
	}
	return b_ahead ? CST_VCLOCK_BEFORE : CST_VCLOCK_SAME;
}

int
cst_vclock_merge(const cst_vclock *a, const cst_vclock *b, cst_vclock *out)
{
	cst_vclock m; // out may alias an input
	m.len      = 0;
	uint32_t i = 0, j = 0;
	while (i < a->len || j < b->len) {
		if (m.len == CST_VCLOCK_MAX) {
			return -ENOSPC;
		}
		int cmp = walk_order(a, i, b, j);
		if (cmp < 0) {
			m.entry[m.len++] = a->entry[i++];
		} else if (cmp > 0) {
			m.entry[m.len++] = b->entry[j++];
		} else {
			cst_vclock_entry e = a->entry[i++];
			if (b->entry[j].counter > e.counter) {
				e.counter = b->entry[j].counter;
			}
			j++;
			m.entry[m.len++] = e;
		}
	}
	// Copy only the used entries: the rest of out stays as it was, which
	// is harmless because nothing reads past len.
	out->len = m.len;
	memcpy(out->entry, m.entry, m.len * sizeof(m.entry[0]));
	return 0;
}

bool
cst_vclock_equal(const cst_vclock *a, const cst_vclock *b)
{
	return cst_vclock_compare(a, b) == CST_VCLOCK_SAME;
}
