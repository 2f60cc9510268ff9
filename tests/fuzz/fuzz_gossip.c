// tests/fuzz/fuzz_gossip.c: libFuzzer target for the membership decoders
// (cluster/gossip_codec.c: gossip and join requests), the first code to
// read what another node sent: on any input they never read out of
// bounds, whatever they accept survives a re-encoding unchanged, and an
// accepted gossip is safe to feed to the rest of cluster/ (merge,
// convergence, leader, events). Every input goes through both decoders.
// Built and run by tools/fuzz.sh.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/gossip_codec.h"

static cst_member_table  decoded, merged, redecoded;
static cst_member_events events;
static uint8_t           again[1 << 17];

// A join request accepted is canonical: it re-encodes to a request that
// decodes to the same roles, and the member table takes them.
static void
check_join(const uint8_t *data, size_t size)
{
	cst_roles   roles, back;
	const char *why = NULL;
	if (cst_join_decode(data, size, &roles, &why) != 0) {
		if (why == NULL || roles.n != 0) {
			abort();
		}
		return;
	}
	uint8_t buf[CST_JOIN_MAX];
	int64_t n = cst_join_encode(&roles, buf, sizeof buf);
	if (n < 0 || (size_t)n > size ||
	    cst_join_decode(buf, (size_t)n, &back, NULL) != 0 ||
	    memcmp(&roles, &back, sizeof roles) != 0) {
		abort();
	}
	const char *names[CST_ROLES_MAX];
	for (uint32_t i = 0; i < roles.n; i++) {
		names[i] = roles.name[i];
	}
	if (cst_roles_set(&back, names, roles.n) != 0 ||
	    memcmp(&roles, &back, sizeof roles) != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_join(data, size);
	const char *why = NULL;
	if (cst_gossip_decode(data, size, &decoded, &why) != 0) {
		if (why == NULL || decoded.nmembers != 0) {
			abort(); // a failure must say why and leave no state
		}
		return 0;
	}
	// Accepted means canonical: the encoder takes it, and the round
	// trip changes nothing. (The bytes may differ: MessagePack allows
	// wider integer forms than msgpuck writes.)
	int64_t n = cst_gossip_encode(&decoded, again, sizeof(again));
	if (n < 0 || (size_t)n > size ||
	    cst_gossip_decode(again, (size_t)n, &redecoded, NULL) != 0 ||
	    !cst_member_table_equal(&decoded, &redecoded)) {
		abort();
	}
	// The rest of cluster/ must cope with anything the decoder lets in.
	if (cst_member_table_merge(&decoded, &decoded, &merged) != 0 ||
	    !cst_member_table_equal(&merged, &decoded)) {
		abort(); // merge is idempotent
	}
	(void)cst_member_table_leader(&decoded, NULL);
	for (uint32_t i = 0; i < decoded.nmembers; i++) {
		(void)cst_member_table_converged(
		    &decoded, &decoded.member[i].address);
	}
	cst_member_table_init(&merged);
	cst_member_events_diff(&merged, &decoded, NULL, &events);
	if (decoded.nmembers > 0) {
		cst_member_table_leader_actions(
		    &decoded, &decoded.member[0].address);
	}
	return 0;
}
