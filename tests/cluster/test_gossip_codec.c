// tests/cluster/test_gossip_codec.c: the wire forms of a gossip and of a
// join request (cluster/gossip_codec.c): round trips, every truncation
// rejected, and hand-made hostile inputs (unknown statuses, duplicates,
// out-of-range indices, lying counts, roles no node may have, trailing
// bytes) each rejected with its reason.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <msgpuck.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/gossip_codec.h"
#include "tests/support/members.h"

TestSuite(gossip_codec);

static cst_member_table t, back;
static uint8_t          buf[1 << 16];

// A table with every feature: roles, statuses, rows, a partial seen set,
// a version with several nodes.
static void
rich_table(void)
{
	cst_address a = member_addr(1, 11), b = member_addr(2, 22);
	cst_address c = member_addr(3, 33), d = member_addr(4, 44);
	const char *roles[] = {"worker", "api"};
	cst_member_table_init(&t);
	cr_assert(eq(int, cst_member_table_join(&t, &a, &a, roles, 2), 0));
	cst_member_table_join(&t, &a, &b, NULL, 0);
	cst_member_table_join(&t, &a, &c, roles, 1);
	cst_member_table_join(&t, &a, &d, NULL, 0);
	for (uint32_t i = 0; i < 4; i++) {
		cst_member_set_add(&t.seen, i);
	}
	cst_member_table_leader_actions(&t, &a);
	cst_member_table_leave(&t, &b, &b);
	cst_member_table_mark_unreachable(&t, &b, &c);
	cst_member_table_mark_unreachable(&t, &a, &c);
	cst_member_table_down(&t, &c, &d);
	cst_member_set_add(&t.seen, 0); // a has seen it too
}

static size_t
encode(void)
{
	int64_t n = cst_gossip_encode(&t, buf, sizeof(buf));
	cr_assert(lt(i64, 0, n));
	cr_assert(eq(sz, (size_t)n, cst_gossip_encoded_size(&t)));
	return (size_t)n;
}

Test(gossip_codec, a_rich_table_round_trips)
{
	rich_table();
	size_t n = encode();
	cr_assert(eq(int, cst_gossip_decode(buf, n, &back, NULL), 0));
	cr_assert(cst_member_table_equal(&t, &back));
	// An empty table too.
	cst_member_table_init(&t);
	n = encode();
	cr_assert(eq(int, cst_gossip_decode(buf, n, &back, NULL), 0));
	cr_assert(cst_member_table_equal(&t, &back));
}

Test(gossip_codec, a_full_table_fits_and_round_trips)
{
	cst_address self = member_addr(0, 1);
	cst_member_table_init(&t);
	cst_member_table_join(&t, &self, &self, NULL, 0);
	for (unsigned i = 1; i < CST_MEMBERS_MAX; i++) {
		cst_address a = member_addr(i, UINT64_MAX - i);
		cst_member_table_join(&t, &self, &a, NULL, 0);
	}
	for (unsigned i = 1; i < CST_MEMBERS_MAX; i++) {
		cst_address a = member_addr(i, UINT64_MAX - i);
		cst_member_table_mark_unreachable(&t, &self, &a);
	}
	size_t n = encode();
	cr_assert(eq(int, cst_gossip_decode(buf, n, &back, NULL), 0));
	cr_assert(cst_member_table_equal(&t, &back));
}

Test(gossip_codec, every_truncation_is_rejected)
{
	rich_table();
	size_t n = encode();
	for (size_t len = 0; len < n; len++) {
		// A heap copy of exactly len bytes, so ASan sees any overread.
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, buf, len);
		const char *why = NULL;
		cr_assert(
		    eq(int, cst_gossip_decode(p, len, &back, &why), -EINVAL),
		    "len %zu", len);
		cr_assert(not(eq(ptr, (void *)why, NULL)));
		cr_assert(eq(u32, back.nmembers, 0));
		free(p);
	}
}

Test(gossip_codec, trailing_bytes_are_rejected)
{
	rich_table();
	size_t n        = encode();
	buf[n]          = 0xc0;
	const char *why = NULL;
	cr_assert(
	    eq(int, cst_gossip_decode(buf, n + 1, &back, &why), -EINVAL));
	cr_assert(eq(str, (char *)why, "trailing bytes"));
}

Test(gossip_codec, a_short_buffer_is_refused_by_the_encoder)
{
	rich_table();
	size_t n = encode();
	cr_assert(eq(i64, cst_gossip_encode(&t, buf, n - 1), -ENOSPC));
}

