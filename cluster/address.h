// cluster/address.h: the unique address of a cluster member. A member is
// host, port and actor-system name plus an incarnation id that a process
// draws anew at every start, so a process restarted on the same host:port
// is a different member (Akka's host:port:uid; Erlang's "creation").
// Addresses are plain values: compare, copy and format them freely.
#ifndef CASTY_CLUSTER_ADDRESS_H
#define CASTY_CLUSTER_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** CST_ADDRESS_SYSTEM_MAX bounds a system name, NUL included. */
#define CST_ADDRESS_SYSTEM_MAX 64
/** CST_ADDRESS_HOST_MAX bounds a host, NUL included (CASTY_HOST_MAX). */
#define CST_ADDRESS_HOST_MAX 256
/**
 * CST_ADDRESS_TEXT_MAX is enough for any formatted address, NUL included:
 * "casty://" system "@[" host "]:" port "#" uid.
 */
#define CST_ADDRESS_TEXT_MAX                                                   \
	(8 + CST_ADDRESS_SYSTEM_MAX + 2 + CST_ADDRESS_HOST_MAX + 2 + 5 + 1 +   \
	    20 + 1)

/**
 * cst_address is one member: strings are NUL-terminated and hold only the
 * characters cst_address_init accepts; uid 0 means "not known" (a ref
 * parsed from text without '#').
 */
typedef struct cst_address {
	char     system[CST_ADDRESS_SYSTEM_MAX];
	char     host[CST_ADDRESS_HOST_MAX];
	uint16_t port;
	uint64_t uid;
} cst_address;

/**
 * cst_address_init fills *out after checking every part: system is
 * [A-Za-z0-9][A-Za-z0-9_-]*, host a DNS name or IPv4 ([A-Za-z0-9.-_]) or
 * an IPv6 literal without brackets (hex digits, ':' and '.'), port 1..65535.
 * Returns 0, or -EINVAL with *why set to a static message; *out is
 * untouched on failure. why may be NULL.
 */
int cst_address_init(cst_address *out, const char *system, const char *host,
    uint16_t port, uint64_t uid, const char **why);

/**
 * cst_address_compare orders addresses totally: by host (bytes), then
 * port, then system, then uid. The leader is the first member in this
 * order, so every node must use exactly this function. Returns <0, 0, >0.
 */
int cst_address_compare(const cst_address *a, const cst_address *b);

/** cst_address_equal says whether a and b are the same member. */
bool cst_address_equal(const cst_address *a, const cst_address *b);

/**
 * cst_address_same_endpoint says whether a and b listen at the same
 * system@host:port, whatever their incarnations: a newer uid there
 * replaces the older member.
 */
bool cst_address_same_endpoint(const cst_address *a, const cst_address *b);

/**
 * cst_address_format writes "casty://system@host:port#uid" (an IPv6 host
 * in brackets) into buf and returns its length, or -ENOSPC when cap is too
 * small (buf then holds a truncated, terminated string if cap > 0).
 * CST_ADDRESS_TEXT_MAX bytes are always enough.
 */
int cst_address_format(const cst_address *a, char *buf, size_t cap);

/**
 * cst_address_parse reads the address part of a ref,
 * "casty://system@host:port[#uid][/path]", from text[0..len) (no NUL
 * needed). On success *out holds the address (uid 0 without '#') and
 * *path_off the offset of the '/' that starts the path, or len when there
 * is none. Returns 0, or -EINVAL with *why saying what is wrong; *out and
 * *path_off are untouched on failure. why and path_off may be NULL.
 */
int cst_address_parse(const char *text, size_t len, cst_address *out,
    size_t *path_off, const char **why);

/**
 * cst_address_search finds key in n addresses sorted by
 * cst_address_compare, the first at base and each stride bytes after the
 * one before (an address field of an array of structs). Returns its
 * index, or -(the index where it would go) - 1.
 */
int cst_address_search(const void *base, uint32_t n, size_t stride,
    const cst_address *key);

#endif // CASTY_CLUSTER_ADDRESS_H
