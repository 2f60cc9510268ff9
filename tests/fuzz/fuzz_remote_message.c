// tests/fuzz/fuzz_remote_message.c: libFuzzer target for what a node
// reads from another node's message and identify frames
// (cluster/remote_codec.c and the schema codec it drives,
// persistence/codec.c): on any input nothing reads out of bounds, and a
// message that decodes survives a re-encoding unchanged. Refs are decoded
// against a real (idle) system, so a ref naming this node is checked
// against its cells. Every input also goes through the identify request
// and reply parsers and, when it parses, its path through the splitter
// (the strings are not terminated: reading past them is the bug to find).
// Built and run by tools/fuzz.sh.
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <casty/casty.h>

#include "cluster/node.h"
#include "cluster/remote_codec.h"
#include "runtime/type_registry.h"

typedef struct {
	int8_t    i8;
	int64_t   i64;
	uint16_t  u16;
	uint64_t  u64;
	float     f32;
	double    f64;
	bool      flag;
	char      text[24];
	casty_ref ref;
} Every;
CASTY_MESSAGE(Every, i8, i64, u16, u64, f32, f64, flag, text, ref);

static casty_system *sys;
static casty_cluster node; // only what the codec reads: sys and self

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	casty_log_set_level(CASTY_LOG_OFF);
	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		abort();
	}
	node.sys = sys;
	cst_address_init(&node.self, "fuzz", "127.0.0.1", 2552, 7, NULL);
	cst_address_format(&node.self, node.self_text, sizeof node.self_text);
	casty_register(Every);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static alignas(8) unsigned char payload[4096], again[4096];
	static char                     wire[8192];
	cst_wire_message                m;
	bool                            other;

	cst_wire_identify q;
	uint64_t          v[3];
	if (cst_wire_identify_parse(data, size, &q) == 0) {
		const char *root, *rest;
		size_t      root_len, rest_len;
		if (cst_wire_path_split(q.path, q.path_len, &root, &root_len,
			    &rest, &rest_len) &&
		    (root_len == 0 || root_len + rest_len + 1 != q.path_len)) {
			abort(); // the parts must add up to the path
		}
	}
	(void)cst_wire_identify_reply_parse(data, size, &v[0], &v[1], &v[2]);
	if (cst_wire_message_parse(data, size, &m) != 0) {
		return 0;
	}
	const casty_msg_type *t = cst_type_find(
		m.type_name, m.type_name_len, m.schema_hash, &other);
	if (t == NULL || t->size > sizeof payload) {
		return 0;
	}
	cst_codec_refs refs = cst_wire_refs(&node);
	if (cst_codec_decode(t, m.record, m.record_len, payload, &refs) != 0) {
		return 0;
	}
	if (cst_wire_message_max(t) > sizeof wire) {
		abort();
	}
	size_t n = cst_wire_message_encode(
		&node, m.incarnation, m.id, m.gen, t, payload, wire);
	cst_wire_message m2;
	if (n > cst_wire_message_max(t) ||
	    cst_wire_message_parse(wire, n, &m2) != 0 ||
	    m2.incarnation != m.incarnation || m2.id != m.id ||
	    m2.gen != m.gen ||
	    cst_codec_decode(t, m2.record, m2.record_len, again, &refs) != 0 ||
	    memcmp(payload, again, t->size) != 0) {
		abort();
	}
	return 0;
}
