// tests/cluster/test_address.c: member addresses (cluster/address.c):
// validation, the total order the leader choice relies on, incarnations,
// formatting, and the strict parser of a ref's address part.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/address.h"

TestSuite(address);

static cst_address
addr(const char *host, uint16_t port, uint64_t uid)
{
	cst_address a;
	cr_assert(
	    eq(int, cst_address_init(&a, "sys", host, port, uid, NULL), 0));
	return a;
}

Test(address, init_rejects_each_bad_part_with_a_reason)
{
	cst_address a;
	const char *why = NULL;
	cr_assert(eq(int, cst_address_init(&a, "", "h", 1, 1, &why), -EINVAL));
	cr_assert(eq(str, (char *)why, "empty system name"));
	cr_assert(
	    eq(int, cst_address_init(&a, "-x", "h", 1, 1, &why), -EINVAL));
	cr_assert(
	    eq(int, cst_address_init(&a, "s", "a b", 1, 1, &why), -EINVAL));
	cr_assert(eq(str, (char *)why, "bad character in host"));
	cr_assert(eq(int, cst_address_init(&a, "s", "h", 0, 1, &why), -EINVAL));
	cr_assert(eq(str, (char *)why, "port 0"));
	char long_host[300];
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = 0;
	cr_assert(
	    eq(int, cst_address_init(&a, "s", long_host, 1, 1, &why), -EINVAL));
	cr_assert(eq(str, (char *)why, "host too long"));
	cr_assert(
	    eq(int, cst_address_init(&a, "my-app_1", "::1", 9, 2, &why), 0));
}

Test(address, order_is_host_then_port_then_system_then_uid)
{
	cst_address a = addr("10.0.0.1", 2552, 9);
	cst_address b = addr("10.0.0.1", 2553, 1);
	cst_address c = addr("10.0.0.2", 1, 1);
	cr_assert(lt(int, cst_address_compare(&a, &b), 0));
	cr_assert(lt(int, cst_address_compare(&b, &c), 0));
	cr_assert(lt(int, 0, cst_address_compare(&c, &a)));
	cst_address a2 = addr("10.0.0.1", 2552, 10);
	cr_assert(lt(int, cst_address_compare(&a, &a2), 0));
	cr_assert(not(cst_address_equal(&a, &a2)));
	cr_assert(cst_address_equal(&a, &a));
}

Test(address, a_new_incarnation_is_a_different_member_at_the_same_endpoint)
{
	cst_address old   = addr("node1", 25520, 1);
	cst_address neu   = addr("node1", 25520, 2);
	cst_address other = addr("node1", 25521, 1);
	cr_assert(not(cst_address_equal(&old, &neu)));
	cr_assert(cst_address_same_endpoint(&old, &neu));
	cr_assert(not(cst_address_same_endpoint(&old, &other)));
}

Test(address, format_writes_scheme_system_host_port_and_incarnation)
{
	char        buf[CST_ADDRESS_TEXT_MAX];
	cst_address a = addr("node1", 25520, 42);
	cr_assert(eq(int, cst_address_format(&a, buf, sizeof(buf)),
	    (int)strlen("casty://sys@node1:25520#42")));
	cr_assert(eq(str, buf, "casty://sys@node1:25520#42"));
	cst_address v6 = addr("fe80::1", 7, 0);
	cst_address_format(&v6, buf, sizeof(buf));
	cr_assert(eq(str, buf, "casty://sys@[fe80::1]:7#0"));
	cr_assert(eq(int, cst_address_format(&a, buf, 5), -ENOSPC));
}

