// runtime/actor.c: the actor's message loop and lifecycle.
//
// Lifecycle of a cell: DEAD --start--> ALIVE --stop--> STOPPING --last
// child stopped--> DEAD. Stopping sends a stop to every child and waits
// for each to report back (cst_sys_child_stopped), so children always
// stop before their parent; then post_stop runs, the watchers get
// casty_terminated, the generation grows (every ref to this incarnation
// is now stale) and the parent is told. The parent unlinks the child and
// releases its cell: it alone owns the sibling links and the name, so a
// cell is never reused while a parent can still read it.
//
// A failure (a handler, a setup or a pre_start/post_restart hook that
// returns a failed behavior or code) goes to the actor's strategy
// (supervision.c). A restart is ALIVE --> RESTARTING: pre_restart, the
// children stop (as for a stop), then the spawn behavior runs again
// (setup, pre_start), post_restart, back to ALIVE. User messages that
// arrive meanwhile are stashed and handled after it, in order. A
// restart whose initialisation fails again is decided on the next
// dispatch (a cst_sys_failed to itself, status FAILED), so a strategy
// that keeps restarting a setup that keeps failing never recurses and
// never holds its worker.
//
// System messages (start, stop, watch, unwatch, child stopped, failures)
// share the mailbox with user messages, so a stop arrives behind what was
// sent before it (like Akka's PoisonPill); returning casty_stopped()
// stops at once and later messages become dead letters.
#include "runtime/actor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/actor_timers.h"
#include "runtime/alloc.h"
#include "runtime/behavior.h"
#include "runtime/events.h"
#include "runtime/msg.h"
#include "runtime/park.h"
#include "runtime/remote.h"
#include "runtime/sched.h"
#include "runtime/supervision.h"
#include "runtime/system.h"
#include "runtime/type_registry.h"

static void begin_stop(casty_cell *cell);
static void free_initial(casty_cell *cell);
static void fail(casty_cell *cell, const cst_failure *f);
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

// The cold part: death watch, named children, supervision, hooks.

