// persistence/event_sourced.c: event-sourced actors (persistence.h).
//
// An event-sourced actor is an ordinary actor whose behavior is built
// here: a setup that starts the recovery, then one receive handler that
// takes both the user's commands and the journal's completions. The
// journal calls back on any thread (the reactor's, mostly); a callback
// only stores what it got in the incarnation's shared results and sends
// the actor an internal message, so everything else runs on the actor's
// own worker, one message at a time, like any handler.
//
// States of an incarnation: RECOVERING (snapshot, then events after it)
// --> READY <--> PERSISTING (a batch in flight). Commands that arrive
// while not READY are stashed (copied: the mailbox keeps the envelope)
// and handled, in order, once READY again.
//
// Incarnations: a restart (or a stop) finishes the incarnation through
// the actor's ext slot (actor.h); completions of operations still in
// flight then arrive with an old incarnation id and are ignored. Their
// shared results are reference counted, so a late callback never writes
// into freed memory.
#include <casty/casty.h>
#include <casty/persistence.h>

#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "persistence/codec.h"
#include "runtime/actor.h"
#include "runtime/alloc.h"
#include "runtime/behavior.h"
#include "runtime/msg.h"

// What casty_event_sourced captures: the spec, flat, so that the setup
// behavior copies it as one block (and a restart clones it).
typedef struct es_spec {
	casty_journal        *journal;
	const casty_protocol *events;
	const casty_msg_type *state_type;
	casty_event_fn        on_event;
	casty_command_fn      on_command;
	uint32_t              snapshot_every;
	char                  entity_id[CASTY_JOURNAL_MAX_ENTITY + 1];
	alignas(max_align_t) unsigned char initial_state[];
} es_spec;

// One event read back by a load, as the journal gave it.
typedef struct es_loaded {
	uint64_t seq;
	size_t   len;
	char     data[];
} es_loaded;

// What the journal's callbacks write, for the actor to read once their
// completion message arrives (which orders the two: mailbox push and pop).
typedef struct es_shared {
	_Atomic uint32_t refs; // the incarnation, plus each operation
	bool             snapshot_found;
	uint64_t         snapshot_seq;
	char            *snapshot;
	size_t           snapshot_len;
	es_loaded      **loaded;
	size_t           nloaded, caploaded;
	bool             load_overflow; // out of memory while loading
} es_shared;

enum es_status { ES_RECOVERING, ES_READY, ES_PERSISTING };

enum es_op_kind {
	OP_LOAD_SNAPSHOT,
	OP_LOAD_EVENTS,
	OP_PERSIST,
	OP_SAVE_SNAPSHOT,
};

// The completion message of an operation.
typedef struct es_done {
	uint64_t incarnation;
	int32_t  kind;
	int32_t  rc;
} es_done;

static const casty_msg_type es_done__type = {"casty_es_done",
	sizeof(es_done), alignof(es_done), 0, CST_MSG_INTERNAL, NULL};

// A message list (staged events, events in flight, stashed commands),
// linked through the envelopes; owned by the actor.
typedef struct msg_list {
	casty_msg *head, *tail;
	uint32_t   n;
} msg_list;

// One incarnation, owned by the actor (its ext).
typedef struct es_actor {
	uint64_t       incarnation;
	casty_ref      self;
	enum es_status status;
	uint64_t       seq; // highest durable
	bool           in_command;
	msg_list       staged, inflight, stash;
	es_shared     *shared;
	unsigned char *state;
	size_t         spec_size;
	es_spec        spec; // last: it ends in the initial state
} es_actor;

// One journal operation in flight; owns what the journal reads.
typedef struct es_op {
	es_shared           *shared;
	casty_ref            self;
	uint64_t             incarnation;
	enum es_op_kind      kind;
	size_t               nrecords;
	casty_journal_record *records;
	char                **buffers;
	size_t              *caps;
} es_op;

static _Atomic uint64_t next_incarnation = 1;

// Lists.

static void
list_push(msg_list *l, casty_msg *m)
{
	// Relaxed: the list is the actor's alone.
	atomic_store_explicit(&m->link.next, NULL, memory_order_relaxed);
	if (l->tail != NULL) {
		atomic_store_explicit(&l->tail->link.next, &m->link,
			memory_order_relaxed);
	} else {
		l->head = m;
	}
	l->tail = m;
	l->n++;
}

static casty_msg *
list_pop(msg_list *l)
{
	casty_msg *m = l->head;
	if (m != NULL) {
		l->head = (casty_msg *)atomic_load_explicit(
			&m->link.next, memory_order_relaxed);
		if (l->head == NULL) {
			l->tail = NULL;
		}
		l->n--;
	}
	return m;
}

