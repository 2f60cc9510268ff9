// tests/runtime/test_actor_tree.c: children, names, stopping order and
// death watch between parent and children.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>

#include <casty/casty.h>

#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(actor_tree, .init = sys_setup, .fini = sys_teardown, .timeout = 60);

typedef struct {
	int unused;
} Noop;
CASTY_MESSAGE(Noop, unused);
CASTY_PROTOCOL(LeafMsg, Noop);

CASTY_HANDLER(leaf_receive, void)
{
	return casty_same();
}

// The parent does what it is told with its children and replies with
// the result code, or with a ref.
typedef struct {
	char      name[32];
	int32_t   op;
	casty_ref target;
	casty_ref reply_to;
} Op;
typedef struct {
	casty_ref ref;
	int64_t   rc;
} RefReply;
typedef struct {
	casty_ref reply_to;
} Count;
CASTY_MESSAGE(Op, name, op, target, reply_to);
CASTY_MESSAGE(RefReply, ref, rc);
CASTY_MESSAGE(Count, reply_to);
CASTY_PROTOCOL(ParentMsg, Op, Count, casty_terminated);

enum { OP_SPAWN, OP_STOP, OP_WATCH, OP_UNWATCH, OP_FIND, OP_STOP_SELF,
	OP_STOP_REF };

static casty_behavior parent(int64_t terminated_seen);

CASTY_HANDLER(parent_receive, int64_t)
{
	switch (ParentMsg_tag_of(msg)) {
	case ParentMsg_Op: {
		const Op *op = CASTY_AS(Op, msg);
		RefReply  r = {CASTY_REF_NONE, 0};
		LeafMsg_ref child;
		switch (op->op) {
		case OP_SPAWN:
			r.rc = casty_ctx_spawn(ctx, LeafMsg,
				casty_receive(leaf_receive, NULL, 0), op->name,
				&child);
			r.ref = child.ref;
			break;
		case OP_FIND:
			r.rc = casty_ctx_child(ctx, op->name, &r.ref);
			break;
		case OP_STOP_REF:
			r.rc = casty_ctx_stop(ctx, op->target);
			break;
		default:
			r.rc = casty_ctx_child(ctx, op->name, &r.ref);
			if (r.rc != CASTY_OK) {
				break;
			}
			if (op->op == OP_STOP) {
				r.rc = casty_ctx_stop(ctx, r.ref);
			} else if (op->op == OP_WATCH) {
				r.rc = casty_ctx_watch(ctx, r.ref);
			} else if (op->op == OP_UNWATCH) {
				r.rc = casty_ctx_unwatch(ctx, r.ref);
			} else {
				r.rc = casty_ctx_stop(ctx, casty_self(ctx));
			}
		}
		casty_send_copy(op->reply_to, RefReply, &r);
		return casty_same();
	}
	case ParentMsg_Count:
		casty_send(CASTY_AS(Count, msg)->reply_to, casty_int, *state);
		return casty_same();
	case ParentMsg_casty_terminated:
		return parent(*state + 1);
	}
	return casty_unhandled();
}

static casty_behavior
parent(int64_t seen)
{
	return casty_receive(parent_receive, &seen, sizeof seen);
}

static RefReply
op_ref(ParentMsg_ref p, int what, const char *name, casty_ref target)
{
	casty_msg *reply;
	Op         o = {.op = what, .target = target};
	snprintf(o.name, sizeof o.name, "%s", name);
	// A char array cannot be copied inside an initializer, so the request
	// is built first and asked for with casty_ask_msg.
	cr_assert(eq(int, casty_ask_msg(sys, p.ref, &Op__type, ParentMsg_Op, &o,
				  offsetof(Op, reply_to), 60000, &reply),
		CASTY_OK));
	RefReply r = *CASTY_AS(RefReply, reply);
	casty_msg_free(reply);
	return r;
}

static RefReply
op(ParentMsg_ref p, int what, const char *name)
{
	return op_ref(p, what, name, CASTY_REF_NONE);
}

static int64_t
terminated_seen(ParentMsg_ref p)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, p, Count, reply_to, 60000, &reply),
		CASTY_OK));
	int64_t n = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return n;
}