static cst_cell_cold *
cold_of(casty_cell *cell)
{
	if (cell->cold == NULL) {
		cell->cold = cst_calloc(sizeof(cst_cell_cold));
		if (cell->cold == NULL) {
			cst_oom("actor state");
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

static casty_msg *
stash_take(cst_cell_cold *c)
{
	casty_msg *m = c->stash_head;
	if (m != NULL) {
		// Relaxed: the stash is the owner's alone.
		c->stash_head = (casty_msg *)atomic_load_explicit(
			&m->link.next, memory_order_relaxed);
		if (c->stash_head == NULL) {
			c->stash_tail = NULL;
		}
	}
	return m;
}

static void
ext_release(casty_cell *cell, bool restarting)
{
	cst_cell_cold *c = cell->cold;
	if (c != NULL && c->ext_fini != NULL) {
		void (*fini)(casty_cell *, void *, bool) = c->ext_fini;
		void *ext = c->ext;
		c->ext = NULL;
		c->ext_fini = NULL;
		fini(cell, ext, restarting);
	}
}

void
cst_actor_stash_front(casty_cell *cell, casty_msg *first, casty_msg *last)
{
	cst_cell_cold *c = cold_of(cell);
	// Relaxed: the stash is the owner's alone.
	atomic_store_explicit(&last->link.next,
		c->stash_head != NULL ? &c->stash_head->link : NULL,
		memory_order_relaxed);
	if (c->stash_head == NULL) {
		c->stash_tail = last;
	}
	c->stash_head = first;
}

void
cst_actor_set_ext(casty_cell *cell, void *ext,
	void (*fini)(casty_cell *cell, void *ext, bool restarting))
{
	ext_release(cell, false);
	cst_cell_cold *c = cold_of(cell);
	c->ext = ext;
	c->ext_fini = fini;
}

void *
cst_actor_ext(casty_cell *cell)
{
	return cell->cold != NULL ? cell->cold->ext : NULL;
}

static void
cold_free(casty_cell *cell)
{
	ext_release(cell, false);
	cst_cell_cold *c = cell->cold;
	if (c == NULL) {
		return;
	}
	casty_msg *m;
	while ((m = stash_take(c)) != NULL) { // stashed by a restart, unseen
		cst_dead_letter(cell, m, CASTY_DEAD_STOPPED);
		cst_msg_free(m);
	}
	cst_supervision_fini(c);
	cst_free_sized(c->restart_cause, sizeof(cst_failure));
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

static void
stop_children(casty_cell *cell)
{
	for (casty_cell *c = cell->first_child; c; c = c->next_sibling) {
		cst_actor_stop(cst_cell_ref(c));
	}
}

// Events.

static void
publish_lifecycle(casty_cell *cell, enum cst_event_kind kind)
{
	casty_system *sys = cell->sys;
	if (!cst_events_wanted(&sys->events, kind)) {
		return;
	}
	// Started and stopped have the same layout.
	casty_actor_started ev = {.ref = cst_cell_ref(cell)};
	casty_ctx_path(cell, ev.path, sizeof ev.path);
	cst_events_publish(&sys->events, kind, &ev);
}

static void
publish_restarted(casty_cell *cell, const cst_failure *cause)
{
	casty_system *sys = cell->sys;
	if (!cst_events_wanted(&sys->events, CST_EV_ACTOR_RESTARTED)) {
		return;
	}
	casty_actor_restarted ev = {
		.ref = cst_cell_ref(cell), .code = cause->code};
	casty_ctx_path(cell, ev.path, sizeof ev.path);
	size_t n = strnlen(cause->reason, sizeof ev.reason - 1);
	memcpy(ev.reason, cause->reason, n); // truncated on purpose
	ev.reason[n] = '\0';
	cst_events_publish(&sys->events, CST_EV_ACTOR_RESTARTED, &ev);
}

void
cst_actor_unhandled(casty_cell *cell, const casty_msg *msg)
{
	casty_system *sys = cell->sys;
	// Relaxed: a statistic.
	atomic_fetch_add_explicit(&sys->unhandled, 1, memory_order_relaxed);
	if (!cst_events_wanted(&sys->events, CST_EV_UNHANDLED)) {
		return;
	}
	casty_unhandled_message ev = {.recipient = cst_cell_ref(cell)};
	casty_ctx_path(cell, ev.path, sizeof ev.path);
	snprintf(ev.message_type, sizeof ev.message_type, "%s",
		msg->type->name);
	casty_msg_format(msg->type, msg->payload, ev.message,
		sizeof ev.message);
	cst_events_publish(&sys->events, CST_EV_UNHANDLED, &ev);
}

// Hooks. Those run while the actor goes away cannot fail it: a code is
// logged and ignored.

static void
hook_failed(casty_cell *cell, const char *hook, int rc)
{
	casty_log_warn(cell, "%s failed: %s (%d); ignored", hook,
		casty_strerror(rc), rc);
}

// Stopping.

static void
finish_stop(casty_cell *cell)
{
	casty_system *sys = cell->sys;
	casty_ref     me = cst_cell_ref(cell);

	if (cell->cold != NULL && cell->cold->hooks.post_stop != NULL) {
		int rc = cell->cold->hooks.post_stop(cell);
		if (rc != CASTY_OK) {
			hook_failed(cell, "post_stop", rc);
		}
	}
	publish_lifecycle(cell, CST_EV_ACTOR_STOPPED);
	cst_behavior_free(&cell->behavior);
	free_initial(cell);
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

// Tells watched, local or remote, that watcher no longer watches it.
static void
unwatch(casty_ref watcher, casty_ref watched)
{
	if (watched.node != 0) {
		cst_remote_watch(watcher, watched, false);
		return;
	}
	cst_sys_watch m = {watcher};
	cst_send_sys(watched, &cst_sys_unwatch__type, &m);
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
			unwatch(me, c->watching[i]);
		}
		c->nwatching = 0;
	}
	stop_children(cell);
	if (cell->nchildren == 0) {
		finish_stop(cell);
	}
}

// Behaviors.

// Keeps the spawn behavior for restarts; see CST_CELL_SAVED_INITIAL.
static void
save_initial(casty_cell *cell, casty_behavior initial)
{
	cell->initial = cst_alloc(sizeof *cell->initial);
	if (cell->initial == NULL) {
		cst_oom("spawn behavior");
	}
	*cell->initial = initial;
	cell->flags |= CST_CELL_SAVED_INITIAL;
}

static void
free_initial(casty_cell *cell)
{
	if (cell->initial != NULL) {
		cst_behavior_free(cell->initial);
		cst_free_sized(cell->initial, sizeof *cell->initial);
		cell->initial = NULL;
	}
}

// Replaces the running behavior. The first replacement keeps the one it
// replaces when that is still the spawn behavior (an actor spawned with
// casty_receive): so an actor that never changes, such as most idle ones,
// keeps no second copy.
static inline void
replace_behavior(casty_cell *cell, casty_behavior next)
{
	if (__builtin_expect(!(cell->flags & CST_CELL_SAVED_INITIAL), 0)) {
		save_initial(cell, cell->behavior);
	} else {
		cst_behavior_free(&cell->behavior);
	}
	cell->behavior = next;
}

enum init_result {
	INIT_OK,      // a receive behavior is installed, pre_start passed
	INIT_STOPPED, // setup returned casty_stopped()
	INIT_FAILED,  // *f says why
};

static void
merge_hooks(casty_lifecycle *into, const casty_lifecycle *from)
{
	// Outer wrappers come first, so an inner hook overrides.
	if (from->pre_start != NULL) {
		into->pre_start = from->pre_start;
	}
	if (from->post_stop != NULL) {
		into->post_stop = from->post_stop;
	}
	if (from->pre_restart != NULL) {
		into->pre_restart = from->pre_restart;
	}
	if (from->post_restart != NULL) {
		into->post_restart = from->post_restart;
	}
}

// Runs b's wrappers (outer first) and setups until a receive behavior,
// installs it and runs pre_start. Consumes b. The running behavior must
// be empty.
static enum init_result
init_behavior(casty_cell *cell, casty_behavior b, cst_failure *f)
{
	if (cell->cold != NULL) {
		memset(&cell->cold->hooks, 0, sizeof cell->cold->hooks);
	}
	for (;;) {
		switch (b.kind) {
		case CST_BEH_SUPERVISE: {
			cst_supervise_state *s = b.state.heap;
			cold_of(cell)->strategy = s->strategy;
			cell->flags |= CST_CELL_SUPERVISED;
			casty_behavior inner = s->inner;
			s->inner = (casty_behavior){.kind = CST_BEH_NONE};
			cst_behavior_free(&b);
			b = inner;
			continue;
		}
		case CST_BEH_LIFECYCLE: {
			cst_lifecycle_state *s = b.state.heap;
			merge_hooks(&cold_of(cell)->hooks, &s->hooks);
			casty_behavior inner = s->inner;
			s->inner = (casty_behavior){.kind = CST_BEH_NONE};
			cst_behavior_free(&b);
			b = inner;
			continue;
		}
		case CST_BEH_SETUP: {
			casty_behavior next = ((casty_setup_fn)b.fn)(
				cell, cst_behavior_state(&b));
			cst_behavior_free(&b);
			b = next;
			continue;
		}
		case CST_BEH_RECEIVE:
			cell->behavior = b;
			if (cell->cold != NULL &&
			    cell->cold->hooks.pre_start != NULL) {
				int rc = cell->cold->hooks.pre_start(cell);
				if (rc != CASTY_OK) {
					cst_failure_set(f, rc,
						"pre_start failed: %s",
						casty_strerror(rc));
					return INIT_FAILED;
				}
			}
			return INIT_OK;
		case CST_BEH_STOPPED:
			return INIT_STOPPED;
		case CST_BEH_FAILED:
			cst_failure_of(f, &b);
			cst_behavior_free(&b);
			return INIT_FAILED;
		default:
			cst_failure_set(f, -EINVAL,
				"setup returned no usable behavior");
			cst_behavior_free(&b);
			return INIT_FAILED;
		}
	}
}

// Brings the actor to life with b: at start (cause NULL) or at the end
// of a restart. A failed restart is decided on the next dispatch.
static void
come_alive(casty_cell *cell, casty_behavior b, const cst_failure *cause)
{
	cst_failure f;

	cell->status = CST_ALIVE;
	switch (init_behavior(cell, b, &f)) {
	case INIT_STOPPED:
		begin_stop(cell);
		return;
	case INIT_FAILED:
		if (cause == NULL) {
			fail(cell, &f);
		} else {
			cell->status = CST_FAILED;
			cst_send_sys(cst_cell_ref(cell), &cst_sys_failed__type, &f);
		}
		return;
	case INIT_OK:
		break;
	}
	if (cause == NULL) {
		publish_lifecycle(cell, CST_EV_ACTOR_STARTED);
		return;
	}
	if (cell->cold->hooks.post_restart != NULL) {
		int rc = cell->cold->hooks.post_restart(cell);
		if (rc != CASTY_OK) {
			cst_failure_set(&f, rc, "post_restart failed: %s",
				casty_strerror(rc));
			cell->status = CST_FAILED;
			cst_send_sys(cst_cell_ref(cell), &cst_sys_failed__type, &f);
			return;
		}
	}
	publish_restarted(cell, cause);
}

static void dispatch_user(casty_cell *cell, casty_msg *msg);

// Handles, in order, what arrived during a restart, while it stays alive.
// A replayed message may restart the actor again, and that restart may
// finish at once and replay in turn: the nested call returns at once and
// this loop goes on, so the depth stays one however many restarts the
// stash holds.
static void
replay_stash(casty_cell *cell)
{
	casty_msg *m;

	if (cell->flags & CST_CELL_REPLAYING) {
		return;
	}
	cell->flags |= CST_CELL_REPLAYING;
	while (cell->status == CST_ALIVE && cell->cold != NULL &&
	       (m = stash_take(cell->cold)) != NULL) {
		dispatch_user(cell, m);
		cst_msg_free(m);
	}
	if (cell->status != CST_DEAD) { // a dead cell may be the next spawn's
		cell->flags &= (uint8_t)~CST_CELL_REPLAYING;
	}
}

static void
finish_restart(casty_cell *cell)
{
	cst_cell_cold *c = cell->cold; // a restart always has one
	casty_behavior b;
	cst_failure    cause;

	memcpy(&cause, c->restart_cause, sizeof cause);
	cst_free_sized(c->restart_cause, sizeof cause);
	c->restart_cause = NULL;
	if (cell->flags & CST_CELL_SAVED_INITIAL) {
		cst_behavior_free(&cell->behavior);
		b = cst_behavior_clone(cell->initial);
	} else {
		b = cell->behavior; // still the spawn behavior
		cell->behavior = (casty_behavior){.kind = CST_BEH_NONE};
	}
	come_alive(cell, b, &cause);
	replay_stash(cell);
}

static void
begin_restart(casty_cell *cell, const cst_failure *cause)
{
	cst_cell_cold *c = cold_of(cell);

	cell->status = CST_RESTARTING;
	if (c->hooks.pre_restart != NULL) {
		casty_failure pub = {cause->code, cause->reason};
		int           rc = c->hooks.pre_restart(cell, &pub);
		if (rc != CASTY_OK) {
			hook_failed(cell, "pre_restart", rc);
		}
	}
	if (c->restart_cause == NULL) {
		c->restart_cause = cst_alloc(sizeof *cause);
		if (c->restart_cause == NULL) {
			cst_oom("restart");
		}
	}
	memcpy(c->restart_cause, cause, sizeof *cause);
	cst_actor_timers_cancel_all(cell); // a new incarnation starts clean
	ext_release(cell, true);
	stop_children(cell);
	if (cell->nchildren == 0) {
		finish_restart(cell);
	}
}

static void
escalate(casty_cell *cell, const cst_failure *f)
{
	if (cell->parent != NULL) {
		casty_log_warn(cell, "failed: %s (%d); escalating to the parent",
			f->reason, f->code);
		cst_send_sys(cst_cell_ref(cell->parent),
			&cst_sys_child_failed__type, f);
	} else {
		casty_log_error(cell,
			"failed: %s (%d); escalated past the top: stopping",
			f->reason, f->code);
	}
	begin_stop(cell);
}

// A failure of an alive actor (or of a restart that failed): its
// strategy decides; without one it stops.
static void
fail(casty_cell *cell, const cst_failure *f)
{
	if (cell->status != CST_ALIVE && cell->status != CST_FAILED) {
		return; // already going away or restarting
	}
	if (!(cell->flags & CST_CELL_SUPERVISED)) {
		casty_log_error(cell, "failed: %s (%d); stopping (no supervisor)",
			f->reason, f->code);
		begin_stop(cell);
		return;
	}
	switch (cst_supervision_decide(cell->cold, f, cst_now_ns())) {
	case CASTY_RESTART:
		casty_log_warn(cell, "failed: %s (%d); restarting", f->reason,
			f->code);
		begin_restart(cell, f);
		return;
	case CASTY_ESCALATE:
		escalate(cell, f);
		return;
	case CASTY_STOP:
		break;
	}
	casty_log_warn(cell, "failed: %s (%d); stopping", f->reason, f->code);
	begin_stop(cell);
}

// A setup returned from a handler: run it (and any it returns) for the
// next behavior. Wrappers belong to the spawn behavior, not to a handler.
static void
apply_setup(casty_cell *cell, casty_behavior b)
{
	cst_failure f;

	while (b.kind == CST_BEH_SETUP) {
		casty_behavior next = ((casty_setup_fn)b.fn)(
			cell, cst_behavior_state(&b));
		cst_behavior_free(&b);
		b = next;
	}
	switch (b.kind) {
	case CST_BEH_RECEIVE:
		replace_behavior(cell, b);
		return;
	case CST_BEH_SAME:
		return;
	case CST_BEH_STOPPED:
		begin_stop(cell);
		return;
	case CST_BEH_FAILED:
		cst_failure_of(&f, &b);
		cst_behavior_free(&b);
		fail(cell, &f);
		return;
	default:
		cst_behavior_free(&b);
		cst_failure_set(&f, -EINVAL, "setup returned no usable behavior");
		fail(cell, &f);
	}
}

// Every outcome of a handler but the two common ones (apply, below),
// out of line so that the message loop stays small.
static __attribute__((noinline, cold)) void
apply_rare(casty_cell *cell, casty_behavior next, const casty_msg *msg)
{
	cst_failure f;

	switch (next.kind) {
	case CST_BEH_SAME:
	case CST_BEH_RECEIVE:
		break; // handled inline by apply
	case CST_BEH_STOPPED:
		begin_stop(cell);
		return;
	case CST_BEH_UNHANDLED:
		cst_actor_unhandled(cell, msg);
		return;
	case CST_BEH_SETUP:
		apply_setup(cell, next);
		return;
	case CST_BEH_FAILED:
		cst_failure_of(&f, &next);
		cst_behavior_free(&next);
		fail(cell, &f);
		return;
	case CST_BEH_RESTART:
		// On purpose: not the strategy's to judge or count.
		cst_failure_set(&f, 0, "restart requested");
		begin_restart(cell, &f);
		return;
	default:
		cst_behavior_free(&next);
		cst_failure_set(&f, -EINVAL,
			"a handler returned no usable behavior (wrap the "
			"spawned behavior with casty_supervise or "
			"casty_with_lifecycle instead)");
		fail(cell, &f);
	}
}

// Applies what a handler returned: the same behavior or a new state
// inline, the rest in apply_rare.
static inline void
apply(casty_cell *cell, casty_behavior next, const casty_msg *msg)
{
	if (__builtin_expect(next.kind == CST_BEH_SAME, 1)) {
		return;
	}
	if (next.kind == CST_BEH_RECEIVE) {
		replace_behavior(cell, next);
		return;
	}
	apply_rare(cell, next, msg);
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
start(casty_cell *cell)
{
	casty_behavior initial = cell->behavior;

	cell->behavior = (casty_behavior){.kind = CST_BEH_NONE};
	cell->flags = 0;
	// Relaxed: a statistic.
	atomic_fetch_add_explicit(&cell->sys->live, 1, memory_order_relaxed);
	if (initial.kind == CST_BEH_RECEIVE) {
		come_alive(cell, initial, NULL); // saved if ever replaced
	} else {
		save_initial(cell, initial);
		come_alive(cell, cst_behavior_clone(cell->initial), NULL);
	}
}

// One hop of a cst_identify: the path ends here, or goes on to a named
// child of ours (read here, on the worker that owns them), or nowhere.
static void
identify(casty_cell *cell, const cst_sys_identify *m)
{
	const char *rest = m->path + m->offset;
	casty_ref   found = CASTY_REF_NONE;
	if (cell->status == CST_DEAD) {
		// found stays none
	} else if (rest[0] == '\0') {
		found = cst_cell_ref(cell);
	} else if (rest[0] == '/') {
		const char *end = strchr(rest + 1, '/');
		size_t      n = end != NULL ? (size_t)(end - rest - 1)
					    : strlen(rest + 1);
		char        name[CST_ACTOR_NAME_MAX + 1];
		casty_cell *child = NULL;
		if (n > 0 && n <= CST_ACTOR_NAME_MAX) {
			memcpy(name, rest + 1, n);
			name[n] = '\0';
			child = find_child(cell, name);
		}
		if (child != NULL) {
			cst_sys_identify next = *m;
			next.offset = m->offset + 1 + (uint32_t)n;
			cst_send_sys(cst_cell_ref(child), &cst_sys_identify__type,
				&next);
			return;
		}
	}
	cst_identified a = {m->request, found};
	cst_deliver(m->reply_to.cell, cst_msg_new(&cst_identified__type,
					      CASTY_TAG_UNKNOWN, &a,
					      m->reply_to.gen));
}

static void
handle_system(casty_cell *cell, casty_msg *msg)
{
	const casty_msg_type *t = msg->type;

	if (msg->target_gen !=
	    atomic_load_explicit(&cell->gen, memory_order_relaxed)) {
		cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED); // earlier one
		return;
	}
	if (t == &cst_sys_start__type) {
		start(cell);
	} else if (t == &cst_sys_stop__type) {
		if (cell->status != CST_STOPPING && cell->status != CST_DEAD) {
			begin_stop(cell);
		}
	} else if (t == &cst_sys_watch__type) {
		const cst_sys_watch *m = (const void *)msg->payload;
		if (cell->status == CST_DEAD) {
			cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
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
		unlink_child(cell, m->child);
		cst_cell_free_name(m->child);
		cst_cell_release(m->child);
		if (cell->nchildren == 0) {
			if (cell->status == CST_STOPPING) {
				finish_stop(cell);
			} else if (cell->status == CST_RESTARTING) {
				finish_restart(cell);
			}
		}
	} else if (t == &cst_sys_failed__type) {
		if (cell->status == CST_FAILED) {
			fail(cell, (const cst_failure *)(const void *)msg->payload);
		}
	} else if (t == &cst_sys_child_failed__type) {
		// An escalation: the child's failure is now ours.
		if (cell->status == CST_ALIVE) {
			fail(cell, (const cst_failure *)(const void *)msg->payload);
		}
	} else if (t == &cst_sys_identify__type) {
		identify(cell, (const cst_sys_identify *)(const void *)msg->payload);
	} else if (t == &cst_sys_timer__type) {
		casty_msg *fired = cst_actor_timer_fired(cell, msg);
		if (fired != NULL) {
			dispatch(cell, fired);
			cst_msg_free(fired);
		}
	}
}

// Keeps a copy of a user message for after the restart: the mailbox
// still holds msg as its tail, so the envelope itself cannot be kept.
static void
stash(casty_cell *cell, casty_msg *msg)
{
	cst_cell_cold *c = cold_of(cell);
	casty_msg     *copy = cst_msg_new(
		msg->type, msg->tag, msg->payload, msg->target_gen);

	// Relaxed: the stash is the owner's alone.
	atomic_store_explicit(&copy->link.next, NULL, memory_order_relaxed);
	if (c->stash_tail != NULL) {
		atomic_store_explicit(&c->stash_tail->link.next, &copy->link,
			memory_order_relaxed);
	} else {
		c->stash_head = copy;
	}
	c->stash_tail = copy;
}

static void
dispatch_user(casty_cell *cell, casty_msg *msg)
{
	if (msg->type == &casty_terminated__type) {
		// Only for refs still watched: unwatch is final.
		const casty_terminated *t = (const void *)msg->payload;
		if (cell->cold == NULL ||
		    !refs_remove(cell->cold->watching, &cell->cold->nwatching,
			    t->ref)) {
			return;
		}
	}
	if (!(msg->type->flags & CST_MSG_INTERNAL) && !resolve_tag(cell, msg)) {
		cst_actor_unhandled(cell, msg);
		return;
	}
	casty_behavior *b = &cell->behavior;
	apply(cell,
		((casty_receive_fn)b->fn)(cell, cst_behavior_state(b), msg),
		msg);
}

static void
dispatch(casty_cell *cell, casty_msg *msg)
{
	if (msg->type->flags & CASTY_MSG_SYSTEM) {
		handle_system(cell, msg);
		return;
	}
	// Relaxed: we run the cell, so we wrote or synchronised with gen.
	if (msg->target_gen !=
	    atomic_load_explicit(&cell->gen, memory_order_relaxed)) {
		cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
		return;
	}
	switch (cell->status) {
	case CST_ALIVE:
		dispatch_user(cell, msg);
		return;
	case CST_RESTARTING:
	case CST_FAILED:
		stash(cell, msg);
		return;
	default:
		cst_dead_letter(cell, msg, CASTY_DEAD_STOPPED);
	}
}

// A bounded mailbox gives back the place of a counted message; under
// drop_oldest, a message taken while the backlog is over the limit is
// the oldest one and is dropped. Returns whether msg is to be handled.
static bool
take_counted(casty_cell *cell, casty_msg *msg)
{
	// Relaxed: see casty_cell.queued.
	uint32_t before = atomic_fetch_sub_explicit(&cell->queued, 1,
		memory_order_relaxed);
	if (atomic_load_explicit(&cell->overflow, memory_order_relaxed) ==
		    CASTY_DROP_OLDEST &&
	    before > atomic_load_explicit(&cell->capacity,
			     memory_order_relaxed)) {
		cst_dead_letter(cell, msg, CASTY_DEAD_DROP_OLDEST);
		return false;
	}
	return true;
}

enum cst_run_result
cst_actor_run(cst_worker *w, casty_cell *cell, unsigned budget)
{
	for (unsigned n = 0; n < budget; n++) {
		cst_mbox_node *released;
		cst_mbox_node *node = cst_mbox_pop(&cell->mbox, &released);
		if (released != NULL) {
			cst_msg_free((casty_msg *)released);
		}
		if (node == NULL) {
			return CST_RUN_EMPTY;
		}
		casty_msg *msg = (casty_msg *)node;
		if ((msg->flags & CST_MSG_COUNTED) && !take_counted(cell, msg)) {
			continue;
		}
		// What the handler sends is batched in the outbox and pushed
		// when it returns (see outbox.c).
		w->outbox.armed = true;
		dispatch(cell, msg);
		cst_outbox_end(&w->outbox);
	}
	return CST_RUN_AGAIN;
}

// Spawning.

static bool
valid_name(const char *name)
{
	size_t n = strnlen(name, CST_ACTOR_NAME_MAX + 1);
	return n > 0 && n <= CST_ACTOR_NAME_MAX && strchr(name, '/') == NULL;
}

static bool
spawnable(uint32_t kind)
{
	return kind == CST_BEH_RECEIVE || kind == CST_BEH_SETUP ||
	       kind == CST_BEH_SUPERVISE || kind == CST_BEH_LIFECYCLE;
}

static bool
valid_mailbox(const casty_mailbox *mb)
{
	return mb == NULL || mb->capacity == 0 ||
	       (mb->capacity <= CASTY_MAILBOX_MAX_CAPACITY &&
		       (mb->overflow == CASTY_DROP_NEW ||
			       mb->overflow == CASTY_DROP_OLDEST ||
			       mb->overflow == CASTY_BACKPRESSURE));
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
	char *name, casty_behavior behavior, const casty_mailbox *mb)
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
	cell->initial = NULL;
	cell->proto = proto;
	cell->cold = NULL;
	// Relaxed: published to producers with the ref (see casty_cell).
	bool bounded = mb != NULL && mb->capacity != 0;
	atomic_store_explicit(&cell->capacity, bounded ? mb->capacity : 0,
		memory_order_relaxed);
	atomic_store_explicit(&cell->overflow,
		bounded ? (uint8_t)mb->overflow : 0, memory_order_relaxed);
	return cell;
}

static casty_directive
decide_stop(const casty_failure *f)
{
	(void)f;
	return CASTY_STOP;
}

static casty_directive
decide_escalate(const casty_failure *f)
{
	(void)f;
	return CASTY_ESCALATE;
}

// Gives an actor spawned without them in code the mailbox and the
// supervision that casty.toml names for it. The strategy wraps the
// behavior from outside, so a casty_supervise written in code (inner)
// wins, as an explicit mailbox does.
static void
apply_config(casty_system *sys, const char *name, casty_behavior *behavior,
	const casty_mailbox **mailbox, casty_mailbox *from_file)
{
	casty_actor_config ac;

	if (sys->config == NULL) {
		return;
	}
	casty_config_resolve(sys->config, name, &ac);
	if (*mailbox == NULL && ac.has_mailbox) {
		*from_file = ac.mailbox;
		*mailbox = from_file;
	}
	if (ac.has_supervision) {
		double         ms = ac.supervision.within_seconds * 1000.0;
		casty_strategy s = {
			.max_restarts = ac.supervision.max_restarts,
			.within_ms = ms < UINT32_MAX ? (uint32_t)ms : UINT32_MAX,
			.decider = ac.supervision.strategy == CASTY_STOP
				? decide_stop
				: ac.supervision.strategy == CASTY_ESCALATE
				? decide_escalate : NULL,
		};
		*behavior = casty_supervise(*behavior, s);
	}
}

int
casty_spawn_untyped(casty_system *sys, casty_ctx *parent,
	const casty_protocol *proto, casty_behavior behavior,
	const char *name, casty_ref *out)
{
	return casty_spawn_with(sys, parent, proto, behavior, name, NULL, out);
}

// The types an actor speaks may come to it from other nodes, which need
// them by name (runtime/type_registry.h). A worker that spawns the same
// protocol again and again (skynet) pays one compare.
static void
learn_protocol(const casty_protocol *proto)
{
	cst_worker *w = cst_tls_worker;
	if (w == NULL || w->last_proto != proto) {
		cst_type_register_protocol(proto);
		if (w != NULL) {
			w->last_proto = proto;
		}
	}
}

int
casty_spawn_with(casty_system *sys, casty_ctx *parent,
	const casty_protocol *proto, casty_behavior behavior,
	const char *name, const casty_mailbox *mailbox, casty_ref *out)
{
	int           rc = CASTY_OK;
	char         *copy = NULL;
	casty_cell   *cell = NULL;
	casty_mailbox from_file;

	if (sys == NULL || proto == NULL || proto->ntypes == 0 ||
	    out == NULL || (parent != NULL && parent->sys != sys) ||
	    !spawnable(behavior.kind) || !valid_mailbox(mailbox) ||
	    (name != NULL && !valid_name(name))) {
		rc = -EINVAL;
	} else if (name != NULL && (copy = cst_strdup(name)) == NULL) {
		rc = -ENOMEM;
	} else if (apply_config(sys, name, &behavior, &mailbox, &from_file),
		   parent != NULL) {
		if (parent->status != CST_ALIVE) {
			rc = CASTY_ESTOPPED;
		} else if (name != NULL && find_child(parent, name) != NULL) {
			rc = -EEXIST;
		} else {
			cell = new_cell(sys, parent, proto, copy, behavior, mailbox);
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
			cell = new_cell(sys, NULL, proto, copy, behavior, mailbox);
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
	learn_protocol(proto);
	*out = cst_cell_ref(cell);
	return CASTY_OK;
}

// Stopping and watching from a context.

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
	if (ref.cell == NULL) {
		return CASTY_ENOREF;
	}
	if (ref.cell == ctx && ref.node == 0) {
		return CASTY_OK; // we cannot see our own termination
	}
	cst_cell_cold *c = cold_of(ctx);
	if (!refs_add(&c->watching, &c->nwatching, &c->capwatching, ref)) {
		return CASTY_OK;
	}
	if (ref.node != 0) {
		// The cluster layer watches it on its node for us.
		int rc = cst_remote_watch(cst_cell_ref(ctx), ref, true);
		if (rc != CASTY_OK) {
			refs_remove(c->watching, &c->nwatching, ref);
		}
		return rc;
	}
	cst_sys_watch m = {cst_cell_ref(ctx)};
	cst_send_sys(ref, &cst_sys_watch__type, &m);
	return CASTY_OK;
}

int
casty_ctx_unwatch(casty_ctx *ctx, casty_ref ref)
{
	if (ref.cell == NULL) {
		return CASTY_ENOREF;
	}
	if (ctx->cold != NULL &&
	    refs_remove(ctx->cold->watching, &ctx->cold->nwatching, ref)) {
		unwatch(cst_cell_ref(ctx), ref);
	}
	return CASTY_OK;
}
