// cluster/remote_codec.h: messages and refs as they travel between nodes.
//
// A message frame (CST_KIND_MESSAGE) is the MessagePack array
//   [target_incarnation, target_cell_id, target_gen, record]
// where record is the message as the schema codec writes it
// (persistence/codec.h: [1, "Type", schema_hash, {field: value}]), and
// each casty_ref field is nil (the empty ref) or
//   ["casty://system@host:port#incarnation", cell_id, gen]
// naming the node and the actor's cell and incarnation on it. The cell id
// is only ever handed back to the node that issued it, which checks it
// (runtime/cell.h: cst_cell_by_id) before it trusts it.
#ifndef CASTY_CLUSTER_REMOTE_CODEC_H
#define CASTY_CLUSTER_REMOTE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <casty/casty.h>

#include "persistence/codec.h"

/** cst_wire_refs is the ref codec of c's wire (for persistence/codec.h). */
cst_codec_refs cst_wire_refs(casty_cluster *c);

/**
 * cst_wire_message_max bounds the encoded size of a message of type.
 */
size_t cst_wire_message_max(const casty_msg_type *type);

/**
 * cst_wire_message_encode writes the message frame body for the remote
 * actor (incarnation, id, gen) into buf (cst_wire_message_max bytes) and
 * returns its length. Refs in payload are written as c names them.
 */
size_t cst_wire_message_encode(casty_cluster *c, uint64_t incarnation,
	uint64_t id, uint32_t gen, const casty_msg_type *type,
	const void *payload, char *buf);

/** cst_wire_message is a message frame, checked and split. */
typedef struct cst_wire_message {
	uint64_t    incarnation, id;
	uint32_t    gen;
	const char *record; // the schema codec's record, into the body
	size_t      record_len;
	const char *type_name; // into the body, not terminated
	uint32_t    type_name_len;
	uint32_t    schema_hash;
} cst_wire_message;

/**
 * cst_wire_message_parse checks a message frame body and splits it.
 * Returns 0, or -EINVAL for bytes that are no message frame (the record
 * itself is only checked to be MessagePack with a header; the schema
 * codec decodes it). Never reads past len.
 */
int cst_wire_message_parse(const void *body, size_t len,
	cst_wire_message *out);

/**
 * An identify request, [request, "system", "/path"], asks which actor
 * path names on the node; its reply, [request, cell id, gen], names it
 * (cell id 0: none). Strings point into the body and are not terminated.
 */
typedef struct cst_wire_identify {
	uint64_t    request;
	const char *system;
	uint32_t    system_len;
	const char *path;
	uint32_t    path_len;
} cst_wire_identify;

/** cst_wire_identify_parse checks and splits a request: 0 or -EINVAL. */
int cst_wire_identify_parse(const void *body, size_t len,
	cst_wire_identify *out);

/**
 * cst_wire_identify_reply_parse checks a reply and gives its three
 * numbers: 0 or -EINVAL.
 */
int cst_wire_identify_reply_parse(const void *body, size_t len,
	uint64_t *request, uint64_t *id, uint64_t *gen);

/**
 * A watch frame (CST_KIND_WATCH, CST_KIND_UNWATCH) is
 *   [target_incarnation, target_cell_id, target_gen, watcher_cell_id,
 *    watcher_gen]
 * from the watcher's node to the target's; a terminated frame
 * (CST_KIND_TERMINATED), back, adds the target's path as a sixth item
 * ("" when the target was gone before the watch). Each cell id is only
 * ever checked by the node that issued it.
 */
typedef struct cst_wire_watch {
	uint64_t    target_incarnation, target_id, watcher_id;
	uint32_t    target_gen, watcher_gen;
	const char *path; // terminated only; into the body, not terminated
	uint32_t    path_len;
} cst_wire_watch;

/** CST_WIRE_WATCH_MAX bounds an encoded watch or terminated frame. */
#define CST_WIRE_WATCH_MAX (1 + 3 * 9 + 2 * 5 + 9 + CST_WIRE_PATH_MAX)
#define CST_WIRE_PATH_MAX 112 // as casty_terminated.path holds it

/**
 * cst_wire_watch_encode writes w into buf (CST_WIRE_WATCH_MAX bytes),
 * with the path when with_path (truncated to CST_WIRE_PATH_MAX - 1), and
 * returns the length.
 */
size_t cst_wire_watch_encode(const cst_wire_watch *w, bool with_path,
	char *buf);

/**
 * cst_wire_watch_parse checks a watch frame body (with_path: a
 * terminated one) and splits it: 0, or -EINVAL. Never reads past len.
 */
int cst_wire_watch_parse(const void *body, size_t len, bool with_path,
	cst_wire_watch *out);

/**
 * cst_wire_path_split splits a path of actor names, "/root/child/...",
 * into the root's name and the rest ("" or "/child/..."), pointing into
 * path (len bytes, no terminator needed). False for anything else: no
 * leading '/', an empty name, a trailing '/', a NUL, too long.
 */
bool cst_wire_path_split(const char *path, size_t len, const char **root,
	size_t *root_len, const char **rest, size_t *rest_len);

#endif // CASTY_CLUSTER_REMOTE_CODEC_H
