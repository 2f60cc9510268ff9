// runtime/actor.c: the actor's message loop and lifecycle.
//
// Lifecycle of a cell: DEAD --start--> ALIVE --stop--> STOPPING --last
// child stopped--> DEAD. Stopping sends a stop to every child and waits
// for each to report back (cst_sys_child_stopped), so children always
// stop before their parent; then the watchers get casty_terminated, the
// generation grows (every ref to this incarnation is now stale) and the
// parent is told. The parent unlinks the child and releases its cell: it
// alone owns the sibling links and the name, so a cell is never reused
// while a parent can still read it.
//
// System messages (start, stop, watch, unwatch, child stopped) share the
// mailbox with user messages, so a stop arrives behind what was sent
// before it (like Akka's PoisonPill); returning casty_stopped() stops at
// once and later messages become dead letters.
#include "runtime/actor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/actor_timers.h"
#include "runtime/alloc.h"
#include "runtime/behavior.h"
#include "runtime/msg.h"
#include "runtime/sched.h"
#include "runtime/system.h"

#define NAME_MAX_LEN 255

static void begin_stop(casty_cell *cell);
static void dispatch(casty_cell *cell, casty_msg *msg);

void
cst_cell_free_name(casty_cell *cell)
{
	if (cell->name != NULL) {
		cst_free_sized(cell->name, strlen(cell->name) + 1);
		cell->name = NULL;
	}
}

void
cst_actor_stop(casty_ref ref)
{
	cst_send_sys(ref, &cst_sys_stop__type, NULL);
}

// Death watch bookkeeping: small arrays of refs in the cold part.

static cst_cell_cold *
cold_of(casty_cell *cell)
{
	if (cell->cold == NULL) {
		cell->cold = cst_calloc(sizeof(cst_cell_cold));
		if (cell->cold == NULL) {
			cst_oom("death watch");
		}
	}
	return cell->cold;
}

static bool
refs_add(casty_ref **refs, uint32_t *n, uint32_t *cap, casty_ref ref)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (casty_ref_eq((*refs)[i], ref)) {
			return false;
		}
	}
	if (*n == *cap) {
		uint32_t   ncap = *cap ? *cap * 2 : 4;
		casty_ref *grown = cst_alloc(ncap * sizeof(casty_ref));
		if (grown == NULL) {
			cst_oom("death watch");
		}
		if (*n != 0) {
			memcpy(grown, *refs, *n * sizeof(casty_ref));
		}
		cst_free_sized(*refs, *cap * sizeof(casty_ref));
		*refs = grown;
		*cap = ncap;
	}
	(*refs)[(*n)++] = ref;
	return true;
}

static bool
refs_remove(casty_ref *refs, uint32_t *n, casty_ref ref)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (casty_ref_eq(refs[i], ref)) {
			refs[i] = refs[--*n];
			return true;
		}
	}
	return false;
}

static void
cold_free(casty_cell *cell)
{
	cst_cell_cold *c = cell->cold;
	if (c == NULL) {
		return;
	}
	cst_free_sized(c->watchers, c->capwatchers * sizeof(casty_ref));
	cst_free_sized(c->watching, c->capwatching * sizeof(casty_ref));
	cst_names_fini(&c->children);
	cst_free_sized(c, sizeof(*c));
	cell->cold = NULL;
}

// Children: a list owned by the parent.

static casty_cell *
find_child(casty_cell *parent, const char *name)
{
	return parent->cold != NULL
		? cst_names_find(&parent->cold->children, name)
		: NULL;
}

static void
link_child(casty_cell *parent, casty_cell *child)
{
	child->prev_sibling = NULL;
	child->next_sibling = parent->first_child;
	if (parent->first_child != NULL) {
		parent->first_child->prev_sibling = child;
	}
	parent->first_child = child;
	parent->nchildren++;
	if (child->name != NULL) {
		cst_names_insert(&cold_of(parent)->children, child);
	}
}

static void
unlink_child(casty_cell *parent, casty_cell *child)
{
	if (child->prev_sibling != NULL) {
		child->prev_sibling->next_sibling = child->next_sibling;
	} else {
		parent->first_child = child->next_sibling;
	}
	if (child->next_sibling != NULL) {
		child->next_sibling->prev_sibling = child->prev_sibling;
	}
	child->next_sibling = child->prev_sibling = NULL;
	parent->nchildren--;
	if (child->name != NULL && parent->cold != NULL) {
		cst_names_remove(&parent->cold->children, child);
	}
}

