// tests/support/members.h: small helpers for the membership tests: a
// node's address by number and incarnation, and tables kept in static
// storage (a cst_member_table is tens of KiB).
#ifndef CASTY_TESTS_SUPPORT_MEMBERS_H
#define CASTY_TESTS_SUPPORT_MEMBERS_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "cluster/member_table.h"

// Node i listens at n<i>:2552 (so address order is number order); uid is
// its incarnation.
static inline cst_address
member_addr(unsigned i, uint64_t uid)
{
	char host[32];
	snprintf(host, sizeof(host), "n%02u", i);
	cst_address a;
	if (cst_address_init(&a, "sys", host, 2552, uid, NULL) != 0) {
		cr_fatal("bad test address");
	}
	return a;
}

static inline const cst_member *
member_of(const cst_member_table *t, const cst_address *a)
{
	int i = cst_member_table_find(t, a);
	return i < 0 ? NULL : &t->member[i];
}

static inline cst_member_status
status_of(const cst_member_table *t, const cst_address *a)
{
	const cst_member *m = member_of(t, a);
	if (m == NULL) {
		cr_fatal("not a member");
	}
	return m->status;
}

#endif // CASTY_TESTS_SUPPORT_MEMBERS_H
