// cluster/gossip_codec.c: gossip to and from MessagePack (msgpuck; the
// library is instantiated once in persistence/msgpuck.c). The decoder
// reads through a cursor that checks, before each msgpuck call, that the
// next value has the expected type and lies wholly inside the buffer, so
// msgpuck never sees a truncated value and nothing is allocated from a
// count the peer chose.
#include "cluster/gossip_codec.h"

#include <errno.h>
#include <string.h>

#include <msgpuck.h>

#include "runtime/roles.h"

#define MEMBER_FIELDS 8

static size_t
roles_size(const cst_roles *r)
{
	size_t n = mp_sizeof_array(r->n);
	for (uint32_t i = 0; i < r->n; i++) {
		n += mp_sizeof_str((uint32_t)strlen(r->name[i]));
	}
	return n;
}

static char *
write_roles(char *w, const cst_roles *r)
{
	w = mp_encode_array(w, r->n);
	for (uint32_t i = 0; i < r->n; i++) {
		w = mp_encode_str(w, r->name[i], (uint32_t)strlen(r->name[i]));
	}
	return w;
}

static size_t
member_size(const cst_member *m)
{
	return mp_sizeof_array(MEMBER_FIELDS) +
	       mp_sizeof_str((uint32_t)strlen(m->address.system)) +
	       mp_sizeof_str((uint32_t)strlen(m->address.host)) +
	       mp_sizeof_uint(m->address.port) +
	       mp_sizeof_uint(m->address.uid) + mp_sizeof_uint(m->status) +
	       mp_sizeof_uint(m->up_number) +
	       mp_sizeof_uint(m->reach_version) + roles_size(&m->roles);
}

size_t
cst_gossip_encoded_size(const cst_member_table *t)
{
	size_t n = mp_sizeof_array(5) + mp_sizeof_uint(CST_GOSSIP_FORMAT);
	n += mp_sizeof_array(t->nmembers);
	uint32_t nseen = 0;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		n += member_size(&t->member[i]);
		nseen += cst_member_table_has_seen(t, i);
		if (cst_member_table_has_seen(t, i)) {
			n += mp_sizeof_uint(i);
		}
	}
	n += mp_sizeof_array(t->version.len);
	for (uint32_t v = 0; v < t->version.len; v++) {
		int i = cst_member_table_find(t, &t->version.entry[v].node);
		n += mp_sizeof_array(2) +
		     mp_sizeof_uint(i < 0 ? 0 : (uint32_t)i) +
		     mp_sizeof_uint(t->version.entry[v].counter);
	}
	n += mp_sizeof_array(nseen);
	n += mp_sizeof_array(t->nreach);
	for (uint32_t r = 0; r < t->nreach; r++) {
		n += mp_sizeof_array(2) + mp_sizeof_uint(t->reach[r].observer) +
		     mp_sizeof_uint(t->reach[r].subject);
	}
	return n;
}