// Stopping.

static void
finish_stop(casty_cell *cell)
{
	casty_system *sys = cell->sys;
	casty_ref     me = cst_cell_ref(cell);

	cst_behavior_free(&cell->behavior);
	cell->status = CST_DEAD;
	// Relaxed: a statistic.
	atomic_fetch_sub_explicit(&sys->live, 1, memory_order_relaxed);
	// Release: pairs with the acquire load in cst_deliver; a producer
	// that sees the new generation dead-letters instead of pushing. It
	// grows before anyone hears of the stop, so whoever got
	// casty_terminated finds every later tell a dead letter at once.
	atomic_fetch_add_explicit(&cell->gen, 1, memory_order_release);
	if (cell->cold != NULL) {
		cst_cell_cold   *c = cell->cold;
		casty_terminated t = {.ref = me};
		casty_ctx_path(cell, t.path, sizeof t.path);
		for (uint32_t i = 0; i < c->nwatchers; i++) {
			casty_send_copy(c->watchers[i], casty_terminated, &t);
		}
		cold_free(cell);
	}
	if (cell->parent != NULL) {
		cst_sys_child_stopped m = {cell};
		cst_send_sys(cst_cell_ref(cell->parent),
			&cst_sys_child_stopped__type, &m);
	} else {
		cst_system_root_stopped(sys, cell);
	}
}

static void
begin_stop(casty_cell *cell)
{
	casty_ref me = cst_cell_ref(cell);

	cell->status = CST_STOPPING;
	cst_actor_timers_cancel_all(cell);
	// Stop watching: no casty_terminated reaches a stopping actor, and
	// the watched actors forget us.
	if (cell->cold != NULL) {
		cst_cell_cold *c = cell->cold;
		for (uint32_t i = 0; i < c->nwatching; i++) {
			cst_sys_watch m = {me};
			cst_send_sys(c->watching[i], &cst_sys_unwatch__type, &m);
		}
		c->nwatching = 0;
	}
	for (casty_cell *c = cell->first_child; c; c = c->next_sibling) {
		cst_actor_stop(cst_cell_ref(c));
	}
	if (cell->nchildren == 0) {
		finish_stop(cell);
	}
}

static void
child_stopped(casty_cell *cell, casty_cell *child)
{
	unlink_child(cell, child);
	cst_cell_free_name(child);
	cst_cell_release(child);
	if (cell->status == CST_STOPPING && cell->nchildren == 0) {
		finish_stop(cell);
	}
}

// Behaviors.

static void
report_bad_behavior(casty_cell *cell, const char *when)
{
	char path[512];
	casty_ctx_path(cell, path, sizeof path);
	fprintf(stderr, "casty: %s returned no usable behavior %s; stopping\n",
		path, when);
}

static void
unhandled(casty_cell *cell)
{
	// Relaxed: a statistic.
	atomic_fetch_add_explicit(
		&cell->sys->unhandled, 1, memory_order_relaxed);
}

// Installs b as the actor's behavior, running setup factories first.
static void
become(casty_cell *cell, casty_behavior b, const char *when)
{
	while (b.kind == CST_BEH_SETUP) {
		casty_behavior next = ((casty_setup_fn)b.fn)(
			cell, cst_behavior_state(&b));
		cst_behavior_free(&b);
		b = next;
		if (cell->status != CST_ALIVE) { // it stopped itself
			cst_behavior_free(&b);
			return;
		}
	}
	switch (b.kind) {
	case CST_BEH_RECEIVE:
		cst_behavior_free(&cell->behavior);
		cell->behavior = b;
		return;
	case CST_BEH_STOPPED:
		begin_stop(cell);
		return;
	default:
		report_bad_behavior(cell, when);
		begin_stop(cell);
	}
}

static void
apply(casty_cell *cell, casty_behavior next)
{
	switch (next.kind) {
	case CST_BEH_SAME:
		return;
	case CST_BEH_RECEIVE:
		cst_behavior_free(&cell->behavior);
		cell->behavior = next;
		return;
	case CST_BEH_STOPPED:
		begin_stop(cell);
		return;
	case CST_BEH_UNHANDLED:
		unhandled(cell);
		return;
	case CST_BEH_SETUP:
		become(cell, next, "from a handler's setup");
		return;
	default:
		report_bad_behavior(cell, "from a handler");
		begin_stop(cell);
	}
}