static void
list_free(msg_list *l)
{
	casty_msg *m;
	while ((m = list_pop(l)) != NULL) {
		cst_msg_free(m);
	}
}

// Shared results.

static void
shared_release(es_shared *s)
{
	// acq_rel: the last owner sees every write of the others.
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	for (size_t i = 0; i < s->nloaded; i++) {
		cst_free_sized(s->loaded[i], sizeof(es_loaded) + s->loaded[i]->len);
	}
	cst_free_sized(s->loaded, s->caploaded * sizeof(es_loaded *));
	cst_free_sized(s->snapshot, s->snapshot_len);
	cst_free_sized(s, sizeof *s);
}

static void
clear_loaded(es_shared *s)
{
	for (size_t i = 0; i < s->nloaded; i++) {
		cst_free_sized(s->loaded[i], sizeof(es_loaded) + s->loaded[i]->len);
	}
	s->nloaded = 0;
}

// Operations.

static es_op *
op_new(es_actor *es, enum es_op_kind kind, size_t nrecords)
{
	es_op *op = cst_calloc(sizeof *op);
	if (op == NULL) {
		cst_oom("journal operation");
	}
	op->shared = es->shared;
	// Relaxed: the new reference is published with the call that hands
	// op to the journal.
	atomic_fetch_add_explicit(&es->shared->refs, 1, memory_order_relaxed);
	op->self = es->self;
	op->incarnation = es->incarnation;
	op->kind = kind;
	op->nrecords = nrecords;
	if (nrecords != 0) {
		op->records = cst_calloc(nrecords * sizeof *op->records);
		op->buffers = cst_calloc(nrecords * sizeof *op->buffers);
		op->caps = cst_calloc(nrecords * sizeof *op->caps);
		if (op->records == NULL || op->buffers == NULL ||
		    op->caps == NULL) {
			cst_oom("journal operation");
		}
	}
	return op;
}

static void
op_free(es_op *op)
{
	for (size_t i = 0; i < op->nrecords; i++) {
		cst_free_sized(op->buffers[i], op->caps[i]);
	}
	cst_free_sized(op->records, op->nrecords * sizeof *op->records);
	cst_free_sized(op->buffers, op->nrecords * sizeof *op->buffers);
	cst_free_sized(op->caps, op->nrecords * sizeof *op->caps);
	shared_release(op->shared);
	cst_free_sized(op, sizeof *op);
}

// Encodes a payload of type as record i of op.
static void
op_encode(es_op *op, size_t i, const casty_msg_type *type, const void *payload)
{
	op->caps[i] = cst_codec_encoded_max(type, NULL);
	op->buffers[i] = cst_alloc(op->caps[i]);
	if (op->buffers[i] == NULL) {
		cst_oom("event encoding");
	}
	size_t n = cst_codec_encode(type, payload, op->buffers[i], NULL);
	op->records[i] = (casty_journal_record){op->buffers[i], (uint32_t)n};
}

// Tells the actor an operation is done, and lets the operation go.
static void
op_complete(es_op *op, int rc)
{
	es_done d = {op->incarnation, (int32_t)op->kind, (int32_t)rc};
	cst_deliver(op->self.cell, cst_msg_new(&es_done__type,
					   CASTY_TAG_UNKNOWN, &d, op->self.gen));
	op_free(op);
}

static void
on_done(void *arg, int rc)
{
	op_complete(arg, rc);
}

static void
on_snapshot(void *arg, int rc, bool found, uint64_t seq, const void *data,
	size_t len)
{
	es_op     *op = arg;
	es_shared *s = op->shared;
	if (rc == CASTY_OK && found) {
		s->snapshot = cst_alloc(len ? len : 1);
		if (s->snapshot == NULL) {
			rc = -ENOMEM;
		} else {
			memcpy(s->snapshot, data, len);
			s->snapshot_len = len ? len : 1;
			s->snapshot_seq = seq;
			s->snapshot_found = true;
		}
	}
	op_complete(op, rc);
}

