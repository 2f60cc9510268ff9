// cluster/remote_codec.c: message frames and refs on the wire (see
// remote_codec.h). Decoding treats the bytes as hostile: the frame is
// checked whole (cst_msgpack_check) first, and a ref must name this node with
// a cell id this system issued, or another node by a well-formed address.
#include "cluster/remote_codec.h"

#include <errno.h>
#include <string.h>

#include <msgpuck.h>

#include "persistence/msgpack_check.h"

#include "cluster/node.h"
#include "cluster/node_directory.h"
#include "runtime/cell.h"
#include "runtime/msg.h"

// ["casty://...#uid", id, gen]
#define WIRE_REF_MAX (1 + 5 + CST_ADDRESS_TEXT_MAX + 9 + 5)

static char *
encode_ref(void *arg, casty_ref ref, char *w)
{
	casty_cluster *c = arg;
	const char    *text;
	uint64_t       id;

	if (ref.cell == NULL) {
		return mp_encode_nil(w);
	}
	if (ref.node != 0) {
		const cst_node_entry *e = cst_node_dir_get(ref.node);
		if (e == NULL) {
			return mp_encode_nil(w);
		}
		text = e->text;
		id = (uint64_t)(uintptr_t)ref.cell;
	} else if (ref.cell->sys == c->sys) {
		text = c->self_text;
		id = cst_cell_id(ref.cell);
	} else {
		// An actor of another system of this process: that system's
		// own cluster node (if any) is what could name it, not this one.
		return mp_encode_nil(w);
	}
	w = mp_encode_array(w, 3);
	w = mp_encode_str(w, text, (uint32_t)strlen(text));
	w = mp_encode_uint(w, id);
	return mp_encode_uint(w, ref.gen);
}

static int
decode_ref(void *arg, const char **r, casty_ref *out)
{
	casty_cluster *c = arg;

	if (mp_typeof(**r) == MP_NIL) {
		mp_decode_nil(r);
		*out = CASTY_REF_NONE;
		return 0;
	}
	if (mp_typeof(**r) != MP_ARRAY || mp_decode_array(r) != 3 ||
	    mp_typeof(**r) != MP_STR) {
		return -EINVAL;
	}
	uint32_t    len;
	const char *text = mp_decode_str(r, &len);
	if (mp_typeof(**r) != MP_UINT) {
		return -EINVAL;
	}
	uint64_t id = mp_decode_uint(r);
	if (mp_typeof(**r) != MP_UINT) {
		return -EINVAL;
	}
	uint64_t gen = mp_decode_uint(r);
	cst_address address;
	size_t      path_off;
	if (id == 0 || gen > UINT32_MAX ||
	    cst_address_parse(text, len, &address, &path_off, NULL) != 0 ||
	    path_off != len || address.uid == 0) {
		return -EINVAL;
	}
	if (cst_address_equal(&address, &c->self)) {
		casty_cell *cell = cst_cell_by_id(c->sys, id);
		if (cell == NULL) {
			return -EINVAL; // no cell of ours has that id
		}
		*out = (casty_ref){cell, (uint32_t)gen, 0};
		return 0;
	}
	uint32_t node = cst_node_dir_intern(c, &address);
	if (node == 0) {
		return -EINVAL;
	}
	// A remote ref keeps the remote cell's id where a local one keeps
	// the cell: never dereferenced, only handed back to its node.
	*out = (casty_ref){(struct casty_cell *)(uintptr_t)id, (uint32_t)gen,
		node};
	return 0;
}

cst_codec_refs
cst_wire_refs(casty_cluster *c)
{
	return (cst_codec_refs){WIRE_REF_MAX, encode_ref, decode_ref, c};
}

size_t
cst_wire_message_max(const casty_msg_type *type)
{
	cst_codec_refs refs = {WIRE_REF_MAX, NULL, NULL, NULL};
	return 1 + 9 + 9 + 5 + cst_codec_encoded_max(type, &refs);
}

size_t
cst_wire_message_encode(casty_cluster *c, uint64_t incarnation, uint64_t id,
	uint32_t gen, const casty_msg_type *type, const void *payload,
	char *buf)
{
	cst_codec_refs refs = cst_wire_refs(c);
	char          *w = buf;
	w = mp_encode_array(w, 4);
	w = mp_encode_uint(w, incarnation);
	w = mp_encode_uint(w, id);
	w = mp_encode_uint(w, gen);
	w += cst_codec_encode(type, payload, w, &refs);
	return (size_t)(w - buf);
}

