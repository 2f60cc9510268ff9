// cluster/node_watch.c: death watch across nodes, run by the node's
// actor (see node_watch.h). Everything here but the post and the frame
// check runs in that actor's handler, so the two watch sets need no
// lock; frames go out on the transport as the membership's do.
#include "cluster/node_watch.h"

#include <stdio.h>
#include <string.h>

#include "cluster/node_directory.h"
#include "cluster/remote_codec.h"
#include "runtime/cell.h"
#include "runtime/msg.h"

const casty_msg_type cst_node_watch__type = {"cst_node_watch",
	sizeof(cst_node_watch), alignof(cst_node_watch), 0, CST_MSG_INTERNAL,
	NULL};

int
cst_node_watch_post(casty_cluster *c, casty_ref watcher, casty_ref watched,
	bool on)
{
	if (watcher.node != 0 || watcher.cell->sys != c->sys) {
		return CASTY_ENOREF; // another system's cluster would carry it
	}
	cst_node_watch m = {watcher, watched, on};
	pthread_mutex_lock(&c->lock);
	casty_ref actor = c->actor; // set under the lock by start
	pthread_mutex_unlock(&c->lock);
	cst_deliver(actor.cell,
		cst_msg_new(&cst_node_watch__type, CASTY_TAG_UNKNOWN, &m,
			actor.gen));
	return CASTY_OK;
}

bool
cst_node_watch_is_kind(uint8_t kind)
{
	return kind == CST_KIND_WATCH || kind == CST_KIND_UNWATCH ||
	       kind == CST_KIND_TERMINATED;
}

const char *
cst_node_watch_check_frame(uint8_t kind, const uint8_t *body, size_t len)
{
	cst_wire_watch w;
	return cst_wire_watch_parse(body, len, kind == CST_KIND_TERMINATED,
		       &w) == 0
		? NULL
		: "bad death watch frame";
}

// ---- The watcher's node ----

static void
deliver_terminated(casty_ref watcher, casty_ref watched, const char *path,
	size_t path_len)
{
	casty_terminated t = {.ref = watched};
	if (path_len >= sizeof t.path) {
		path_len = sizeof t.path - 1;
	}
	memcpy(t.path, path, path_len);
	casty_send_copy(watcher, casty_terminated, &t);
}

// Whether that run of a node is in the cluster now: known to the
// membership and neither down nor removed.
static bool
is_member(casty_cluster *c, const cst_address *a)
{
	const cst_member_table *t = cst_membership_table(c->membership);
	int                     i = cst_member_table_find(t, a);
	return i >= 0 && t->member[i].status != CST_MEMBER_DOWN &&
	       t->member[i].status != CST_MEMBER_REMOVED;
}

static void
send_watch(casty_cluster *c, const cst_address *to, uint8_t kind,
	const cst_wire_watch *w)
{
	char   body[CST_WIRE_WATCH_MAX];
	size_t n = cst_wire_watch_encode(w, kind == CST_KIND_TERMINATED, body);
	int    rc = cst_transport_send(c->transport, to->host, to->port, kind,
		   body, n);
	if (rc != 0 && rc != CASTY_ESTOPPED) {
		casty_log_warn(NULL, "cluster: death watch frame to %s:%u "
				     "failed: %d",
			to->host, to->port, rc);
	}
}

void
cst_node_watch_request(casty_cluster *c, const cst_node_watch *m)
{
	const cst_node_entry *e = cst_node_dir_get(m->watched.node);
	if (e == NULL) {
		return; // no ref names such a node
	}
	cst_wire_watch w = {
		.target_incarnation = e->address.uid,
		.target_id = (uint64_t)(uintptr_t)m->watched.cell,
		.target_gen = m->watched.gen,
		.watcher_id = cst_cell_id(m->watcher.cell),
		.watcher_gen = m->watcher.gen,
	};
	if (!m->on) {
		if (cst_watch_set_remove(&c->watching, m->watcher, m->watched)) {
			send_watch(c, &e->address, CST_KIND_UNWATCH, &w);
		}
		return;
	}
	// A node outside the cluster never answers for its actors, and its
	// removal, which would end the watch, has happened or never will.
	if (!is_member(c, &e->address)) {
		deliver_terminated(m->watcher, m->watched, "", 0);
		return;
	}
	int rc = cst_watch_set_add(&c->watching, &e->address, m->watcher,
		m->watched);
	if (rc == 1) {
		send_watch(c, &e->address, CST_KIND_WATCH, &w);
	} else if (rc < 0) {
		// The watch cannot be kept: end it as Akka ends one it loses.
		casty_log_error(NULL, "cluster: out of memory for a death watch");
		deliver_terminated(m->watcher, m->watched, "", 0);
	}
}

