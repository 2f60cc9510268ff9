// cluster/member_table.c: the member table as a value, the local changes
// a node makes to it, and the merge of two gossips.
//
// The merge is a join in a semilattice, which is why gossip converges
// whatever order messages arrive in: members are unioned and each keeps
// its largest status (the status enum is the lattice), largest up-number
// and largest reach_version; each observer's reachability rows come
// wholesale from the side where that observer's reach_version is larger;
// versions take the pointwise maximum. Rows that touch a removed member
// are dropped, which is also monotone because removed is the top status.
// Only the seen set is not part of the lattice: it describes who has seen
// one particular version, so it survives a merge only when the version
// does (see merge_seen).
#include "cluster/member_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/roles.h"

static const char *const status_names[CST_MEMBER_STATUS_COUNT] = {
    "joining", "up", "leaving", "exiting", "down", "removed"};

const char *
cst_member_status_name(cst_member_status s)
{
	return (unsigned)s < CST_MEMBER_STATUS_COUNT ? status_names[s] : "?";
}

void
cst_member_table_init(cst_member_table *t)
{
	t->nmembers = 0;
	t->nreach   = 0;
	t->seen     = (cst_member_set){{0}};
	cst_vclock_init(&t->version);
}

int
cst_member_table_find(const cst_member_table *t, const cst_address *addr)
{
	int i = cst_address_search(&t->member[0].address, t->nmembers,
	    sizeof(t->member[0]), addr);
	return i >= 0 ? i : -1;
}

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

bool
cst_member_table_is_unreachable(const cst_member_table *t, uint32_t i)
{
	for (uint32_t r = 0; r < t->nreach; r++) {
		if (t->reach[r].subject == i &&
		    !is_gone(t->member[t->reach[r].observer].status)) {
			return true;
		}
	}
	return false;
}

bool
cst_member_table_has_seen(const cst_member_table *t, uint32_t i)
{
	return cst_member_set_has(&t->seen, i);
}

// Every local change ends here: a new version by self, seen only by self.
static int
commit(cst_member_table *t, const cst_address *self)
{
	int at = cst_member_table_find(t, self);
	if (at < 0) {
		return -EINVAL;
	}
	int rc = cst_vclock_increment(&t->version, self);
	if (rc != 0) {
		return rc;
	}
	cst_member_set_only(&t->seen, (uint32_t)at);
	return 0;
}

// A change is checked before anything is written, so the only late
// failure would be the clock, which commit_possible rules out first.
static int
commit_possible(const cst_member_table *t, const cst_address *self)
{
	if (cst_member_table_find(t, self) < 0) {
		return -EINVAL;
	}
	return cst_vclock_get(&t->version, self) == UINT64_MAX ? -EOVERFLOW : 0;
}