static void
on_replay(void *arg, uint64_t seq, const void *data, size_t len)
{
	es_op     *op = arg;
	es_shared *s = op->shared;
	if (s->load_overflow) {
		return;
	}
	if (s->nloaded == s->caploaded) {
		size_t      cap = s->caploaded ? s->caploaded * 2 : 64;
		es_loaded **grown = cst_alloc(cap * sizeof *grown);
		if (grown == NULL) {
			s->load_overflow = true;
			return;
		}
		if (s->nloaded != 0) {
			memcpy(grown, s->loaded, s->nloaded * sizeof *grown);
		}
		cst_free_sized(s->loaded, s->caploaded * sizeof *grown);
		s->loaded = grown;
		s->caploaded = cap;
	}
	es_loaded *e = cst_alloc(sizeof *e + len);
	if (e == NULL) {
		s->load_overflow = true;
		return;
	}
	e->seq = seq;
	e->len = len;
	memcpy(e->data, data, len);
	s->loaded[s->nloaded++] = e;
}

// The incarnation.

static void
es_fini(casty_cell *cell, void *ext, bool restarting)
{
	es_actor  *es = ext;
	casty_msg *m;

	if (restarting && es->stash.head != NULL) {
		// Commands not handled yet wait for the next incarnation, as
		// the mailbox's do.
		cst_actor_stash_front(cell, es->stash.head, es->stash.tail);
		es->stash = (msg_list){0};
	}
	// Stopping: dead letters, as for any stopping actor.
	while ((m = list_pop(&es->stash)) != NULL) {
		cst_dead_letter(cell, m, CASTY_DEAD_STOPPED);
		cst_msg_free(m);
	}
	list_free(&es->staged);
	list_free(&es->inflight);
	cst_free_sized(es->state, es->spec.state_type->size
		? es->spec.state_type->size : 1);
	shared_release(es->shared);
	cst_free_sized(es, sizeof *es - sizeof es->spec + es->spec_size);
}

static es_actor *
current(casty_ctx *ctx)
{
	return cst_actor_ext(ctx);
}