static void
on_terminated(casty_cluster *c, const cst_address *from,
	const cst_wire_watch *w)
{
	casty_cell *cell = cst_cell_by_id(c->sys, w->watcher_id);
	uint32_t    node = cst_node_dir_find(c, from);
	if (cell == NULL || node == 0) {
		return; // for no watch of ours
	}
	casty_ref watcher = {cell, w->watcher_gen, 0};
	casty_ref watched = {(struct casty_cell *)(uintptr_t)w->target_id,
		w->target_gen, node};
	if (cst_watch_set_remove(&c->watching, watcher, watched)) {
		deliver_terminated(watcher, watched, w->path, w->path_len);
	}
}

static void
node_terminated(void *arg, const cst_watch_pair *p)
{
	(void)arg;
	deliver_terminated(p->local, p->remote, "", 0);
}

// ---- The watched actor's node ----

static void
on_watch(casty_cluster *c, const cst_address *from, const cst_wire_watch *w)
{
	casty_cell *cell = w->target_incarnation == c->self.uid
		? cst_cell_by_id(c->sys, w->target_id)
		: NULL;
	uint32_t node = cst_node_dir_intern(c, from);
	if (cell == NULL || node == 0) {
		// No such actor here (or no room to name the watcher's node):
		// terminated already, as a local watch of a stopped actor is.
		cst_wire_watch t = *w;
		t.path = "";
		t.path_len = 0;
		send_watch(c, from, CST_KIND_TERMINATED, &t);
		return;
	}
	casty_ref target = {cell, w->target_gen, 0};
	casty_ref watcher = {(struct casty_cell *)(uintptr_t)w->watcher_id,
		w->watcher_gen, node};
	bool first = !cst_watch_set_has_local(&c->watched, target);
	int  rc = cst_watch_set_add(&c->watched, from, target, watcher);
	if (rc == 1 && first) {
		// A stopped target answers with casty_terminated at once.
		casty_ctx_watch(c->ctx, target);
	} else if (rc < 0) {
		casty_log_error(NULL, "cluster: out of memory for a death watch");
	}
}

// Stops watching target when no remote watcher is left for it.
static void
release_target(casty_cluster *c, casty_ref target)
{
	if (!cst_watch_set_has_local(&c->watched, target)) {
		casty_ctx_unwatch(c->ctx, target);
	}
}

static void
on_unwatch(casty_cluster *c, const cst_address *from, const cst_wire_watch *w)
{
	casty_cell *cell = w->target_incarnation == c->self.uid
		? cst_cell_by_id(c->sys, w->target_id)
		: NULL;
	uint32_t node = cst_node_dir_find(c, from);
	if (cell == NULL || node == 0) {
		return;
	}
	casty_ref target = {cell, w->target_gen, 0};
	casty_ref watcher = {(struct casty_cell *)(uintptr_t)w->watcher_id,
		w->watcher_gen, node};
	if (cst_watch_set_remove(&c->watched, target, watcher)) {
		release_target(c, target);
	}
}

// The terminated frame for one remote watcher of a stopped target.
typedef struct stopped {
	casty_cluster          *c;
	const casty_terminated *t;
} stopped;

static void
tell_watcher(void *arg, const cst_watch_pair *p)
{
	const stopped *s = arg;
	cst_wire_watch w = {
		.target_incarnation = s->c->self.uid,
		.target_id = cst_cell_id(p->local.cell),
		.target_gen = p->local.gen,
		.watcher_id = (uint64_t)(uintptr_t)p->remote.cell,
		.watcher_gen = p->remote.gen,
		.path = s->t->path,
		.path_len = (uint32_t)strnlen(s->t->path, sizeof s->t->path),
	};
	send_watch(s->c, &p->node, CST_KIND_TERMINATED, &w);
}

void
cst_node_watch_terminated(casty_cluster *c, const casty_terminated *t)
{
	stopped s = {c, t};
	cst_watch_set_take_local(&c->watched, t->ref, tell_watcher, &s);
}

static void
watcher_gone(void *arg, const cst_watch_pair *p)
{
	release_target(arg, p->local);
}

// ---- Both ----

void
cst_node_watch_frame(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, uint8_t kind, const uint8_t *body, size_t len)
{
	cst_wire_watch w;
	if (cst_wire_watch_parse(body, len, kind == CST_KIND_TERMINATED,
		    &w) != 0) {
		return; // checked on arrival: cannot happen
	}
	// Every member runs a system of this cluster's name.
	cst_address from = c->self;
	snprintf(from.host, sizeof from.host, "%s", peer->host);
	from.port = peer->port;
	from.uid = incarnation;
	switch (kind) {
	case CST_KIND_WATCH:
		on_watch(c, &from, &w);
		break;
	case CST_KIND_UNWATCH:
		on_unwatch(c, &from, &w);
		break;
	case CST_KIND_TERMINATED:
		on_terminated(c, &from, &w);
		break;
	}
}

void
cst_node_watch_member_gone(casty_cluster *c, const cst_address *a)
{
	cst_watch_set_take_node(&c->watching, a, node_terminated, NULL);
	cst_watch_set_take_node(&c->watched, a, watcher_gone, c);
}

void
cst_node_watch_fini(casty_cluster *c)
{
	cst_watch_set_fini(&c->watching);
	cst_watch_set_fini(&c->watched);
}
