// cluster/address.c: member addresses, their order, text form and the
// strict parser of a ref's address part. The parser reads a length-bounded
// buffer that need not be terminated, accepts exactly one spelling of
// each part (no signs, no leading zeros, no empty parts) and says which
// part was wrong, because refs arrive from other processes.
#include "cluster/address.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char scheme[] = "casty://";

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static const char *
check_system(const char *s, size_t len)
{
	if (len == 0) {
		return "empty system name";
	}
	if (len >= CST_ADDRESS_SYSTEM_MAX) {
		return "system name too long";
	}
	if (!is_alnum(s[0])) {
		return "system name must start with a letter or digit";
	}
	for (size_t i = 1; i < len; i++) {
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_') {
			return "bad character in system name";
		}
	}
	return NULL;
}

// An IPv6 literal is recognised by its ':'; we check its alphabet only,
// leaving the exact grammar to the resolver that will use it.
static bool
is_ipv6(const char *s, size_t len)
{
	return memchr(s, ':', len) != NULL;
}

static const char *
check_host(const char *s, size_t len)
{
	if (len == 0) {
		return "empty host";
	}
	if (len >= CST_ADDRESS_HOST_MAX) {
		return "host too long";
	}
	bool v6 = is_ipv6(s, len);
	for (size_t i = 0; i < len; i++) {
		char c  = s[i];
		bool ok = v6 ? is_hex(c) || c == ':' || c == '.'
		             : is_alnum(c) || c == '.' || c == '-' || c == '_';
		if (!ok) {
			return "bad character in host";
		}
	}
	return NULL;
}

int
cst_address_init(cst_address *out, const char *system, const char *host,
    uint16_t port, uint64_t uid, const char **why)
{
	const char *bad =
	    check_system(system, strnlen(system, CST_ADDRESS_SYSTEM_MAX));
	if (bad == NULL) {
		bad = check_host(host, strnlen(host, CST_ADDRESS_HOST_MAX));
	}
	if (bad == NULL && port == 0) {
		bad = "port 0";
	}
	if (bad != NULL) {
		if (why != NULL) {
			*why = bad;
		}
		return -EINVAL;
	}
	cst_address a;
	memset(&a, 0, sizeof(a)); // padding too: addresses get memcpy'd
	memcpy(a.system, system, strlen(system));
	memcpy(a.host, host, strlen(host));
	a.port = port;
	a.uid  = uid;
	*out   = a;
	return 0;
}

int
cst_address_compare(const cst_address *a, const cst_address *b)
{
	int c = strcmp(a->host, b->host);
	if (c != 0) {
		return c;
	}
	if (a->port != b->port) {
		return a->port < b->port ? -1 : 1;
	}
	c = strcmp(a->system, b->system);
	if (c != 0) {
		return c;
	}
	if (a->uid != b->uid) {
		return a->uid < b->uid ? -1 : 1;
	}
	return 0;
}

bool
cst_address_equal(const cst_address *a, const cst_address *b)
{
	return cst_address_compare(a, b) == 0;
}

bool
cst_address_same_endpoint(const cst_address *a, const cst_address *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0 &&
	       strcmp(a->system, b->system) == 0;
}

int
cst_address_format(const cst_address *a, char *buf, size_t cap)
{
	bool v6 = strchr(a->host, ':') != NULL;
	int  n  = snprintf(buf, cap, "%s%s@%s%s%s:%u#%llu", scheme, a->system,
            v6 ? "[" : "", a->host, v6 ? "]" : "", (unsigned)a->port,
	      (unsigned long long)a->uid);
	if (n < 0 || (size_t)n >= cap) {
		return -ENOSPC;
	}
	return n;
}

// Reads a decimal number without sign or leading zeros from s[*i..len)
// into *out, at most max. Returns false when there is none or it is too
// big.
static bool
read_decimal(const char *s, size_t len, size_t *i, uint64_t max, uint64_t *out)
{
	size_t   start = *i;
	uint64_t v     = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		uint64_t d = (uint64_t)(s[*i] - '0');
		if (v > (max - d) / 10) {
			return false;
		}
		v = v * 10 + d;
		(*i)++;
	}
	if (*i == start || (s[start] == '0' && *i - start > 1)) {
		return false;
	}
	*out = v;
	return true;
}

static int
fail(const char **why, const char *msg)
{
	if (why != NULL) {
		*why = msg;
	}
	return -EINVAL;
}

int
cst_address_parse(const char *text, size_t len, cst_address *out,
    size_t *path_off, const char **why)
{
	size_t slen = sizeof(scheme) - 1;
	if (len < slen || memcmp(text, scheme, slen) != 0) {
		return fail(why, "missing casty:// scheme");
	}
	size_t i = slen;

	size_t sys = i;
	while (i < len && text[i] != '@' && text[i] != '/') {
		i++;
	}
	if (i == len || text[i] != '@') {
		return fail(why, "missing '@' after the system name");
	}
	const char *bad = check_system(text + sys, i - sys);
	if (bad != NULL) {
		return fail(why, bad);
	}
	size_t sys_len = i - sys;
	i++; // '@'

	size_t host, host_len;
	if (i < len && text[i] == '[') {
		host = ++i;
		while (i < len && text[i] != ']') {
			i++;
		}
		if (i == len) {
			return fail(why, "unterminated '[' in host");
		}
		host_len = i - host;
		i++; // ']'
		if (host_len > 0 && !is_ipv6(text + host, host_len)) {
			return fail(
			    why, "brackets around a host that is not IPv6");
		}
	} else {
		host = i;
		while (i < len && text[i] != ':' && text[i] != '/' &&
		       text[i] != '#') {
			i++;
		}
		host_len = i - host;
	}
	if ((bad = check_host(text + host, host_len)) != NULL) {
		return fail(why, bad);
	}
	if (i == len || text[i] != ':') {
		return fail(why, "missing ':' and port after the host");
	}
	i++;
	uint64_t port;
	if (!read_decimal(text, len, &i, UINT16_MAX, &port) || port == 0) {
		return fail(why, "port is not a number in 1..65535");
	}
	uint64_t uid = 0;
	if (i < len && text[i] == '#') {
		i++;
		if (!read_decimal(text, len, &i, UINT64_MAX, &uid)) {
			return fail(why, "incarnation is not a 64-bit number");
		}
	}
	if (i < len && text[i] != '/') {
		return fail(why, "unexpected character after the address");
	}

	cst_address a;
	memset(&a, 0, sizeof(a));
	memcpy(a.system, text + sys, sys_len);
	memcpy(a.host, text + host, host_len);
	a.port = (uint16_t)port;
	a.uid  = uid;
	*out   = a;
	if (path_off != NULL) {
		*path_off = i;
	}
	return 0;
}

int
cst_address_search(const void *base, uint32_t n, size_t stride,
    const cst_address *key)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const cst_address *a = (const cst_address *)(const void *)(
		    (const char *)base + (size_t)mid * stride);
		int c = cst_address_compare(a, key);
		if (c == 0) {
			return (int)mid;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return -(int)lo - 1;
}