static int
compare_roles(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
cst_roles_set(cst_roles *out, const char *const *roles, size_t nroles)
{
	memset(out, 0, sizeof(*out));
	if (nroles > CST_ROLES_MAX || (nroles != 0 && roles == NULL)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < nroles; i++) {
		size_t len = roles[i] != NULL ? strnlen(roles[i], CST_ROLE_MAX)
		                              : 0;
		if (!cst_role_valid(roles[i], len)) {
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		memcpy(out->name[i], roles[i], len);
	}
	qsort(out->name, nroles, CST_ROLE_MAX, compare_roles);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < nroles; i++) {
		if (kept == 0 || strcmp(out->name[kept - 1], out->name[i])) {
			memmove(out->name[kept++], out->name[i], CST_ROLE_MAX);
		}
	}
	for (uint32_t i = kept; i < nroles; i++) {
		memset(out->name[i], 0, CST_ROLE_MAX);
	}
	out->n = kept;
	return 0;
}

bool
cst_roles_has(const cst_roles *r, const char *role)
{
	for (uint32_t i = 0; i < r->n; i++) {
		if (strcmp(r->name[i], role) == 0) {
			return true;
		}
	}
	return false;
}

// Inserts m at index at, shifting the indices that seen and the rows use.
static void
insert_member(cst_member_table *t, uint32_t at, const cst_member *m)
{
	memmove(&t->member[at + 1], &t->member[at],
	    (t->nmembers - at) * sizeof(t->member[0]));
	t->member[at] = *m;
	t->nmembers++;
	cst_member_set seen = {{0}};
	for (uint32_t i = 0; i + 1 < t->nmembers; i++) {
		if (cst_member_set_has(&t->seen, i)) {
			cst_member_set_add(&seen, i + (i >= at));
		}
	}
	t->seen = seen;
	for (uint32_t r = 0; r < t->nreach; r++) {
		t->reach[r].observer += t->reach[r].observer >= at;
		t->reach[r].subject += t->reach[r].subject >= at;
	}
}

void
cst_member_table_prune_rows(cst_member_table *t)
{
	uint32_t kept = 0;
	for (uint32_t r = 0; r < t->nreach; r++) {
		const cst_reach_row *row = &t->reach[r];
		if (t->member[row->observer].status != CST_MEMBER_REMOVED &&
		    t->member[row->subject].status != CST_MEMBER_REMOVED) {
			t->reach[kept++] = *row;
		}
	}
	t->nreach = kept;
}

int
cst_member_table_join(cst_member_table *t, const cst_address *self,
    const cst_address *joiner, const char *const *roles, size_t nroles)
{
	cst_member m;
	memset(&m, 0, sizeof(m));
	m.address = *joiner;
	m.status  = CST_MEMBER_JOINING;
	if (cst_roles_set(&m.roles, roles, nroles) != 0) {
		return -EINVAL;
	}
	if (cst_member_table_find(t, joiner) >= 0) {
		return 0;
	}
	if (t->nmembers == CST_MEMBERS_MAX) {
		return -ENOSPC;
	}
	bool self_joins = cst_address_equal(self, joiner);
	if (!self_joins) {
		int rc = commit_possible(t, self);
		if (rc != 0) {
			return rc;
		}
	}
	uint32_t at = 0;
	while (at < t->nmembers &&
	       cst_address_compare(&t->member[at].address, joiner) < 0) {
		at++;
	}
	insert_member(t, at, &m);
	// An older incarnation at the same endpoint is dead: its process was
	// replaced. Down it now rather than wait for the failure detector.
	for (uint32_t i = 0; i < t->nmembers; i++) {
		cst_member *old = &t->member[i];
		if (i != at && !is_gone(old->status) &&
		    cst_address_same_endpoint(&old->address, joiner)) {
			old->status = CST_MEMBER_DOWN;
		}
	}
	return commit(t, self); // cannot fail: checked above, or self is new
}

static int
set_status(cst_member_table *t, const cst_address *self,
    const cst_address *addr, cst_member_status from_max, cst_member_status to)
{
	int i = cst_member_table_find(t, addr);
	if (i < 0) {
		return -ENOENT;
	}
	if (t->member[i].status > from_max) {
		return 0;
	}
	int rc = commit_possible(t, self);
	if (rc != 0) {
		return rc;
	}
	t->member[i].status = to;
	return commit(t, self);
}

int
cst_member_table_leave(
    cst_member_table *t, const cst_address *self, const cst_address *addr)
{
	return set_status(t, self, addr, CST_MEMBER_UP, CST_MEMBER_LEAVING);
}

int
cst_member_table_down(
    cst_member_table *t, const cst_address *self, const cst_address *addr)
{
	return set_status(t, self, addr, CST_MEMBER_EXITING, CST_MEMBER_DOWN);
}

static int
find_row(const cst_member_table *t, uint32_t observer, uint32_t subject)
{
	for (uint32_t r = 0; r < t->nreach; r++) {
		if (t->reach[r].observer == observer &&
		    t->reach[r].subject == subject) {
			return (int)r;
		}
	}
	return -1;
}

bool
cst_member_table_observes_unreachable(
    const cst_member_table *t, uint32_t observer, uint32_t subject)
{
	return find_row(t, observer, subject) >= 0;
}

int
cst_member_table_mark_unreachable(cst_member_table *t, const cst_address *self,
    const cst_address *subject)
{
	int o = cst_member_table_find(t, self);
	int s = cst_member_table_find(t, subject);
	if (o < 0 || s < 0) {
		return -ENOENT;
	}
	if (o == s) {
		return -EINVAL;
	}
	if (is_gone(t->member[s].status) || find_row(t, o, s) >= 0) {
		return 0;
	}
	int rc = commit_possible(t, self);
	if (rc != 0) {
		return rc;
	}
	if (t->member[o].reach_version == UINT64_MAX) {
		return -EOVERFLOW;
	}
	// Keep the rows sorted by (observer, subject).
	uint32_t at = 0;
	while (at < t->nreach &&
	       (t->reach[at].observer < o ||
	           (t->reach[at].observer == o && t->reach[at].subject < s))) {
		at++;
	}
	memmove(&t->reach[at + 1], &t->reach[at],
	    (t->nreach - at) * sizeof(t->reach[0]));
	t->reach[at] = (cst_reach_row){.observer = (uint8_t)o, .subject = (uint8_t)s};
	t->nreach++;
	t->member[o].reach_version++;
	return commit(t, self);
}

int
cst_member_table_mark_reachable(
    cst_member_table *t, const cst_address *self, const cst_address *subject)
{
	int o = cst_member_table_find(t, self);
	int s = cst_member_table_find(t, subject);
	if (o < 0 || s < 0) {
		return -ENOENT;
	}
	int r = find_row(t, (uint32_t)o, (uint32_t)s);
	if (r < 0) {
		return 0;
	}
	int rc = commit_possible(t, self);
	if (rc != 0) {
		return rc;
	}
	if (t->member[o].reach_version == UINT64_MAX) {
		return -EOVERFLOW;
	}
	memmove(&t->reach[r], &t->reach[r + 1],
	    (t->nreach - (uint32_t)r - 1) * sizeof(t->reach[0]));
	t->nreach--;
	t->member[o].reach_version++;
	return commit(t, self);
}

static int
compare_role_lists(const cst_member *a, const cst_member *b)
{
	if (a->roles.n != b->roles.n) {
		return a->roles.n < b->roles.n ? -1 : 1;
	}
	for (uint32_t i = 0; i < a->roles.n; i++) {
		int c = strcmp(a->roles.name[i], b->roles.name[i]);
		if (c != 0) {
			return c;
		}
	}
	return 0;
}

// One member known to both sides: every field takes its lattice maximum.
// Roles never change after a join, but should two copies disagree the
// rule must still be commutative: the later status wins, then the
// smaller role list.
static cst_member
merge_member(const cst_member *a, const cst_member *b)
{
	const cst_member *w = a;
	if (b->status > a->status ||
	    (b->status == a->status && compare_role_lists(b, a) < 0)) {
		w = b;
	}
	cst_member m = *w;
	m.up_number = a->up_number > b->up_number ? a->up_number : b->up_number;
	m.reach_version = a->reach_version > b->reach_version
	                      ? a->reach_version
	                      : b->reach_version;
	return m;
}

static int
compare_rows(const cst_reach_row *a, const cst_reach_row *b)
{
	if (a->observer != b->observer) {
		return a->observer < b->observer ? -1 : 1;
	}
	if (a->subject != b->subject) {
		return a->subject < b->subject ? -1 : 1;
	}
	return 0;
}

static int
compare_rows_qsort(const void *a, const void *b)
{
	return compare_rows(a, b);
}

// Adds the rows of observer from src (indices mapped by map) to out.
static void
take_rows(cst_member_table *out, uint8_t observer, const cst_member_table *src,
    const uint8_t *map)
{
	for (uint32_t r = 0; r < src->nreach; r++) {
		const cst_reach_row *row = &src->reach[r];
		if (map[row->observer] != observer) {
			continue;
		}
		cst_reach_row n = {
		    .observer = observer, .subject = map[row->subject]};
		bool dup = false;
		for (uint32_t k = 0; k < out->nreach && !dup; k++) {
			dup = compare_rows(&out->reach[k], &n) == 0;
		}
		if (!dup) {
			out->reach[out->nreach++] = n;
		}
	}
}

// The seen set is about one version: keep it only when the merged version
// is that version. Equal versions: both sides' watchers saw the same
// state. One side newer: the merged version is that side's.
// Concurrent: nobody has seen the merged version yet.
static cst_member_set
merge_seen(cst_vclock_order order, const cst_member_table *a,
    const uint8_t *map_a, const cst_member_table *b, const uint8_t *map_b)
{
	cst_member_set seen = {{0}};
	if (order != CST_VCLOCK_BEFORE && order != CST_VCLOCK_CONCURRENT) {
		for (uint32_t i = 0; i < a->nmembers; i++) {
			if (cst_member_set_has(&a->seen, i)) {
				cst_member_set_add(&seen, map_a[i]);
			}
		}
	}
	if (order != CST_VCLOCK_AFTER && order != CST_VCLOCK_CONCURRENT) {
		for (uint32_t i = 0; i < b->nmembers; i++) {
			if (cst_member_set_has(&b->seen, i)) {
				cst_member_set_add(&seen, map_b[i]);
			}
		}
	}
	return seen;
}

int
cst_member_table_merge(
    const cst_member_table *a, const cst_member_table *b, cst_member_table *out)
{
	// Built aside because out may alias an input; static storage would
	// not be reentrant, so the caller's stack pays for one table.
	cst_member_table m;
	cst_member_table_init(&m);
	uint8_t  map_a[CST_MEMBERS_MAX], map_b[CST_MEMBERS_MAX];
	uint32_t i = 0, j = 0;
	while (i < a->nmembers || j < b->nmembers) {
		if (m.nmembers == CST_MEMBERS_MAX) {
			return -ENOSPC;
		}
		int c;
		if (i == a->nmembers) {
			c = 1;
		} else if (j == b->nmembers) {
			c = -1;
		} else {
			c = cst_address_compare(
			    &a->member[i].address, &b->member[j].address);
		}
		uint8_t k = (uint8_t)m.nmembers++;
		if (c < 0) {
			m.member[k] = a->member[i];
			map_a[i++]  = k;
		} else if (c > 0) {
			m.member[k] = b->member[j];
			map_b[j++]  = k;
		} else {
			m.member[k] =
			    merge_member(&a->member[i], &b->member[j]);
			map_a[i++] = k;
			map_b[j++] = k;
		}
	}
	int rc = cst_vclock_merge(&a->version, &b->version, &m.version);
	if (rc != 0) {
		return rc;
	}

	// Reachability: per observer, the newest opinion set wins whole.
	uint64_t ver_a[CST_MEMBERS_MAX] = {0}, ver_b[CST_MEMBERS_MAX] = {0};
	for (i = 0; i < a->nmembers; i++) {
		ver_a[map_a[i]] = a->member[i].reach_version;
	}
	for (j = 0; j < b->nmembers; j++) {
		ver_b[map_b[j]] = b->member[j].reach_version;
	}
	for (uint32_t o = 0; o < m.nmembers; o++) {
		if (ver_a[o] >= ver_b[o]) {
			take_rows(&m, (uint8_t)o, a, map_a);
		}
		if (ver_b[o] >= ver_a[o]) {
			take_rows(&m, (uint8_t)o, b, map_b);
		}
	}
	qsort(m.reach, m.nreach, sizeof(m.reach[0]), compare_rows_qsort);
	cst_member_table_prune_rows(&m);

	m.seen = merge_seen(
	    cst_vclock_compare(&a->version, &b->version), a, map_a, b, map_b);
	*out = m;
	return 0;
}

int
cst_member_table_receive(cst_member_table *local,
    const cst_member_table *remote, const cst_address *self)
{
	cst_vclock_order order =
	    cst_vclock_compare(&remote->version, &local->version);
	int rc = cst_member_table_merge(local, remote, local);
	if (rc != 0) {
		return rc;
	}
	int at = cst_member_table_find(local, self);
	if (at >= 0) {
		cst_member_set_add(&local->seen, (uint32_t)at);
	}
	return (int)order;
}

bool
cst_member_table_equal(const cst_member_table *a, const cst_member_table *b)
{
	if (a->nmembers != b->nmembers || a->nreach != b->nreach ||
	    !cst_member_set_equal(&a->seen, &b->seen) ||
	    !cst_vclock_equal(&a->version, &b->version)) {
		return false;
	}
	for (uint32_t i = 0; i < a->nmembers; i++) {
		const cst_member *x = &a->member[i], *y = &b->member[i];
		if (!cst_address_equal(&x->address, &y->address) ||
		    x->status != y->status || x->up_number != y->up_number ||
		    x->reach_version != y->reach_version ||
		    compare_role_lists(x, y) != 0) {
			return false;
		}
	}
	for (uint32_t r = 0; r < a->nreach; r++) {
		if (compare_rows(&a->reach[r], &b->reach[r]) != 0) {
			return false;
		}
	}
	return true;
}
