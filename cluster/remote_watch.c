// cluster/remote_watch.c: the watch sets of remote death watch (see
// remote_watch.h). An array searched from end to end: a node holds tens
// or hundreds of remote watches, and every operation but add is a scan
// anyway (by node, or by local actor). Taking removes first and only
// then calls back, so a callback never sees a half-done set.
#include "cluster/remote_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
cst_watch_set_init(cst_watch_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
cst_watch_set_fini(cst_watch_set *s)
{
	free(s->pair);
	cst_watch_set_init(s);
}

static long
find(const cst_watch_set *s, casty_ref local, casty_ref remote)
{
	for (size_t i = 0; i < s->n; i++) {
		if (casty_ref_eq(s->pair[i].local, local) &&
		    casty_ref_eq(s->pair[i].remote, remote)) {
			return (long)i;
		}
	}
	return -1;
}

int
cst_watch_set_add(cst_watch_set *s, const cst_address *node, casty_ref local,
	casty_ref remote)
{
	if (find(s, local, remote) >= 0) {
		return 0;
	}
	if (s->n == s->cap) {
		size_t          cap = s->cap != 0 ? s->cap * 2 : 8;
		cst_watch_pair *grown = realloc(s->pair, cap * sizeof(*grown));
		if (grown == NULL) {
			return -ENOMEM;
		}
		s->pair = grown;
		s->cap = cap;
	}
	s->pair[s->n++] = (cst_watch_pair){*node, local, remote};
	return 1;
}

bool
cst_watch_set_remove(cst_watch_set *s, casty_ref local, casty_ref remote)
{
	long i = find(s, local, remote);
	if (i < 0) {
		return false;
	}
	s->pair[i] = s->pair[--s->n];
	return true;
}

bool
cst_watch_set_has_local(const cst_watch_set *s, casty_ref local)
{
	for (size_t i = 0; i < s->n; i++) {
		if (casty_ref_eq(s->pair[i].local, local)) {
			return true;
		}
	}
	return false;
}

// Moves the pairs match picks past the set's new end and calls fn with
// each there: the set already holds only the others, and the slots past
// its end stay untouched while fn runs (fn must not change the set).
static size_t
take(cst_watch_set *s, bool (*match)(const cst_watch_pair *, const void *),
	const void *key, cst_watch_fn fn, void *arg)
{
	size_t old = s->n, end = s->n;
	for (size_t i = 0; i < end;) {
		if (match(&s->pair[i], key)) {
			cst_watch_pair p = s->pair[i];
			s->pair[i] = s->pair[--end];
			s->pair[end] = p;
		} else {
			i++;
		}
	}
	s->n = end;
	for (size_t i = end; i < old; i++) {
		fn(arg, &s->pair[i]);
	}
	return old - end;
}

static bool
of_node(const cst_watch_pair *p, const void *node)
{
	return cst_address_equal(&p->node, node);
}

static bool
of_local(const cst_watch_pair *p, const void *local)
{
	return casty_ref_eq(p->local, *(const casty_ref *)local);
}

size_t
cst_watch_set_take_node(cst_watch_set *s, const cst_address *node,
	cst_watch_fn fn, void *arg)
{
	return take(s, of_node, node, fn, arg);
}

size_t
cst_watch_set_take_local(cst_watch_set *s, casty_ref local, cst_watch_fn fn,
	void *arg)
{
	return take(s, of_local, &local, fn, arg);
}

size_t
cst_watch_set_count(const cst_watch_set *s)
{
	return s->n;
}