// Hand-made gossips. Each writer below builds one member with the given
// status, so tests can vary one thing at a time.
static char *
put_member(char *w, unsigned i, uint64_t uid, unsigned status, unsigned up)
{
	char host[8];
	snprintf(host, sizeof(host), "n%02u", i);
	w = mp_encode_array(w, 8);
	w = mp_encode_str(w, "sys", 3);
	w = mp_encode_str(w, host, (uint32_t)strlen(host));
	w = mp_encode_uint(w, 2552);
	w = mp_encode_uint(w, uid);
	w = mp_encode_uint(w, status);
	w = mp_encode_uint(w, up);
	w = mp_encode_uint(w, 0);
	w = mp_encode_array(w, 0);
	return w;
}

// Filler after a deliberately broken prefix, so the failure is the one
// under test and not "the counts promise more bytes than there are".
static char *
pad(char *w)
{
	for (int i = 0; i < 64; i++) {
		w = mp_encode_nil(w);
	}
	return w;
}

static const char *
decode_why(const char *end)
{
	const char *why = NULL;
	int         rc =
	    cst_gossip_decode(buf, (size_t)(end - (char *)buf), &back, &why);
	return rc == 0 ? "accepted" : why;
}

static char *
header(unsigned nmembers)
{
	char *w = (char *)buf;
	w       = mp_encode_array(w, 5);
	w       = mp_encode_uint(w, CST_GOSSIP_FORMAT);
	return mp_encode_array(w, nmembers);
}

static char *
empty_tail(char *w)
{
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 0);
	return mp_encode_array(w, 0);
}

Test(gossip_codec, a_hand_made_gossip_is_accepted)
{
	char *w = header(2);
	w       = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w       = put_member(w, 2, 1, CST_MEMBER_JOINING, 0);
	w       = empty_tail(w);
	cr_assert(eq(str, (char *)decode_why(w), "accepted"));
}

Test(gossip_codec, unknown_status_is_rejected)
{
	char *w = header(1);
	w       = put_member(w, 1, 1, CST_MEMBER_STATUS_COUNT, 1);
	w       = empty_tail(w);
	cr_assert(eq(str, (char *)decode_why(w), "unknown status"));
}

Test(gossip_codec, duplicate_members_are_rejected)
{
	char *w = header(2);
	w       = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w       = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w       = empty_tail(w);
	cr_assert(
	    eq(str, (char *)decode_why(w), "members not sorted or duplicated"));
}

Test(gossip_codec, a_joining_member_with_an_up_number_is_rejected)
{
	char *w = header(1);
	w       = put_member(w, 1, 1, CST_MEMBER_JOINING, 3);
	w       = empty_tail(w);
	cr_assert(
	    eq(str, (char *)decode_why(w), "joining member with an up-number"));
}

Test(gossip_codec, a_count_beyond_the_bound_or_the_buffer_is_rejected)
{
	char *w = pad(header(CST_MEMBERS_MAX + 1));
	cr_assert(eq(str, (char *)decode_why(w), "too many members"));
	// A count within the bound but larger than the bytes that follow.
	w = header(3);
	w = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	cr_assert(eq(str, (char *)decode_why(w), "member is not an array"));
	// A 32-bit array count of four billion.
	w = (char *)buf;
	w = mp_encode_array(w, UINT32_MAX);
	cr_assert(eq(str, (char *)decode_why(w), "not a gossip"));
}

Test(gossip_codec, bad_version_entries_are_rejected)
{
	char *w = header(1);
	w       = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w       = mp_encode_array(w, 1);
	w       = mp_encode_array(w, 2);
	w       = mp_encode_uint(w, 1); // index out of range
	w       = mp_encode_uint(w, 5);
	w       = mp_encode_array(w, 0);
	w       = mp_encode_array(w, 0);
	cr_assert(eq(str, (char *)decode_why(w), "bad version member"));

	w = header(1);
	w = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w = mp_encode_array(w, 1);
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, 0);
	w = mp_encode_uint(w, 0); // a zero counter is never stored
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 0);
	cr_assert(
	    eq(str, (char *)decode_why(w), "version entries not canonical"));
}

