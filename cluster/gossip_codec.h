// cluster/gossip_codec.h: the wire forms of membership in MessagePack: a
// gossip (a member table) and a join request (the joiner's roles). Both
// come from other processes, so the decoders trust nothing: every count
// is checked against its bound before anything is read, strings against
// their size, indices against the member count, orders must be strict
// (which rules out duplicates), unknown statuses and trailing bytes are
// rejected, and the result is in the canonical form the rest of cluster/
// relies on.
//
// Layout (format 1), all integers unsigned:
//
//   [ 1,                                       format version
//     [ [system, host, port, uid, status, up_number, reach_version,
//        [role, ...]], ... ],                  members, by address
//     [ [member, counter], ... ],              version, by member index
//     [ member, ... ],                         seen, increasing
//     [ [observer, subject], ... ] ]           unreachable rows, by pair
//
// Members are named once; everything else refers to them by index.
//
// A join request (format 1) is [1, [role, ...]]: the joiner names itself
// by its handshake (address and incarnation), so only its roles travel.
// Roles are canonical in both (sorted, distinct, each as runtime/roles.h
// allows), and the decoders refuse any other list.
#ifndef CASTY_CLUSTER_GOSSIP_CODEC_H
#define CASTY_CLUSTER_GOSSIP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/member_table.h"

/** CST_GOSSIP_FORMAT is the version written first in every gossip. */
#define CST_GOSSIP_FORMAT 1

/**
 * cst_gossip_encoded_size returns the exact size cst_gossip_encode needs
 * for t.
 */
size_t cst_gossip_encoded_size(const cst_member_table *t);

/**
 * cst_gossip_encode writes t into buf[0..cap) and returns the number of
 * bytes written, -ENOSPC when cap is too small, or -EINVAL when t is not
 * canonical (a version entry for a non-member, rows out of order).
 */
int64_t cst_gossip_encode(const cst_member_table *t, uint8_t *buf, size_t cap);

/**
 * cst_gossip_decode reads exactly len bytes of buf into *out. Returns 0,
 * or -EINVAL with *why set to a static message and *out left empty. why
 * may be NULL.
 */
int cst_gossip_decode(const uint8_t *buf, size_t len, cst_member_table *out,
    const char **why);

/** CST_JOIN_FORMAT is the version written first in every join request. */
#define CST_JOIN_FORMAT 1
/**
 * CST_JOIN_MAX bounds the size of a join request: two one-byte array
 * heads, the format, and each role a one-byte string head and its bytes.
 */
#define CST_JOIN_MAX (3 + CST_ROLES_MAX * CST_ROLE_MAX)

/**
 * cst_join_encode writes the join request for roles into buf[0..cap) and
 * returns its size, -ENOSPC when cap is too small, or -EINVAL when roles
 * are not canonical (as cst_roles_set makes them).
 */
int64_t cst_join_encode(const cst_roles *roles, uint8_t *buf, size_t cap);

/**
 * cst_join_decode reads exactly len bytes of buf as a join request into
 * *out. Returns 0, or -EINVAL with *why set to a static message and *out
 * empty. why may be NULL.
 */
int cst_join_decode(
    const uint8_t *buf, size_t len, cst_roles *out, const char **why);

#endif // CASTY_CLUSTER_GOSSIP_CODEC_H
