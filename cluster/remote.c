// cluster/remote.c: remote tell, the delivery of message frames, and
// lookups by path (see remote.h).
#include "cluster/remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpuck.h>

#include "cluster/node_directory.h"
#include "cluster/node_watch.h"
#include "cluster/remote_codec.h"
#include "runtime/actor.h"
#include "runtime/alloc.h"
#include "runtime/cell.h"
#include "runtime/events.h"
#include "runtime/msg.h"
#include "runtime/remote.h"
#include "runtime/sched.h"
#include "runtime/system.h"
#include "runtime/type_registry.h"

// Most messages are encoded on the stack; larger ones on the heap.
#define STACK_ENCODE 1024
#define IDENTIFY_MAX (1 + 9 + 5 + CST_ADDRESS_SYSTEM_MAX + 5 + 4096)

// A lookup under way, in c->lookups (under c->lock).
enum cst_lookup_kind {
	CST_LOOKUP_AWAIT_FRAME, // casty_cluster_lookup, of another node
	CST_LOOKUP_AWAIT_ACTOR, // casty_cluster_lookup, of this node
	CST_LOOKUP_SERVE,       // another node's identify request (heap)
};

struct cst_lookup {
	cst_lookup          *next;
	enum cst_lookup_kind kind;
	uint64_t             token; // our request number
	cst_address          want;  // AWAIT_FRAME: the node; uid 0: any run
	int                  rc;    // AWAIT_*: 1 while waiting
	casty_ref            ref;
	cst_peer_addr        peer;    // SERVE: who asked,
	uint64_t             request; // and its request number
};

// ---- Sending ----

// A message for an actor of a node that is no member of the cluster.
static void
dead_letter_here(casty_cluster *c, casty_ref to, const casty_msg_type *type,
	const void *payload)
{
	char text[192];
	casty_msg_format(type, payload, text, sizeof text);
	cst_dead_letter_undecoded(c->sys, to, CASTY_DEAD_NOT_MEMBER, type->name,
		text);
}

// Whether e's node is a member of c's cluster now. The flag caches a
// yes from the snapshot; cst_remote_member_gone clears it under the same
// lock, so no yes read before a down is stored after it.
static bool
is_member(casty_cluster *c, cst_node_entry *e)
{
	if (atomic_load_explicit(&e->gone, memory_order_relaxed)) {
		return false;
	}
	if (atomic_load_explicit(&e->member, memory_order_relaxed)) {
		return true;
	}
	pthread_mutex_lock(&c->lock);
	bool member = cst_node_has_member_locked(c, &e->address);
	if (member) {
		atomic_store_explicit(&e->member, true, memory_order_relaxed);
	}
	pthread_mutex_unlock(&c->lock);
	return member;
}

void
cst_remote_member_gone(casty_cluster *c, const cst_address *a)
{
	pthread_mutex_lock(&c->lock);
	uint32_t index = cst_node_dir_find(c, a);
	if (index != 0) {
		atomic_store_explicit(&cst_node_dir_get(index)->member, false,
			memory_order_relaxed);
	}
	pthread_mutex_unlock(&c->lock);
}

static int
remote_tell(casty_ref to, const casty_msg_type *type, const void *payload)
{
	cst_node_entry *e = cst_node_dir_get(to.node);
	if (e == NULL || to.cell == NULL) {
		return CASTY_ENOREF;
	}
	casty_cluster *c = cst_node_dir_enter(e);
	if (c == NULL) {
		return CASTY_ESTOPPED; // the cluster node that knew it stopped
	}
	if (!is_member(c, e)) {
		dead_letter_here(c, to, type, payload);
		cst_node_dir_leave(e);
		return CASTY_OK; // as a tell to a stopped actor
	}
	size_t max = cst_wire_message_max(type);
	char   stack[STACK_ENCODE];
	char  *buf = max <= sizeof stack ? stack : cst_alloc(max);
	int    rc = -ENOMEM;
	if (buf != NULL) {
		size_t n = cst_wire_message_encode(c, e->address.uid,
			(uint64_t)(uintptr_t)to.cell, to.gen, type, payload, buf);
		rc = cst_transport_send_bounded(c->transport, e->address.host,
			e->address.port, CST_KIND_MESSAGE, buf, n);
		if (buf != stack) {
			cst_free_sized(buf, max);
		}
	}
	cst_node_dir_leave(e);
	return rc;
}