int64_t
cst_gossip_encode(const cst_member_table *t, uint8_t *buf, size_t cap)
{
	for (uint32_t v = 0; v < t->version.len; v++) {
		if (cst_member_table_find(t, &t->version.entry[v].node) < 0) {
			return -EINVAL;
		}
	}
	for (uint32_t r = 0; r < t->nreach; r++) {
		const cst_reach_row *row = &t->reach[r];
		if (row->observer >= t->nmembers ||
		    row->subject >= t->nmembers ||
		    row->observer == row->subject) {
			return -EINVAL;
		}
	}
	size_t size = cst_gossip_encoded_size(t);
	if (size > cap) {
		return -ENOSPC;
	}
	char *w = (char *)buf;
	w       = mp_encode_array(w, 5);
	w       = mp_encode_uint(w, CST_GOSSIP_FORMAT);
	w       = mp_encode_array(w, t->nmembers);
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const cst_member *m = &t->member[i];

		w = mp_encode_array(w, MEMBER_FIELDS);
		w = mp_encode_str(
		    w, m->address.system, (uint32_t)strlen(m->address.system));
		w = mp_encode_str(
		    w, m->address.host, (uint32_t)strlen(m->address.host));
		w = mp_encode_uint(w, m->address.port);
		w = mp_encode_uint(w, m->address.uid);
		w = mp_encode_uint(w, m->status);
		w = mp_encode_uint(w, m->up_number);
		w = mp_encode_uint(w, m->reach_version);
		w = write_roles(w, &m->roles);
	}
	// The clock is sorted by address like the members, so indices come
	// out increasing.
	w = mp_encode_array(w, t->version.len);
	for (uint32_t v = 0; v < t->version.len; v++) {
		int i = cst_member_table_find(t, &t->version.entry[v].node);
		w     = mp_encode_array(w, 2);
		w     = mp_encode_uint(w, (uint32_t)i);
		w     = mp_encode_uint(w, t->version.entry[v].counter);
	}
	uint32_t nseen = 0;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		nseen += cst_member_table_has_seen(t, i);
	}
	w = mp_encode_array(w, nseen);
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if (cst_member_table_has_seen(t, i)) {
			w = mp_encode_uint(w, i);
		}
	}
	w = mp_encode_array(w, t->nreach);
	for (uint32_t r = 0; r < t->nreach; r++) {
		w = mp_encode_array(w, 2);
		w = mp_encode_uint(w, t->reach[r].observer);
		w = mp_encode_uint(w, t->reach[r].subject);
	}
	return (int64_t)(w - (char *)buf);
}

/*
 * The decoder.
 */

typedef struct cursor {
	const char *p;
	const char *end;
	const char *why; // the first failure, or NULL
} cursor;

static bool
fail(cursor *c, const char *why)
{
	if (c->why == NULL) {
		c->why = why;
	}
	return false;
}

static bool
read_array(cursor *c, uint32_t max, uint32_t *n, const char *what)
{
	if (c->p >= c->end || mp_typeof(*c->p) != MP_ARRAY ||
	    mp_check_array(c->p, c->end) > 0) {
		return fail(c, what);
	}
	*n = mp_decode_array(&c->p);
	// Every element takes at least one byte: a count beyond what is left
	// is a lie, whatever the bound says.
	if (*n > max || *n > (uint64_t)(c->end - c->p)) {
		return fail(c, what);
	}
	return true;
}

static bool
read_uint(cursor *c, uint64_t max, uint64_t *v, const char *what)
{
	if (c->p >= c->end || mp_typeof(*c->p) != MP_UINT ||
	    mp_check_uint(c->p, c->end) > 0) {
		return fail(c, what);
	}
	*v = mp_decode_uint(&c->p);
	return *v <= max ? true : fail(c, what);
}

// Copies a string of 1..cap-1 bytes without NUL into dst, terminated.
static bool
read_str(cursor *c, char *dst, size_t cap, const char *what)
{
	if (c->p >= c->end || mp_typeof(*c->p) != MP_STR ||
	    mp_check_strl(c->p, c->end) > 0) {
		return fail(c, what);
	}
	const char *q   = c->p;
	uint32_t    len = mp_decode_strl(&q);
	if (len == 0 || len >= cap || len > (uint64_t)(c->end - q) ||
	    memchr(q, 0, len) != NULL) {
		return fail(c, what);
	}
	memcpy(dst, q, len);
	dst[len] = 0;
	c->p     = q + len;
	return true;
}