int
cst_wire_message_parse(const void *body, size_t len, cst_wire_message *out)
{
	const char *r = body, *end = r + len;
	if (!cst_msgpack_check(body, len) ||
	    mp_typeof(*r) != MP_ARRAY || mp_decode_array(&r) != 4) {
		return -EINVAL;
	}
	uint64_t v[3];
	for (int i = 0; i < 3; i++) {
		if (mp_typeof(*r) != MP_UINT) {
			return -EINVAL;
		}
		v[i] = mp_decode_uint(&r);
	}
	if (v[2] > UINT32_MAX) {
		return -EINVAL;
	}
	out->incarnation = v[0];
	out->id = v[1];
	out->gen = (uint32_t)v[2];
	out->record = r;
	out->record_len = (size_t)(end - r);
	return cst_codec_type_name(r, out->record_len, &out->type_name,
		&out->type_name_len, &out->schema_hash);
}

int
cst_wire_identify_parse(const void *body, size_t len, cst_wire_identify *out)
{
	const char *r = body;
	if (!cst_msgpack_check(body, len) || mp_typeof(*r) != MP_ARRAY ||
	    mp_decode_array(&r) != 3 || mp_typeof(*r) != MP_UINT) {
		return -EINVAL;
	}
	out->request = mp_decode_uint(&r);
	if (mp_typeof(*r) != MP_STR) {
		return -EINVAL;
	}
	out->system = mp_decode_str(&r, &out->system_len);
	if (mp_typeof(*r) != MP_STR) {
		return -EINVAL;
	}
	out->path = mp_decode_str(&r, &out->path_len);
	return 0;
}

int
cst_wire_identify_reply_parse(const void *body, size_t len,
	uint64_t *request, uint64_t *id, uint64_t *gen)
{
	const char *r = body;
	uint64_t   *v[3] = {request, id, gen};
	if (!cst_msgpack_check(body, len) || mp_typeof(*r) != MP_ARRAY ||
	    mp_decode_array(&r) != 3) {
		return -EINVAL;
	}
	for (int i = 0; i < 3; i++) {
		if (mp_typeof(*r) != MP_UINT) {
			return -EINVAL;
		}
		*v[i] = mp_decode_uint(&r);
	}
	return 0;
}

size_t
cst_wire_watch_encode(const cst_wire_watch *w, bool with_path, char *buf)
{
	char *p = mp_encode_array(buf, with_path ? 6 : 5);
	p = mp_encode_uint(p, w->target_incarnation);
	p = mp_encode_uint(p, w->target_id);
	p = mp_encode_uint(p, w->target_gen);
	p = mp_encode_uint(p, w->watcher_id);
	p = mp_encode_uint(p, w->watcher_gen);
	if (with_path) {
		uint32_t n = w->path_len < CST_WIRE_PATH_MAX
			? w->path_len : CST_WIRE_PATH_MAX - 1;
		p = mp_encode_str(p, w->path, n);
	}
	return (size_t)(p - buf);
}

int
cst_wire_watch_parse(const void *body, size_t len, bool with_path,
	cst_wire_watch *out)
{
	const char *r = body;
	uint64_t    v[5];
	if (!cst_msgpack_check(body, len) || mp_typeof(*r) != MP_ARRAY ||
	    mp_decode_array(&r) != (with_path ? 6u : 5u)) {
		return -EINVAL;
	}
	for (int i = 0; i < 5; i++) {
		if (mp_typeof(*r) != MP_UINT) {
			return -EINVAL;
		}
		v[i] = mp_decode_uint(&r);
	}
	if (v[2] > UINT32_MAX || v[4] > UINT32_MAX) {
		return -EINVAL;
	}
	*out = (cst_wire_watch){.target_incarnation = v[0], .target_id = v[1],
		.target_gen = (uint32_t)v[2], .watcher_id = v[3],
		.watcher_gen = (uint32_t)v[4]};
	if (with_path) {
		if (mp_typeof(*r) != MP_STR) {
			return -EINVAL;
		}
		out->path = mp_decode_str(&r, &out->path_len);
		if (out->path_len >= CST_WIRE_PATH_MAX) {
			return -EINVAL;
		}
	}
	return 0;
}

bool
cst_wire_path_split(const char *path, size_t len, const char **root,
	size_t *root_len, const char **rest, size_t *rest_len)
{
	if (len < 2 || path[0] != '/' || path[len - 1] == '/' ||
	    memchr(path, '\0', len) != NULL || len >= CST_IDENTIFY_PATH_MAX ||
	    memmem(path, len, "//", 2) != NULL) {
		return false;
	}
	const char *slash = memchr(path + 1, '/', len - 1);
	*root = path + 1;
	*root_len = slash != NULL ? (size_t)(slash - path - 1) : len - 1;
	*rest = path + 1 + *root_len;
	*rest_len = len - 1 - *root_len;
	return true;
}