static void
remote_spawned(casty_system *sys, const casty_protocol *proto)
{
	(void)sys;
	cst_type_register_protocol(proto);
}

static int
remote_watch(casty_ref watcher, casty_ref watched, bool on)
{
	cst_node_entry *e = cst_node_dir_get(watched.node);
	if (e == NULL || watched.cell == NULL || watcher.cell == NULL) {
		return CASTY_ENOREF;
	}
	casty_cluster *c = cst_node_dir_enter(e);
	if (c == NULL) {
		return CASTY_ESTOPPED; // the cluster node that knew it stopped
	}
	int rc = cst_node_watch_post(c, watcher, watched, on);
	cst_node_dir_leave(e);
	return rc;
}

static int
remote_check(casty_ref to)
{
	cst_node_entry *e = cst_node_dir_get(to.node);
	if (e == NULL || to.cell == NULL) {
		return CASTY_ENOREF;
	}
	casty_cluster *c = cst_node_dir_enter(e);
	if (c == NULL) {
		return CASTY_ESTOPPED;
	}
	int rc = is_member(c, e) ? CASTY_OK : CASTY_ENOTMEMBER;
	cst_node_dir_leave(e);
	return rc;
}

static const cst_remote_ops ops = {
	remote_tell, remote_spawned, remote_watch, remote_check};

int
casty_register_type(const casty_msg_type *type)
{
	if (type == NULL || type->name == NULL ||
	    (type->flags & CASTY_MSG_SYSTEM)) {
		return -EINVAL;
	}
	return cst_type_register(type);
}

// ---- Receiving messages ----

static void
undeliverable(casty_cluster *c, casty_ref recipient, int reason,
	const char *type_name, size_t type_len, const char *why)
{
	char name[64];
	snprintf(name, sizeof name, "%.*s", (int)(type_len < 63 ? type_len : 63),
		type_name);
	cst_dead_letter_undecoded(c->sys, recipient, reason, name, why);
}

// m's record decoded as t into a new message, or NULL when its fields
// do not fit the type.
static casty_msg *
decode(casty_cluster *c, const casty_msg_type *t, const cst_wire_message *m)
{
	casty_msg     *msg = cst_msg_new(t, CASTY_TAG_UNKNOWN, NULL, m->gen);
	cst_codec_refs refs = cst_wire_refs(c);
	if (cst_codec_decode(t, m->record, m->record_len, msg->payload,
		    &refs) != 0) {
		cst_msg_free(msg);
		return NULL;
	}
	return msg;
}

static void
on_message(casty_cluster *c, const uint8_t *body, size_t len)
{
	cst_wire_message m;
	if (cst_wire_message_parse(body, len, &m) != 0) {
		undeliverable(c, CASTY_REF_NONE, CASTY_DEAD_INVALID, "?", 1,
			"not a message frame");
		return;
	}
	casty_cell *cell = m.incarnation == c->self.uid
		? cst_cell_by_id(c->sys, m.id) : NULL;
	if (cell == NULL) {
		undeliverable(c, CASTY_REF_NONE, CASTY_DEAD_STOPPED, m.type_name,
			m.type_name_len,
			m.incarnation == c->self.uid
				? "no actor of this node has that id"
				: "for an earlier run of this node");
		return;
	}
	casty_ref             to = {cell, m.gen, 0};
	bool                  other;
	const casty_msg_type *t = cst_type_find(
		m.type_name, m.type_name_len, m.schema_hash, &other);
	if (t == NULL) {
		undeliverable(c, to, CASTY_DEAD_UNKNOWN_TYPE, m.type_name,
			m.type_name_len,
			other ? "another version of the type is known here"
			      : "no actor of this node speaks the type");
		return;
	}
	casty_msg *msg = decode(c, t, &m);
	if (msg == NULL) {
		undeliverable(c, to, CASTY_DEAD_INVALID, m.type_name,
			m.type_name_len, "the fields do not fit the type");
		return;
	}
	cst_deliver(cell, msg);
}