// A role list as cst_roles_set makes it: every role one that
// runtime/roles.h allows, sorted, no duplicates.
static bool
read_roles(cursor *c, cst_roles *r)
{
	if (!read_array(c, CST_ROLES_MAX, &r->n, "bad roles")) {
		return false;
	}
	for (uint32_t i = 0; i < r->n; i++) {
		if (!read_str(c, r->name[i], CST_ROLE_MAX, "bad role")) {
			return false;
		}
		if (!cst_role_valid(r->name[i], strlen(r->name[i]))) {
			return fail(c, "bad role");
		}
		if (i > 0 && strcmp(r->name[i - 1], r->name[i]) >= 0) {
			return fail(c, "roles not sorted or duplicated");
		}
	}
	return true;
}

static bool
read_member(cursor *c, cst_member *m)
{
	uint32_t n;
	char     system[CST_ADDRESS_SYSTEM_MAX], host[CST_ADDRESS_HOST_MAX];
	uint64_t port, uid, status, up, reach_version;
	memset(m, 0, sizeof(*m));
	if (!read_array(c, MEMBER_FIELDS, &n, "member is not an array") ||
	    n != MEMBER_FIELDS) {
		return fail(c, "member has the wrong number of fields");
	}
	if (!read_str(c, system, sizeof(system), "bad system name") ||
	    !read_str(c, host, sizeof(host), "bad host") ||
	    !read_uint(c, UINT16_MAX, &port, "bad port") ||
	    !read_uint(c, UINT64_MAX, &uid, "bad incarnation") ||
	    !read_uint(c, CST_MEMBER_REMOVED, &status, "unknown status") ||
	    !read_uint(c, UINT32_MAX, &up, "bad up-number") ||
	    !read_uint(c, UINT64_MAX, &reach_version, "bad reach version")) {
		return false;
	}
	const char *why;
	if (cst_address_init(
	        &m->address, system, host, (uint16_t)port, uid, &why) != 0) {
		return fail(c, why);
	}
	m->status        = (cst_member_status)status;
	m->up_number     = (uint32_t)up;
	m->reach_version = reach_version;
	if (m->status == CST_MEMBER_JOINING && m->up_number != 0) {
		return fail(c, "joining member with an up-number");
	}
	return read_roles(c, &m->roles);
}

static bool
read_table(cursor *c, cst_member_table *t)
{
	uint32_t n;
	uint64_t v;
	if (!read_array(c, 5, &n, "not a gossip") || n != 5) {
		return fail(c, "not a gossip");
	}
	if (!read_uint(c, UINT64_MAX, &v, "bad format version")) {
		return false;
	}
	if (v != CST_GOSSIP_FORMAT) {
		return fail(c, "unknown format version");
	}

	if (!read_array(c, CST_MEMBERS_MAX, &t->nmembers, "too many members")) {
		return false;
	}
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if (!read_member(c, &t->member[i])) {
			return false;
		}
		if (i > 0 && cst_address_compare(&t->member[i - 1].address,
		                 &t->member[i].address) >= 0) {
			return fail(c, "members not sorted or duplicated");
		}
	}

	if (!read_array(c, t->nmembers, &t->version.len, "bad version")) {
		return false;
	}
	uint64_t prev = 0;
	for (uint32_t k = 0; k < t->version.len; k++) {
		uint64_t i, counter;
		if (!read_array(c, 2, &n, "bad version entry") || n != 2 ||
		    !read_uint(c, t->nmembers - 1, &i, "bad version member") ||
		    !read_uint(
		        c, UINT64_MAX, &counter, "bad version counter")) {
			return fail(c, "bad version entry");
		}
		if ((k > 0 && i <= prev) || counter == 0) {
			return fail(c, "version entries not canonical");
		}
		prev                        = i;
		t->version.entry[k].node    = t->member[i].address;
		t->version.entry[k].counter = counter;
	}

	uint32_t nseen;
	if (!read_array(c, t->nmembers, &nseen, "bad seen set")) {
		return false;
	}
	for (uint32_t k = 0; k < nseen; k++) {
		uint64_t i;
		if (!read_uint(c, t->nmembers - 1, &i, "bad seen member")) {
			return false;
		}
		if (k > 0 && i <= prev) {
			return fail(c, "seen set not increasing");
		}
		prev = i;
		cst_member_set_add(&t->seen, (uint32_t)i);
	}

	if (!read_array(c, CST_REACH_MAX, &t->nreach, "bad reachability")) {
		return false;
	}
	// A row names two members, observer and subject (and nmembers - 1
	// below would wrap without them: found by tests/fuzz/fuzz_gossip.c).
	if (t->nreach > 0 && t->nmembers < 2) {
		return fail(c, "reachability rows need two members");
	}
	for (uint32_t k = 0; k < t->nreach; k++) {
		uint64_t o, s;
		if (!read_array(c, 2, &n, "bad reachability row") || n != 2 ||
		    !read_uint(c, t->nmembers - 1, &o, "bad observer") ||
		    !read_uint(c, t->nmembers - 1, &s, "bad subject")) {
			return fail(c, "bad reachability row");
		}
		cst_reach_row row = {
		    .observer = (uint8_t)o, .subject = (uint8_t)s};
		if (o == s) {
			return fail(c, "member unreachable from itself");
		}
		if (t->member[o].status == CST_MEMBER_REMOVED ||
		    t->member[s].status == CST_MEMBER_REMOVED) {
			return fail(c, "reachability row of a removed member");
		}
		if (k > 0 && (t->reach[k - 1].observer > o ||
		                 (t->reach[k - 1].observer == o &&
		                     t->reach[k - 1].subject >= s))) {
			return fail(c, "reachability rows not sorted");
		}
		t->reach[k] = row;
	}
	if (c->p != c->end) {
		return fail(c, "trailing bytes");
	}
	return true;
}