// Finds msg's tag in the actor's protocol: trusted when the sender's tag
// names the same type, else searched by type.
static bool
resolve_tag(casty_cell *cell, casty_msg *msg)
{
	const casty_protocol *p = cell->proto;

	if (msg->tag < p->ntypes && p->types[msg->tag] == msg->type) {
		return true;
	}
	// By descriptor first (the common case: one program, one copy of
	// each), then by name (two copies of a descriptor, see casty_msg_is).
	for (uint32_t i = 0; i < p->ntypes; i++) {
		if (p->types[i] == msg->type) {
			msg->tag = (uint16_t)i;
			return true;
		}
	}
	for (uint32_t i = 0; i < p->ntypes; i++) {
		if (casty_msg_is(msg, p->types[i])) {
			msg->tag = (uint16_t)i;
			return true;
		}
	}
	return false;
}

static void
handle_system(casty_cell *cell, casty_msg *msg)
{
	const casty_msg_type *t = msg->type;

	if (msg->target_gen !=
	    atomic_load_explicit(&cell->gen, memory_order_relaxed)) {
		cst_dead_letter(cell, msg); // for an earlier incarnation
		return;
	}
	if (t == &cst_sys_start__type) {
		casty_behavior initial = cell->behavior;
		cell->behavior = (casty_behavior){.kind = CST_BEH_NONE};
		cell->status = CST_ALIVE;
		// Relaxed: a statistic.
		atomic_fetch_add_explicit(
			&cell->sys->live, 1, memory_order_relaxed);
		become(cell, initial, "from setup");
	} else if (t == &cst_sys_stop__type) {
		if (cell->status == CST_ALIVE) {
			begin_stop(cell);
		}
	} else if (t == &cst_sys_watch__type) {
		const cst_sys_watch *m = (const void *)msg->payload;
		if (cell->status == CST_DEAD) {
			cst_dead_letter(cell, msg);
		} else {
			cst_cell_cold *c = cold_of(cell);
			refs_add(&c->watchers, &c->nwatchers, &c->capwatchers,
				m->watcher);
		}
	} else if (t == &cst_sys_unwatch__type) {
		const cst_sys_watch *m = (const void *)msg->payload;
		// A dead cell's cold part may be the next spawner's to write.
		if (cell->status != CST_DEAD && cell->cold != NULL) {
			refs_remove(cell->cold->watchers, &cell->cold->nwatchers,
				m->watcher);
		}
	} else if (t == &cst_sys_child_stopped__type) {
		const cst_sys_child_stopped *m = (const void *)msg->payload;
		child_stopped(cell, m->child);
	} else if (t == &cst_sys_timer__type) {
		casty_msg *fired = cst_actor_timer_fired(cell, msg);
		if (fired != NULL) {
			dispatch(cell, fired);
			cst_msg_free(fired);
		}
	}
}

static void
dispatch(casty_cell *cell, casty_msg *msg)
{
	if (msg->type->flags & CASTY_MSG_SYSTEM) {
		handle_system(cell, msg);
		return;
	}
	// Relaxed: we run the cell, so we wrote or synchronised with gen.
	if (cell->status != CST_ALIVE ||
	    msg->target_gen !=
		    atomic_load_explicit(&cell->gen, memory_order_relaxed)) {
		cst_dead_letter(cell, msg);
		return;
	}
	if (msg->type == &casty_terminated__type) {
		// Only for refs still watched: unwatch is final.
		const casty_terminated *t = (const void *)msg->payload;
		if (cell->cold == NULL ||
		    !refs_remove(cell->cold->watching, &cell->cold->nwatching,
			    t->ref)) {
			return;
		}
	}
	if (!resolve_tag(cell, msg)) {
		unhandled(cell);
		return;
	}
	casty_behavior *b = &cell->behavior;
	apply(cell, ((casty_receive_fn)b->fn)(cell, cst_behavior_state(b), msg));
}