// ---- Messages the transport did not keep ----

void
cst_remote_dropped(casty_cluster *c, const cst_peer_addr *peer,
	const uint8_t *body, size_t len)
{
	// This node encoded the frame, so it parses; the recipient is the
	// ref it was sent through: that node's entry, the cell id and gen.
	cst_wire_message m;
	if (cst_wire_message_parse(body, len, &m) != 0) {
		return;
	}
	// Every member runs a system of this cluster's name.
	cst_address node = c->self;
	snprintf(node.host, sizeof node.host, "%s", peer->host);
	node.port = peer->port;
	node.uid = m.incarnation;
	uint32_t  index = cst_node_dir_find(c, &node);
	casty_ref to = index != 0
		? (casty_ref){(casty_cell *)(uintptr_t)m.id, m.gen, index}
		: CASTY_REF_NONE;
	// Printed as a local dead letter is, when someone listens and this
	// process knows the type: the bytes it encoded decode again.
	char                  text[192] = "";
	bool                  other;
	const casty_msg_type *t = cst_type_find(
		m.type_name, m.type_name_len, m.schema_hash, &other);
	casty_msg *msg = t != NULL && cst_events_wanted(&c->sys->events,
						      CST_EV_DEAD_LETTER)
		? decode(c, t, &m)
		: NULL;
	if (msg != NULL) {
		casty_msg_format(t, msg->payload, text, sizeof text);
		cst_msg_free(msg);
	}
	undeliverable(c, to, CASTY_DEAD_DROP_NEW, m.type_name,
		m.type_name_len, text);
}

// ---- Lookups ----
//
// A path names a root actor and then named children, one per segment.
// The root is found under the system's lock; each child only by its
// parent (cst_identify in runtime/: one hop per actor, on the worker that
// owns the children), whose answer comes to this node's actor as a
// cst_identified and is matched here by its request number.

// A root actor of c's system by name, as a ref; NONE when there is none.
static casty_ref
find_root(casty_cluster *c, const char *name, size_t len)
{
	char key[CST_ACTOR_NAME_MAX + 1];
	if (len == 0 || len > CST_ACTOR_NAME_MAX) {
		return CASTY_REF_NONE;
	}
	memcpy(key, name, len);
	key[len] = '\0';
	casty_system *sys = c->sys;
	pthread_mutex_lock(&sys->lock);
	casty_cell *cell = cst_system_find_root(sys, key);
	// Acquire: a root found under the lock has started its incarnation
	// (its gen was set before it was linked).
	casty_ref ref = cell != NULL
		? (casty_ref){cell, atomic_load_explicit(&cell->gen,
					    memory_order_acquire), 0}
		: CASTY_REF_NONE;
	pthread_mutex_unlock(&sys->lock);
	return ref;
}

static uint64_t
next_request(casty_cluster *c)
{
	// Relaxed: only distinct numbers matter.
	return atomic_fetch_add_explicit(&c->next_lookup, 1,
		       memory_order_relaxed) + 1;
}