Test(gossip_codec, bad_seen_sets_and_rows_are_rejected)
{
	char *w = header(2);
	w       = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w       = put_member(w, 2, 1, CST_MEMBER_UP, 2);
	w       = mp_encode_array(w, 0);
	w       = mp_encode_array(w, 2);
	w       = mp_encode_uint(w, 1);
	w       = mp_encode_uint(w, 1); // duplicate
	w       = mp_encode_array(w, 0);
	cr_assert(eq(str, (char *)decode_why(w), "seen set not increasing"));

	w = header(2);
	w = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w = put_member(w, 2, 1, CST_MEMBER_UP, 2);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 1);
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, 1);
	w = mp_encode_uint(w, 1);
	cr_assert(
	    eq(str, (char *)decode_why(w), "member unreachable from itself"));

	w = header(2);
	w = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w = put_member(w, 2, 1, CST_MEMBER_REMOVED, 2);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 1);
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, 0);
	w = mp_encode_uint(w, 1);
	cr_assert(eq(str, (char *)decode_why(w),
	    "reachability row of a removed member"));

	w = header(2);
	w = put_member(w, 1, 1, CST_MEMBER_UP, 1);
	w = put_member(w, 2, 1, CST_MEMBER_UP, 2);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 0);
	w = mp_encode_array(w, 2);
	for (int k = 0; k < 2; k++) { // the same row twice
		w = mp_encode_array(w, 2);
		w = mp_encode_uint(w, 0);
		w = mp_encode_uint(w, 1);
	}
	cr_assert(
	    eq(str, (char *)decode_why(w), "reachability rows not sorted"));
}

Test(gossip_codec, bad_strings_and_types_are_rejected)
{
	char *w = header(1);
	w       = mp_encode_array(w, 8);
	w       = mp_encode_str(w, "s\0s", 3); // NUL inside
	w       = pad(w);
	cr_assert(eq(str, (char *)decode_why(w), "bad system name"));

	w = header(1);
	w = mp_encode_array(w, 8);
	w = mp_encode_str(w, "sys", 3);
	w = mp_encode_str(w, "bad host", 8);
	w = mp_encode_uint(w, 1);
	w = mp_encode_uint(w, 1);
	w = mp_encode_uint(w, 0);
	w = mp_encode_uint(w, 0);
	w = mp_encode_uint(w, 0);
	w = mp_encode_array(w, 0);
	w = empty_tail(w);
	cr_assert(eq(str, (char *)decode_why(w), "bad character in host"));

	w = header(1);
	w = mp_encode_array(w, 8);
	w = mp_encode_str(w, "sys", 3);
	w = mp_encode_str(w, "h", 1);
	w = mp_encode_int(w, -1); // a negative port
	w = pad(w);
	cr_assert(eq(str, (char *)decode_why(w), "bad port"));

	w = (char *)buf;
	w = mp_encode_array(w, 5);
	w = mp_encode_uint(w, CST_GOSSIP_FORMAT + 1);
	w = pad(w);
	cr_assert(eq(str, (char *)decode_why(w), "unknown format version"));
}

// A one-member gossip whose member has the given roles, as written.
static char *
member_with_roles(const char *const *roles, uint32_t n)
{
	char *w = header(1);
	w       = mp_encode_array(w, 8);
	w       = mp_encode_str(w, "sys", 3);
	w       = mp_encode_str(w, "h", 1);
	w       = mp_encode_uint(w, 1);
	w       = mp_encode_uint(w, 1);
	w       = mp_encode_uint(w, 1);
	w       = mp_encode_uint(w, 1);
	w       = mp_encode_uint(w, 0);
	w       = mp_encode_array(w, n);
	for (uint32_t i = 0; i < n; i++) {
		w = mp_encode_str(w, roles[i], (uint32_t)strlen(roles[i]));
	}
	return empty_tail(w);
}

Test(gossip_codec, roles_must_be_sorted_and_distinct)
{
	const char *unsorted[] = {"b", "a"};
	const char *twice[] = {"a", "a"};
	cr_assert(eq(str, (char *)decode_why(member_with_roles(unsorted, 2)),
	    "roles not sorted or duplicated"));
	cr_assert(eq(str, (char *)decode_why(member_with_roles(twice, 2)),
	    "roles not sorted or duplicated"));
}

Test(gossip_codec, roles_no_node_may_have_are_rejected)
{
	const char *fine[] = {"api", "dc-east", "w\xc3\xb6rker"};
	cr_assert(eq(str, (char *)decode_why(member_with_roles(fine, 3)),
	    "accepted"));
	cr_assert(eq(str, back.member[0].roles.name[2], "w\xc3\xb6rker"));
	const char *bad[] = {"a,b", "a b", "a\tb", "a\x7f",
	    "0123456789012345678901234567890x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = decode_why(member_with_roles(&bad[i], 1));
		cr_assert(eq(str, (char *)why, "bad role"), "'%s'", bad[i]);
	}
	const char *many[CST_ROLES_MAX + 1] = {"a", "b", "c", "d", "e", "f",
	    "g", "h", "i"};
	cr_assert(eq(str,
	    (char *)decode_why(member_with_roles(many, CST_ROLES_MAX + 1)),
	    "bad roles"));
}