Test(actor_tree, child_names_are_unique_among_siblings)
{
	ParentMsg_ref p, q;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	casty_spawn(sys, ParentMsg, parent(0), "q", &q);
	cr_assert(eq(i64, op(p, OP_SPAWN, "kid").rc, CASTY_OK));
	cr_assert(eq(i64, op(p, OP_SPAWN, "kid").rc, -EEXIST));
	cr_assert(eq(i64, op(q, OP_SPAWN, "kid").rc, CASTY_OK),
		"the same name under another parent is fine");
	cr_assert(eq(i64, op(p, OP_FIND, "nobody").rc, -ENOENT));
}

Test(actor_tree, a_stopped_child_frees_its_name_once_the_parent_knows)
{
	ProbeMsg_ref  probe = probe_spawn(sys, "probe");
	ParentMsg_ref p;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	RefReply kid = op(p, OP_SPAWN, "kid");
	cr_assert(eq(int, probe_watch(sys, probe, kid.ref), CASTY_OK));
	cr_assert(eq(i64, op(p, OP_STOP, "kid").rc, CASTY_OK));
	probe_await(sys, probe, kid.ref);
	// The parent has handled the child's stop report before our next
	// request only if it was queued first; ask until the name is free.
	int64_t rc;
	while ((rc = op(p, OP_SPAWN, "kid").rc) == -EEXIST) {
	}
	cr_assert(eq(i64, rc, CASTY_OK));
}

Test(actor_tree, stopping_a_parent_stops_its_children_first)
{
	ProbeMsg_ref  probe = probe_spawn(sys, "probe");
	ParentMsg_ref p;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	RefReply a = op(p, OP_SPAWN, "a");
	RefReply b = op(p, OP_SPAWN, "b");
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, b.ref), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, p.ref), CASTY_OK));
	cr_assert(eq(i64, op(p, OP_STOP_SELF, "a").rc, CASTY_OK));
	int ip = probe_await(sys, probe, p.ref);
	int ia = probe_await(sys, probe, a.ref);
	int ib = probe_await(sys, probe, b.ref);
	cr_assert(lt(int, ia, ip));
	cr_assert(lt(int, ib, ip));
	cr_assert(eq(str, probe_last.paths[ia], "/p/a"));
}

Test(actor_tree, a_parent_watching_its_child_gets_terminated)
{
	ProbeMsg_ref  probe = probe_spawn(sys, "probe");
	ParentMsg_ref p;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	RefReply kid = op(p, OP_SPAWN, "kid");
	cr_assert(eq(i64, op(p, OP_WATCH, "kid").rc, CASTY_OK));
	// registered after the parent's watch
	cr_assert(eq(int, probe_watch(sys, probe, kid.ref), CASTY_OK));
	op(p, OP_STOP, "kid");
	probe_await(sys, probe, kid.ref);
	// The parent's casty_terminated was sent before the probe's.
	cr_assert(eq(i64, terminated_seen(p), 1));
}

Test(actor_tree, after_unwatch_no_terminated_arrives)
{
	ProbeMsg_ref  probe = probe_spawn(sys, "probe");
	ParentMsg_ref p;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	RefReply kid = op(p, OP_SPAWN, "kid");
	op(p, OP_WATCH, "kid");
	op(p, OP_WATCH, "kid"); // twice is once
	cr_assert(eq(i64, op(p, OP_UNWATCH, "kid").rc, CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, kid.ref), CASTY_OK));
	op(p, OP_STOP, "kid");
	probe_await(sys, probe, kid.ref);
	cr_assert(eq(i64, terminated_seen(p), 0));
}

Test(actor_tree, stopping_what_is_not_a_child_is_einval)
{
	ParentMsg_ref p, q;
	casty_spawn(sys, ParentMsg, parent(0), "p", &p);
	casty_spawn(sys, ParentMsg, parent(0), "q", &q);
	RefReply kid = op(q, OP_SPAWN, "kid");
	cr_assert(eq(i64, op(p, OP_STOP, "kid").rc, -ENOENT));
	cr_assert(eq(i64, op_ref(p, OP_STOP_REF, "", kid.ref).rc, -EINVAL));
	cr_assert(eq(i64, op_ref(p, OP_STOP_REF, "", q.ref).rc, -EINVAL));
	cr_assert(eq(i64, op(q, OP_FIND, "kid").rc, CASTY_OK),
		"q's child is untouched");
}