// Adds l to c's lookups; false once c is stopping.
static bool
add_lookup(casty_cluster *c, cst_lookup *l)
{
	pthread_mutex_lock(&c->lock);
	bool ok = !c->stopping;
	if (ok) {
		l->next = c->lookups;
		c->lookups = l;
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

// Called with c->lock held.
static void
unlink_lookup(casty_cluster *c, cst_lookup *l)
{
	for (cst_lookup **p = &c->lookups; *p != NULL; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			return;
		}
	}
}

static void
send_identify_reply(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t request, casty_ref ref)
{
	char  reply[1 + 9 + 9 + 5];
	char *w = mp_encode_array(reply, 3);
	w = mp_encode_uint(w, request);
	w = mp_encode_uint(w, ref.cell != NULL ? cst_cell_id(ref.cell) : 0);
	w = mp_encode_uint(w, ref.gen);
	cst_transport_send(c->transport, peer->host, peer->port,
		CST_KIND_IDENTIFY_REPLY, reply, (size_t)(w - reply));
}

// Starts resolving path on this node for l (an AWAIT_ACTOR or SERVE
// lookup, not yet added): at once when it names a root or nothing, else
// through cst_identify. Returns true when the answer is in l->ref now.
static bool
resolve_local(casty_cluster *c, cst_lookup *l, const char *path, size_t len)
{
	const char *root, *rest;
	size_t      root_len, rest_len;
	l->ref = CASTY_REF_NONE;
	if (!cst_wire_path_split(path, len, &root, &root_len, &rest, &rest_len)) {
		return true;
	}
	casty_ref r = find_root(c, root, root_len);
	if (r.cell == NULL || rest_len == 0) {
		l->ref = r;
		return true;
	}
	l->token = next_request(c);
	if (!add_lookup(c, l)) {
		return true;
	}
	cst_identify(r, rest, rest_len, c->actor, l->token);
	return false;
}

static void
on_identify(casty_cluster *c, const cst_peer_addr *peer, const uint8_t *body,
	size_t len)
{
	cst_wire_identify q;
	if (cst_wire_identify_parse(body, len, &q) != 0) {
		return; // not an identify request: nothing to answer
	}
	if (q.system_len != strlen(c->self.system) ||
	    memcmp(q.system, c->self.system, q.system_len) != 0) {
		send_identify_reply(c, peer, q.request, CASTY_REF_NONE);
		return;
	}
	cst_lookup *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return; // the asker times out
	}
	l->kind = CST_LOOKUP_SERVE;
	l->peer = *peer;
	l->request = q.request;
	if (resolve_local(c, l, q.path, q.path_len)) {
		send_identify_reply(c, peer, q.request, l->ref);
		free(l);
	}
}