enum cst_run_result
cst_actor_run(cst_worker *w, casty_cell *cell)
{
	unsigned budget = w->sched->throughput;

	for (unsigned n = 0; n < budget; n++) {
		cst_mbox_node *released;
		cst_mbox_node *node = cst_mbox_pop(&cell->mbox, &released);
		if (released != NULL) {
			cst_msg_free((casty_msg *)released);
		}
		if (node == NULL) {
			return CST_RUN_EMPTY;
		}
		// What the handler sends is batched in the outbox and pushed
		// when it returns (see outbox.c).
		w->outbox.armed = true;
		dispatch(cell, (casty_msg *)node);
		cst_outbox_end(&w->outbox);
	}
	return CST_RUN_AGAIN;
}

// Spawning.

static bool
valid_name(const char *name)
{
	size_t n = strnlen(name, NAME_MAX_LEN + 1);
	return n > 0 && n <= NAME_MAX_LEN && strchr(name, '/') == NULL;
}

static uint64_t
next_uid(casty_system *sys)
{
	cst_worker *w = cst_tls_worker;
	if (w != NULL && w->sched == &sys->sched) {
		return w->next_uid++;
	}
	// Relaxed: only uniqueness matters.
	return atomic_fetch_add_explicit(&sys->next_uid, 1,
		memory_order_relaxed);
}

// Fills the fields a new incarnation starts with. A run of the same cell
// may still be draining stale messages on another worker; such a run
// reads none of these fields (it looks only at status and gen, and at the
// payloads of the messages), and the start message that follows
// publishes them to the run that handles it.
// Pushes the start message straight into the new cell's mailbox, never
// through the outbox: it must be there before the ref escapes, so that it
// precedes every message sent to the new actor and every stop.
static void
send_start(casty_cell *cell)
{
	casty_ref  ref = cst_cell_ref(cell);
	casty_msg *msg = cst_msg_new(
		&cst_sys_start__type, CASTY_TAG_UNKNOWN, NULL, ref.gen);
	if (cst_mbox_push(&cell->mbox, &msg->link)) {
		cst_schedule(cell);
	}
}

static casty_cell *
new_cell(casty_system *sys, casty_cell *parent, const casty_protocol *proto,
	char *name, casty_behavior behavior)
{
	casty_cell *cell = cst_cell_alloc(sys, CST_CELL_ACTOR);
	// A new generation: the one the last stop left is never a live
	// incarnation, so a ref read from a stopped cell before its parent
	// released it (casty_ctx_child) stays dead. Release: pairs with the
	// acquire load in cst_deliver, like the increment at stop.
	atomic_fetch_add_explicit(&cell->gen, 1, memory_order_release);
	cell->behavior = behavior;
	cell->parent = parent;
	cell->first_child = NULL;
	cell->next_sibling = cell->prev_sibling = NULL;
	cell->nchildren = 0;
	cell->name = name;
	cell->uid = next_uid(sys);
	cell->proto = proto;
	cell->cold = NULL;
	return cell;
}

int
casty_spawn_untyped(casty_system *sys, casty_ctx *parent,
	const casty_protocol *proto, casty_behavior behavior,
	const char *name, casty_ref *out)
{
	int         rc = CASTY_OK;
	char       *copy = NULL;
	casty_cell *cell = NULL;

	if (sys == NULL || proto == NULL || proto->ntypes == 0 ||
	    out == NULL || (parent != NULL && parent->sys != sys) ||
	    (behavior.kind != CST_BEH_RECEIVE &&
		    behavior.kind != CST_BEH_SETUP) ||
	    (name != NULL && !valid_name(name))) {
		rc = -EINVAL;
	} else if (name != NULL && (copy = cst_strdup(name)) == NULL) {
		rc = -ENOMEM;
	} else if (parent != NULL) {
		if (parent->status != CST_ALIVE) {
			rc = CASTY_ESTOPPED;
		} else if (name != NULL && find_child(parent, name) != NULL) {
			rc = -EEXIST;
		} else {
			cell = new_cell(sys, parent, proto, copy, behavior);
			link_child(parent, cell);
			send_start(cell);
		}
	} else {
		pthread_mutex_lock(&sys->lock);
		if (atomic_load_explicit(&sys->state, memory_order_relaxed) !=
		    CST_SYS_RUNNING) {
			rc = CASTY_ESTOPPED;
		} else if (name != NULL && cst_system_find_root(sys, name)) {
			rc = -EEXIST;
		} else {
			cell = new_cell(sys, NULL, proto, copy, behavior);
			cst_system_link_root(sys, cell);
			// Under the lock: a casty_system_stop that sees this root
			// queues its stop behind the start.
			send_start(cell);
		}
		pthread_mutex_unlock(&sys->lock);
	}
	if (rc != CASTY_OK) {
		if (copy != NULL) {
			cst_free_sized(copy, strlen(copy) + 1);
		}
		cst_behavior_free(&behavior);
		return rc;
	}
	*out = cst_cell_ref(cell);
	return CASTY_OK;
}