// The tag of type among the actor's events, or -1.
static int
event_tag(const es_spec *spec, const casty_msg_type *type)
{
	for (uint32_t i = 0; i < spec->events->ntypes; i++) {
		if (spec->events->types[i] == type) {
			return (int)i;
		}
	}
	for (uint32_t i = 0; i < spec->events->ntypes; i++) {
		if (strcmp(spec->events->types[i]->name, type->name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

int
casty_persist_msg(casty_ctx *ctx, const casty_msg_type *type,
	const void *payload)
{
	if (ctx == NULL || type == NULL || payload == NULL) {
		return -EINVAL;
	}
	es_actor *es = current(ctx);
	if (es == NULL || !es->in_command) {
		return -EINVAL;
	}
	int tag = event_tag(&es->spec, type);
	if (tag < 0) {
		return CASTY_ETYPE;
	}
	list_push(&es->staged, cst_msg_new(es->spec.events->types[tag],
				       (unsigned)tag, payload, 0));
	return CASTY_OK;
}

static casty_behavior
failed_op(es_actor *es, int rc, const char *what)
{
	return casty_failed(rc, "%s of entity %s failed: %s", what,
		es->spec.entity_id, casty_strerror(rc));
}

static casty_behavior
start_persist(es_actor *es)
{
	es_op *op = op_new(es, OP_PERSIST, es->staged.n);
	size_t i = 0;
	for (casty_msg *m = es->staged.head; m != NULL;
	     m = (casty_msg *)atomic_load_explicit(
		     &m->link.next, memory_order_relaxed)) {
		op_encode(op, i++, m->type, m->payload);
	}
	// The staged events wait in flight for the journal's word.
	es->inflight = es->staged;
	es->staged = (msg_list){0};
	int rc = casty_journal_persist(es->spec.journal, es->spec.entity_id,
		es->seq + 1, op->records, op->nrecords, on_done, op);
	if (rc != CASTY_OK) {
		op_free(op);
		return failed_op(es, rc, "persisting events");
	}
	es->status = ES_PERSISTING;
	return casty_same();
}

static casty_behavior
handle_command(casty_cell *cell, es_actor *es, const casty_msg *msg)
{
	es->in_command = true;
	casty_behavior next = es->spec.on_command(cell, es->state, msg);
	es->in_command = false;
	if (next.kind != CST_BEH_PERSISTED) {
		list_free(&es->staged); // persisted only on casty_persisted()
	}
	switch (next.kind) {
	case CST_BEH_PERSISTED:
		return es->staged.n != 0 ? start_persist(es) : casty_same();
	case CST_BEH_SAME:
		return next;
	case CST_BEH_UNHANDLED:
		cst_actor_unhandled(cell, msg);
		return casty_same();
	case CST_BEH_STOPPED:
	case CST_BEH_FAILED:
		return next;
	default:
		cst_behavior_free(&next);
		return casty_failed(-EINVAL,
			"an event-sourced command handler returns "
			"casty_persisted, casty_same, casty_stopped, "
			"casty_unhandled or casty_failed");
	}
}

// Handles stashed commands while the actor stays ready.
static casty_behavior
unstash(casty_cell *cell, es_actor *es)
{
	casty_msg *m;
	while (es->status == ES_READY && (m = list_pop(&es->stash)) != NULL) {
		casty_behavior next = handle_command(cell, es, m);
		cst_msg_free(m);
		if (next.kind != CST_BEH_SAME) {
			return next; // stopped or failed: the rest is dead letters
		}
	}
	return casty_same();
}

// Decodes a loaded record as one of the actor's events and folds it.
static int
fold_record(es_actor *es, const void *data, size_t len)
{
	const char *name;
	uint32_t    name_len;
	int         rc = cst_codec_type_name(data, len, &name, &name_len, NULL);
	if (rc != 0) {
		return CASTY_ECORRUPT;
	}
	for (uint32_t i = 0; i < es->spec.events->ntypes; i++) {
		const casty_msg_type *t = es->spec.events->types[i];
		if (strlen(t->name) != name_len ||
		    memcmp(t->name, name, name_len) != 0) {
			continue;
		}
		casty_msg *m = cst_msg_new(t, i, NULL, 0);
		rc = cst_codec_decode(t, data, len, m->payload, NULL);
		if (rc == CASTY_OK) {
			es->spec.on_event(es->state, m);
		}
		cst_msg_free(m);
		return rc == -EINVAL ? CASTY_ECORRUPT : rc;
	}
	return CASTY_ETYPE; // an event type this actor does not know
}

static casty_behavior
start_load(es_actor *es)
{
	es_op *op = op_new(es, OP_LOAD_EVENTS, 0);
	int rc = casty_journal_load(es->spec.journal, es->spec.entity_id,
		es->seq + 1, on_replay, on_done, op);
	if (rc != CASTY_OK) {
		op_free(op);
		return failed_op(es, rc, "recovery (loading events)");
	}
	return casty_same();
}

static casty_behavior
snapshot_loaded(es_actor *es, int rc)
{
	es_shared *s = es->shared;
	if (rc != CASTY_OK) {
		return failed_op(es, rc, "recovery (loading the snapshot)");
	}
	if (s->snapshot_found) {
		rc = cst_codec_decode(es->spec.state_type, s->snapshot,
			s->snapshot_len, es->state, NULL);
		if (rc != CASTY_OK) {
			return failed_op(es, rc == -EINVAL ? CASTY_ECORRUPT : rc,
				"recovery (decoding the snapshot)");
		}
		es->seq = s->snapshot_seq;
	}
	return start_load(es);
}

static casty_behavior
events_loaded(casty_cell *cell, es_actor *es, int rc)
{
	es_shared *s = es->shared;
	if (rc == CASTY_OK && s->load_overflow) {
		rc = -ENOMEM;
	}
	for (size_t i = 0; rc == CASTY_OK && i < s->nloaded; i++) {
		if (s->loaded[i]->seq != es->seq + 1) {
			rc = CASTY_ECORRUPT; // a gap or a repeat
			break;
		}
		rc = fold_record(es, s->loaded[i]->data, s->loaded[i]->len);
		if (rc == CASTY_OK) {
			es->seq++;
		}
	}
	clear_loaded(s);
	if (rc != CASTY_OK) {
		return failed_op(es, rc, "recovery (replaying events)");
	}
	es->status = ES_READY;
	return unstash(cell, es);
}

static void
maybe_snapshot(es_actor *es, uint64_t before)
{
	uint32_t every = es->spec.snapshot_every;
	if (every == 0 || es->seq / every == before / every) {
		return;
	}
	es_op *op = op_new(es, OP_SAVE_SNAPSHOT, 1);
	op_encode(op, 0, es->spec.state_type, es->state);
	int rc = casty_journal_save_snapshot(es->spec.journal,
		es->spec.entity_id, es->seq, op->records[0], on_done, op);
	if (rc != CASTY_OK) {
		op_free(op);
		casty_log_warn(NULL, "snapshot of entity %s at %llu not saved: %s",
			es->spec.entity_id, (unsigned long long)es->seq,
			casty_strerror(rc));
	}
}

static casty_behavior
persisted(casty_cell *cell, es_actor *es, int rc)
{
	if (rc != CASTY_OK) {
		return failed_op(es, rc, "persisting events");
	}
	uint64_t   before = es->seq;
	casty_msg *m;
	while ((m = list_pop(&es->inflight)) != NULL) {
		es->spec.on_event(es->state, m);
		es->seq++;
		cst_msg_free(m);
	}
	maybe_snapshot(es, before);
	es->status = ES_READY;
	return unstash(cell, es);
}

static casty_behavior
completion(casty_cell *cell, es_actor *es, const es_done *d)
{
	if (es == NULL || d->incarnation != es->incarnation) {
		return casty_same(); // for an earlier incarnation
	}
	switch (d->kind) {
	case OP_LOAD_SNAPSHOT:
		return snapshot_loaded(es, d->rc);
	case OP_LOAD_EVENTS:
		return events_loaded(cell, es, d->rc);
	case OP_PERSIST:
		return persisted(cell, es, d->rc);
	case OP_SAVE_SNAPSHOT:
		if (d->rc != CASTY_OK) {
			casty_log_warn(cell, "snapshot of entity %s not saved: %s",
				es->spec.entity_id, casty_strerror(d->rc));
		}
		return casty_same();
	}
	return casty_same();
}

static casty_behavior
es_receive(casty_ctx *ctx, const void *unused, const casty_msg *msg)
{
	(void)unused;
	es_actor *es = current(ctx);

	if (msg->type == &es_done__type) {
		return completion(ctx, es, (const es_done *)casty_msg_data(msg));
	}
	if (es->status != ES_READY) {
		list_push(&es->stash, cst_msg_new(msg->type, msg->tag,
					      msg->payload, msg->target_gen));
		return casty_same();
	}
	return handle_command(ctx, es, msg);
}

static bool
spec_ok(const casty_event_sourced_spec *s)
{
	return s != NULL && s->entity_id != NULL && s->entity_id[0] != '\0' &&
	       strlen(s->entity_id) <= CASTY_JOURNAL_MAX_ENTITY &&
	       s->journal != NULL && s->events != NULL &&
	       s->events->ntypes != 0 && s->state_type != NULL &&
	       s->initial_state != NULL && s->on_event != NULL &&
	       s->on_command != NULL;
}

static casty_behavior
es_setup(casty_ctx *ctx, const void *captured)
{
	const es_spec *spec = captured;
	size_t state_size = spec->state_type->size;
	size_t spec_size = sizeof *spec + state_size;

	es_actor *es = cst_calloc(sizeof *es - sizeof es->spec + spec_size);
	es_shared *s = cst_calloc(sizeof *s);
	es->state = cst_alloc(state_size ? state_size : 1);
	if (es == NULL || s == NULL || es->state == NULL) {
		cst_oom("event-sourced actor");
	}
	memcpy(&es->spec, spec, spec_size);
	es->spec_size = spec_size;
	memcpy(es->state, spec->initial_state, state_size);
	// Relaxed: a unique id is all that is needed.
	es->incarnation = atomic_fetch_add_explicit(
		&next_incarnation, 1, memory_order_relaxed);
	es->self = casty_self(ctx);
	es->status = ES_RECOVERING;
	atomic_init(&s->refs, 1);
	es->shared = s;
	cst_actor_set_ext(ctx, es, es_fini);

	es_op *op = op_new(es, OP_LOAD_SNAPSHOT, 0);
	int rc = casty_journal_load_snapshot(es->spec.journal,
		es->spec.entity_id, on_snapshot, op);
	if (rc != CASTY_OK) {
		op_free(op);
		return failed_op(es, rc, "recovery (loading the snapshot)");
	}
	return casty_receive(es_receive, NULL, 0);
}

static casty_behavior
bad_spec(casty_ctx *ctx, const void *unused)
{
	(void)ctx;
	(void)unused;
	return casty_failed(-EINVAL, "casty_event_sourced: incomplete spec");
}

casty_behavior
casty_event_sourced(const casty_event_sourced_spec *spec)
{
	if (!spec_ok(spec)) {
		return casty_setup(bad_spec, NULL, 0);
	}
	size_t   size = sizeof(es_spec) + spec->state_type->size;
	es_spec *flat = cst_calloc(size);
	if (flat == NULL) {
		cst_oom("event-sourced behavior");
	}
	flat->journal = spec->journal;
	flat->events = spec->events;
	flat->state_type = spec->state_type;
	flat->on_event = spec->on_event;
	flat->on_command = spec->on_command;
	flat->snapshot_every = spec->snapshot_every;
	memcpy(flat->entity_id, spec->entity_id, strlen(spec->entity_id) + 1);
	memcpy(flat->initial_state, spec->initial_state, spec->state_type->size);
	casty_behavior b = casty_behavior_capture(
		(void *)es_setup, CST_BEH_SETUP, flat, size);
	cst_free_sized(flat, size);
	return b;
}