void
cst_remote_identified(casty_cluster *c, const cst_identified *a)
{
	pthread_mutex_lock(&c->lock);
	cst_lookup *l = c->lookups;
	while (l != NULL && !(l->kind != CST_LOOKUP_AWAIT_FRAME &&
				   l->token == a->request)) {
		l = l->next;
	}
	if (l == NULL) {
		pthread_mutex_unlock(&c->lock); // given up on, or stopped
		return;
	}
	if (l->kind == CST_LOOKUP_SERVE) {
		unlink_lookup(c, l);
		pthread_mutex_unlock(&c->lock);
		send_identify_reply(c, &l->peer, l->request, a->ref);
		free(l);
		return;
	}
	l->ref = a->ref;
	l->rc = a->ref.cell != NULL ? 0 : -ENOENT;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void
on_identify_reply(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, const uint8_t *body, size_t len)
{
	uint64_t v[3];
	if (cst_wire_identify_reply_parse(body, len, &v[0], &v[1], &v[2]) != 0) {
		return;
	}
	pthread_mutex_lock(&c->lock);
	cst_lookup *l = c->lookups;
	while (l != NULL && !(l->kind == CST_LOOKUP_AWAIT_FRAME &&
				   l->token == v[0])) {
		l = l->next;
	}
	// Only the node asked may answer, and only once.
	if (l != NULL && l->rc == 1 && l->want.port == peer->port &&
	    strcmp(l->want.host, peer->host) == 0) {
		if (v[1] == 0 || v[2] > UINT32_MAX ||
		    (l->want.uid != 0 && l->want.uid != incarnation)) {
			l->rc = -ENOENT;
		} else {
			l->want.uid = incarnation;
			l->rc = 0;
			l->ref = (casty_ref){(struct casty_cell *)(uintptr_t)v[1],
				(uint32_t)v[2], 0};
		}
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

// Waits until l (added) is answered or the deadline passes, and removes
// it. Returns its rc.
static int
await_lookup(casty_cluster *c, cst_lookup *l, int64_t timeout_ms)
{
	struct timespec deadline;
	cst_node_deadline_after(&deadline, (uint64_t)timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (l->rc == 1) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) ==
			    ETIMEDOUT &&
		    l->rc == 1) {
			l->rc = -ETIMEDOUT;
		}
	}
	unlink_lookup(c, l);
	pthread_mutex_unlock(&c->lock);
	return l->rc;
}

// Asks the node want which actor path names.
static int
identify_remote(casty_cluster *c, const cst_address *want, const char *path,
	size_t plen, int64_t timeout_ms, casty_ref *out)
{
	cst_lookup l = {.kind = CST_LOOKUP_AWAIT_FRAME, .want = *want, .rc = 1};
	l.token = next_request(c);
	char  body[IDENTIFY_MAX];
	char *w = mp_encode_array(body, 3);
	w = mp_encode_uint(w, l.token);
	w = mp_encode_str(w, want->system, (uint32_t)strlen(want->system));
	w = mp_encode_str(w, path, (uint32_t)plen);
	if (!add_lookup(c, &l)) {
		return CASTY_ESTOPPED;
	}
	int rc = cst_transport_send(c->transport, want->host, want->port,
		CST_KIND_IDENTIFY, body, (size_t)(w - body));
	if (rc != 0) {
		pthread_mutex_lock(&c->lock);
		l.rc = rc;
		pthread_mutex_unlock(&c->lock);
	}
	rc = await_lookup(c, &l, timeout_ms);
	if (rc != 0) {
		return rc;
	}
	uint32_t node = cst_node_dir_intern(c, &l.want);
	if (node == 0) {
		return -ENOMEM;
	}
	l.ref.node = node;
	*out = l.ref;
	return CASTY_OK;
}

int
casty_cluster_lookup(casty_cluster *c, const char *uri, int64_t timeout_ms,
	casty_ref *out)
{
	cst_address  want;
	size_t       path_off, len;
	const char  *root, *rest;
	size_t       root_len, rest_len;
	if (c == NULL || uri == NULL || out == NULL || timeout_ms < 0) {
		return -EINVAL;
	}
	if (cst_tls_worker != NULL) {
		return -EDEADLK; // the answer may need this very worker
	}
	len = strlen(uri);
	if (cst_address_parse(uri, len, &want, &path_off, NULL) != 0 ||
	    !cst_wire_path_split(uri + path_off, len - path_off, &root, &root_len,
		    &rest, &rest_len)) {
		return -EINVAL;
	}
	if (!cst_address_same_endpoint(&want, &c->self)) {
		// Only members answer: anything else would cost the whole
		// timeout to say nothing.
		pthread_mutex_lock(&c->lock);
		bool member = cst_node_has_member_locked(c, &want);
		pthread_mutex_unlock(&c->lock);
		if (!member) {
			return CASTY_ENOTMEMBER;
		}
		return identify_remote(c, &want, uri + path_off,
			len - path_off, timeout_ms, out);
	}
	if (want.uid != 0 && want.uid != c->self.uid) {
		return CASTY_ENOTMEMBER; // an earlier run of this node
	}
	cst_lookup l = {.kind = CST_LOOKUP_AWAIT_ACTOR, .rc = 1};
	if (!resolve_local(c, &l, uri + path_off, len - path_off)) {
		int rc = await_lookup(c, &l, timeout_ms);
		if (rc != 0) {
			return rc;
		}
	}
	if (l.ref.cell == NULL) {
		return -ENOENT;
	}
	*out = l.ref;
	return CASTY_OK;
}

bool
cst_remote_is_kind(uint8_t kind)
{
	return kind == CST_KIND_MESSAGE || kind == CST_KIND_IDENTIFY ||
	       kind == CST_KIND_IDENTIFY_REPLY;
}

void
cst_remote_frame(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, uint8_t kind, const uint8_t *body, size_t len)
{
	switch (kind) {
	case CST_KIND_MESSAGE:
		on_message(c, body, len);
		break;
	case CST_KIND_IDENTIFY:
		on_identify(c, peer, body, len);
		break;
	case CST_KIND_IDENTIFY_REPLY:
		on_identify_reply(c, peer, incarnation, body, len);
		break;
	}
}

// ---- Start and stop ----

void
cst_remote_start(casty_cluster *c)
{
	cst_address_format(&c->self, c->self_text, sizeof c->self_text);
	cst_remote_install(&ops);
}

void
cst_remote_stop(casty_cluster *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	for (cst_lookup **p = &c->lookups; *p != NULL;) {
		cst_lookup *l = *p;
		if (l->kind == CST_LOOKUP_SERVE) {
			*p = l->next; // the asker times out
			free(l);
			continue;
		}
		if (l->rc == 1) {
			l->rc = CASTY_ESTOPPED;
		}
		p = &l->next;
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	cst_node_dir_detach(c);
}