int
cst_gossip_decode(const uint8_t *buf, size_t len,
    cst_member_table *out, const char **why)
{
	cursor c = {.p = (const char *)buf,
	    .end       = (const char *)buf + len,
	    .why       = NULL};
	cst_member_table_init(out);
	if (!read_table(&c, out)) {
		cst_member_table_init(out);
		if (why != NULL) {
			*why = c.why;
		}
		return -EINVAL;
	}
	return 0;
}

/*
 * The join request.
 */

int64_t
cst_join_encode(const cst_roles *roles, uint8_t *buf, size_t cap)
{
	for (uint32_t i = 0; i < roles->n; i++) {
		const char *r = roles->name[i];
		if (!cst_role_valid(r, strnlen(r, CST_ROLE_MAX)) ||
		    (i > 0 && strcmp(roles->name[i - 1], r) >= 0)) {
			return -EINVAL;
		}
	}
	size_t size = mp_sizeof_array(2) + mp_sizeof_uint(CST_JOIN_FORMAT) +
	              roles_size(roles);
	if (size > cap) {
		return -ENOSPC;
	}
	char *w = (char *)buf;
	w       = mp_encode_array(w, 2);
	w       = mp_encode_uint(w, CST_JOIN_FORMAT);
	w       = write_roles(w, roles);
	return (int64_t)(w - (char *)buf);
}

int
cst_join_decode(
    const uint8_t *buf, size_t len, cst_roles *out, const char **why)
{
	cursor   c = {.p = (const char *)buf,
	      .end       = (const char *)buf + len,
	      .why       = NULL};
	uint32_t n;
	uint64_t v;
	memset(out, 0, sizeof(*out));
	bool ok =
	    read_array(&c, 2, &n, "not a join request") && n == 2 &&
	    read_uint(&c, UINT64_MAX, &v, "bad format version") &&
	    (v == CST_JOIN_FORMAT || fail(&c, "unknown format version")) &&
	    read_roles(&c, out) && (c.p == c.end || fail(&c, "trailing bytes"));
	if (!ok) {
		memset(out, 0, sizeof(*out));
		if (why != NULL) {
			*why = c.why != NULL ? c.why : "not a join request";
		}
		return -EINVAL;
	}
	return 0;
}