Test(address, the_longest_address_fits_the_text_bound)
{
	char system[CST_ADDRESS_SYSTEM_MAX], host[CST_ADDRESS_HOST_MAX];
	memset(system, 'a', sizeof(system) - 1);
	system[sizeof(system) - 1] = 0;
	memset(host, ':', sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	cst_address a;
	cr_assert(eq(int,
	    cst_address_init(&a, system, host, 65535, UINT64_MAX, NULL), 0));
	char buf[CST_ADDRESS_TEXT_MAX];
	cr_assert(lt(int, 0, cst_address_format(&a, buf, sizeof(buf))));
}

Test(address, parse_reads_the_address_and_finds_the_path)
{
	const char *ref = "casty://my-app@10.0.0.5:25520/user/orders";
	cst_address a;
	size_t      path = 0;
	cr_assert(
	    eq(int, cst_address_parse(ref, strlen(ref), &a, &path, NULL), 0));
	cr_assert(eq(str, a.system, "my-app"));
	cr_assert(eq(str, a.host, "10.0.0.5"));
	cr_assert(eq(u16, a.port, 25520));
	cr_assert(eq(u64, a.uid, 0));
	cr_assert(eq(str, (char *)ref + path, "/user/orders"));

	const char *with_uid = "casty://s@[::1]:1#18446744073709551615";
	cr_assert(eq(int,
	    cst_address_parse(with_uid, strlen(with_uid), &a, &path, NULL), 0));
	cr_assert(eq(str, a.host, "::1"));
	cr_assert(eq(u64, a.uid, UINT64_MAX));
	cr_assert(eq(sz, path, strlen(with_uid)));
}

Test(address, parse_round_trips_format)
{
	cst_address a = addr("node-3.example", 4000, 123456789);
	char        buf[CST_ADDRESS_TEXT_MAX];
	int         n = cst_address_format(&a, buf, sizeof(buf));
	cst_address b;
	cr_assert(
	    eq(int, cst_address_parse(buf, (size_t)n, &b, NULL, NULL), 0));
	cr_assert(cst_address_equal(&a, &b));
}

Test(address, parse_rejects_malformed_refs_and_says_why)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
	    {"", "missing casty:// scheme"},
	    {"akka://s@h:1", "missing casty:// scheme"},
	    {"casty://s", "missing '@' after the system name"},
	    {"casty://s/x@h:1", "missing '@' after the system name"},
	    {"casty://@h:1", "empty system name"},
	    {"casty://s@:1", "empty host"},
	    {"casty://s@h", "missing ':' and port after the host"},
	    {"casty://s@h:", "port is not a number in 1..65535"},
	    {"casty://s@h:0", "port is not a number in 1..65535"},
	    {"casty://s@h:01", "port is not a number in 1..65535"},
	    {"casty://s@h:65536", "port is not a number in 1..65535"},
	    {"casty://s@h:+1", "port is not a number in 1..65535"},
	    {"casty://s@h:1#", "incarnation is not a 64-bit number"},
	    {"casty://s@h:1#18446744073709551616",
	        "incarnation is not a 64-bit number"},
	    {"casty://s@h:1x", "unexpected character after the address"},
	    {"casty://s@[::1:1", "unterminated '[' in host"},
	    {"casty://s@[host]:1", "brackets around a host that is not IPv6"},
	    {"casty://s@h!:1", "bad character in host"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cst_address a;
		memset(&a, 0x5a, sizeof(a));
		cst_address before = a;
		const char *why    = NULL;
		cr_assert(eq(int,
		              cst_address_parse(bad[i].text,
		                  strlen(bad[i].text), &a, NULL, &why),
		              -EINVAL),
		    "%s", bad[i].text);
		cr_assert(eq(str, (char *)why, (char *)bad[i].why), "%s",
		    bad[i].text);
		cr_assert(eq(int, memcmp(&a, &before, sizeof(a)), 0));
	}
}

Test(address, parse_never_reads_past_len)
{
	// The text is not terminated: the parser must stop at len.
	char text[] = "casty://s@h:12345";
	for (size_t len = 0; len < strlen(text); len++) {
		char *copy = malloc(len ? len : 1);
		memcpy(copy, text, len);
		cst_address a;
		int         rc = cst_address_parse(copy, len, &a, NULL, NULL);
		// Only the prefixes that end after at least one port digit
		// parse.
		cr_assert(eq(int, rc, len >= 13 ? 0 : -EINVAL), "len %zu", len);
		free(copy);
	}
}