// The context API.

casty_ref
casty_self(casty_ctx *ctx)
{
	return cst_cell_ref(ctx);
}

casty_system *
casty_ctx_system(casty_ctx *ctx)
{
	return ctx->sys;
}

casty_ref
casty_ctx_parent(casty_ctx *ctx)
{
	return ctx->parent != NULL ? cst_cell_ref(ctx->parent)
				   : CASTY_REF_NONE;
}

static size_t
copy_out(char *buf, size_t size, const char *s, size_t n)
{
	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return n;
}

static size_t
format_name(casty_cell *cell, char *buf, size_t size)
{
	if (cell->name != NULL) {
		return copy_out(buf, size, cell->name, strlen(cell->name));
	}
	char tmp[32];
	int  n = snprintf(tmp, sizeof tmp, "$%llx",
		 (unsigned long long)cell->uid);
	return copy_out(buf, size, tmp, (size_t)n);
}

size_t
casty_ctx_name(casty_ctx *ctx, char *buf, size_t size)
{
	return format_name(ctx, buf, size);
}

size_t
casty_ctx_path(casty_ctx *ctx, char *buf, size_t size)
{
	// Ancestors outlive their children, so the chain is stable here.
	char   path[4096];
	size_t len = 0;
	char   seg[NAME_MAX_LEN + 2];

	path[0] = '\0';
	for (casty_cell *c = ctx; c != NULL; c = c->parent) {
		size_t n = format_name(c, seg + 1, sizeof seg - 1);
		if (n > NAME_MAX_LEN) {
			n = NAME_MAX_LEN;
		}
		seg[0] = '/';
		if (len + n + 1 >= sizeof path) {
			break;
		}
		memmove(path + n + 1, path, len + 1);
		memcpy(path, seg, n + 1);
		len += n + 1;
	}
	return copy_out(buf, size, path, len);
}

int
casty_ctx_child(casty_ctx *ctx, const char *name, casty_ref *out)
{
	if (name == NULL || out == NULL) {
		return -EINVAL;
	}
	// A child that is stopping is still found (like Akka's child(name));
	// what is sent to it then becomes a dead letter.
	casty_cell *c = find_child(ctx, name);
	if (c == NULL) {
		return -ENOENT;
	}
	*out = cst_cell_ref(c);
	return CASTY_OK;
}

int
casty_ctx_stop(casty_ctx *ctx, casty_ref ref)
{
	if (ref.cell == ctx) {
		if (ref.gen == atomic_load_explicit(
				       &ctx->gen, memory_order_relaxed)) {
			cst_actor_stop(ref);
		}
		return CASTY_OK;
	}
	for (casty_cell *c = ctx->first_child; c; c = c->next_sibling) {
		if (c == ref.cell) {
			cst_actor_stop(ref); // a stale gen makes it a no-op
			return CASTY_OK;
		}
	}
	return -EINVAL;
}

int
casty_ctx_watch(casty_ctx *ctx, casty_ref ref)
{
	if (ref.cell == NULL || ref.node != 0) {
		return CASTY_ENOREF;
	}
	if (ref.cell == ctx) {
		return CASTY_OK; // we cannot see our own termination
	}
	cst_cell_cold *c = cold_of(ctx);
	if (refs_add(&c->watching, &c->nwatching, &c->capwatching, ref)) {
		cst_sys_watch m = {cst_cell_ref(ctx)};
		cst_send_sys(ref, &cst_sys_watch__type, &m);
	}
	return CASTY_OK;
}

int
casty_ctx_unwatch(casty_ctx *ctx, casty_ref ref)
{
	if (ref.cell == NULL || ref.node != 0) {
		return CASTY_ENOREF;
	}
	if (ctx->cold != NULL &&
	    refs_remove(ctx->cold->watching, &ctx->cold->nwatching, ref)) {
		cst_sys_watch m = {cst_cell_ref(ctx)};
		cst_send_sys(ref, &cst_sys_unwatch__type, &m);
	}
	return CASTY_OK;
}