static const char *
join_why(const char *end, cst_roles *out)
{
	const char *why = NULL;
	int rc = cst_join_decode(buf, (size_t)(end - (char *)buf), out, &why);
	return rc == 0 ? "accepted" : why;
}

Test(gossip_codec, a_join_request_round_trips_its_roles)
{
	const char *given[] = {"worker", "api", "worker"};
	cst_roles   roles, got;
	cr_assert(eq(int, cst_roles_set(&roles, given, 3), 0));
	int64_t n = cst_join_encode(&roles, buf, sizeof buf);
	cr_assert(lt(i64, 0, n));
	cr_assert(eq(int, cst_join_decode(buf, (size_t)n, &got, NULL), 0));
	cr_assert(eq(u32, got.n, 2));
	cr_assert(eq(str, got.name[0], "api"));
	cr_assert(eq(str, got.name[1], "worker"));
	// Every truncation is refused, and leaves no roles behind.
	for (int64_t k = 0; k < n; k++) {
		got.n = 99;
		cr_assert(eq(int, cst_join_decode(buf, (size_t)k, &got, NULL),
		    -EINVAL));
		cr_assert(eq(u32, got.n, 0));
	}
	// No roles; and the most roles, each as long as it may be, fit
	// CST_JOIN_MAX exactly.
	cst_roles_set(&roles, NULL, 0);
	n = cst_join_encode(&roles, buf, sizeof buf);
	cr_assert(eq(int, cst_join_decode(buf, (size_t)n, &got, NULL), 0));
	cr_assert(eq(u32, got.n, 0));
	char        names[CST_ROLES_MAX][CST_ROLE_MAX];
	const char *longest[CST_ROLES_MAX];
	for (int i = 0; i < CST_ROLES_MAX; i++) {
		memset(names[i], 'a' + i, CST_ROLE_MAX - 1);
		names[i][CST_ROLE_MAX - 1] = '\0';
		longest[i] = names[i];
	}
	cr_assert(eq(int, cst_roles_set(&roles, longest, CST_ROLES_MAX), 0));
	uint8_t exact[CST_JOIN_MAX];
	n = cst_join_encode(&roles, exact, sizeof exact);
	cr_assert(eq(i64, n, CST_JOIN_MAX));
	cr_assert(eq(int, cst_join_decode(exact, (size_t)n, &got, NULL), 0));
	cr_assert(eq(u32, got.n, CST_ROLES_MAX));
	cr_assert(eq(i64, cst_join_encode(&roles, exact, sizeof exact - 1),
	    -ENOSPC));
	// A list that is not canonical is not written.
	memcpy(roles.name[0], "zzz", 4);
	cr_assert(eq(i64, cst_join_encode(&roles, buf, sizeof buf), -EINVAL));
}

Test(gossip_codec, bad_join_requests_are_rejected_with_their_reason)
{
	cst_roles got;
	char     *w = (char *)buf;
	w           = mp_encode_array(w, 0);
	cr_assert(eq(str, (char *)join_why(w, &got), "not a join request"));

	w = (char *)buf;
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, CST_JOIN_FORMAT + 1);
	w = mp_encode_array(w, 0);
	cr_assert(eq(str, (char *)join_why(w, &got), "unknown format version"));

	w = (char *)buf;
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, CST_JOIN_FORMAT);
	w = mp_encode_array(w, 2);
	w = mp_encode_str(w, "b", 1);
	w = mp_encode_str(w, "a", 1);
	cr_assert(eq(str, (char *)join_why(w, &got),
	    "roles not sorted or duplicated"));

	w = (char *)buf;
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, CST_JOIN_FORMAT);
	w = mp_encode_array(w, 1);
	w = mp_encode_str(w, "a,b", 3);
	cr_assert(eq(str, (char *)join_why(w, &got), "bad role"));

	w = (char *)buf;
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, CST_JOIN_FORMAT);
	w = mp_encode_array(w, 200); // a count the bytes cannot hold
	cr_assert(eq(str, (char *)join_why(w, &got), "bad roles"));

	w = (char *)buf;
	w = mp_encode_array(w, 2);
	w = mp_encode_uint(w, CST_JOIN_FORMAT);
	w = mp_encode_array(w, 0);
	w = mp_encode_nil(w);
	cr_assert(eq(str, (char *)join_why(w, &got), "trailing bytes"));
	cr_assert(eq(u32, got.n, 0));
}
