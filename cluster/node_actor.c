// cluster/node_actor.c: the "_cluster" actor, which runs the membership
// machine of its node (membership.h) on the real clock and the real
// network: three actor timers tick it (gossip.interval,
// heartbeat.interval, heartbeat.availability_check_interval), the inbox
// the transport fills feeds it frames, and its outputs go to the
// transport (frames), to the snapshot behind casty_cluster_members and to
// the system event stream (events). Removed members are forgotten by the
// transport and the node directory here, and downed or removed ones end
// the death watches across them (node_watch.c), which is all the
// machine's events mean to the rest of the process. The actor also runs
// remote death watch: requests of local watchers, watch frames, and the
// casty_terminated of targets it watches for remote watchers.
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cluster/node.h"
#include "cluster/node_directory.h"
#include "cluster/node_watch.h"
#include "cluster/remote.h"
#include "runtime/events.h"
#include "runtime/msg.h"
#include "runtime/system.h"

typedef struct node_tick {
	int32_t what; // a cst_membership_timer
} node_tick;

typedef struct node_signal {
	char unused;
} node_signal;

static const casty_msg_type node_tick__type = {"cst_node_tick",
	sizeof(node_tick), alignof(node_tick), 0, CST_MSG_INTERNAL, NULL};
const casty_msg_type cst_node_wake__type = {"cst_node_wake",
	sizeof(node_signal), alignof(node_signal), 0, CST_MSG_INTERNAL, NULL};
const casty_msg_type cst_node_leave__type = {"cst_node_leave",
	sizeof(node_signal), alignof(node_signal), 0, CST_MSG_INTERNAL, NULL};
const casty_msg_type cst_node_stop__type = {"cst_node_stop",
	sizeof(node_signal), alignof(node_signal), 0, CST_MSG_INTERNAL, NULL};

// Spawning needs a protocol; casty_terminated is the one message that
// is not internal (the targets it watches for remote watchers send it).
static const casty_msg_type *const node_types[] = {
	&node_tick__type, &casty_terminated__type};
static const casty_protocol node_protocol = {
	"cst_cluster_node", 2, node_types};

static int64_t
ms_of(double seconds)
{
	int64_t ms = (int64_t)(seconds * 1000.0);
	return ms > 0 ? ms : 1;
}

static void
io_send(void *arg, const char *host, uint16_t port, uint8_t kind,
	const void *body, size_t len)
{
	casty_cluster *c = arg;
	int rc = cst_transport_send(c->transport, host, port, kind, body, len);
	if (rc != 0 && rc != CASTY_ESTOPPED) {
		casty_log_warn(NULL, "cluster: send of kind %u to %s:%u failed: %d",
			kind, host, port, rc);
	}
}

static void
io_changed(void *arg, const cst_member_table *t, int leader)
{
	cst_node_publish_snapshot(arg, t, leader);
}

// Every membership event is filled as a casty_member_up.
#define SAME_LAYOUT(T)                                                        \
	_Static_assert(sizeof(T) == sizeof(casty_member_up) &&                \
			       offsetof(T, host) ==                           \
				       offsetof(casty_member_up, host) &&     \
			       offsetof(T, port) ==                           \
				       offsetof(casty_member_up, port) &&     \
			       offsetof(T, incarnation) ==                    \
				       offsetof(casty_member_up, incarnation) \
			       && offsetof(T, roles) ==                       \
				       offsetof(casty_member_up, roles),      \
		#T " differs from casty_member_up")
SAME_LAYOUT(casty_member_joined);
SAME_LAYOUT(casty_member_left);
SAME_LAYOUT(casty_member_downed);
SAME_LAYOUT(casty_member_removed);
SAME_LAYOUT(casty_unreachable_member);
SAME_LAYOUT(casty_reachable_member);

_Static_assert(sizeof(((casty_member_up *)0)->roles) >=
		       CST_ROLES_MAX * CST_ROLE_MAX,
	"every role and a comma or the NUL after each fit an event");

static void
fill_event(casty_member_up *e, const cst_member *m)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->system, sizeof(e->system), "%s", m->address.system);
	snprintf(e->host, sizeof(e->host), "%s", m->address.host);
	e->port = m->address.port;
	e->incarnation = m->address.uid;
	size_t at = 0;
	for (uint32_t i = 0; i < m->roles.n; i++) {
		size_t len = strlen(m->roles.name[i]);
		if (i > 0) {
			e->roles[at++] = ',';
		}
		memcpy(e->roles + at, m->roles.name[i], len);
		at += len;
	}
}

static void
publish_leader(cst_event_stream *es, const cst_membership_event *e)
{
	if (!cst_events_wanted(es, CST_EV_LEADER_CHANGED)) {
		return;
	}
	casty_leader_changed ev;
	memset(&ev, 0, sizeof ev);
	ev.has_leader = e->member.address.port != 0;
	if (ev.has_leader) {
		casty_member_up m;
		fill_event(&m, &e->member);
		memcpy(ev.system, m.system, sizeof ev.system);
		memcpy(ev.host, m.host, sizeof ev.host);
		ev.port = m.port;
		ev.incarnation = m.incarnation;
		memcpy(ev.roles, m.roles, sizeof ev.roles);
	}
	cst_events_publish(es, CST_EV_LEADER_CHANGED, &ev);
}

// The cluster has removed that run of a node: messages to its actors
// become dead letters here, and the transport stops trying to reach it
// (Akka's quarantine). A new run at the same address is a new member.
static void
forget(casty_cluster *c, const cst_address *a)
{
	if (cst_address_equal(a, &c->self)) {
		return;
	}
	cst_node_dir_mark_gone(c, a);
	cst_transport_forget(c->transport, a->host, a->port, a->uid);
}

static void
io_event(void *arg, const cst_membership_event *e)
{
	casty_cluster    *c = arg;
	cst_event_stream *es = &c->sys->events;
	enum cst_event_kind kind;
	switch (e->kind) {
	case CST_EVENT_MEMBER_JOINED:
		kind = CST_EV_MEMBER_JOINED;
		break;
	case CST_EVENT_MEMBER_UP:
		kind = CST_EV_MEMBER_UP;
		break;
	case CST_EVENT_MEMBER_LEFT:
		kind = CST_EV_MEMBER_LEFT;
		break;
	case CST_EVENT_MEMBER_DOWNED:
		kind = CST_EV_MEMBER_DOWNED;
		cst_remote_member_gone(c, &e->member.address);
		cst_node_watch_member_gone(c, &e->member.address);
		if (cst_address_equal(&e->member.address, &c->self)) {
			casty_log_warn(NULL, "cluster: %s:%u has been downed: it "
					     "takes no further part in the cluster",
				c->self.host, c->self.port);
		}
		break;
	case CST_EVENT_MEMBER_REMOVED:
		kind = CST_EV_MEMBER_REMOVED;
		cst_node_watch_member_gone(c, &e->member.address);
		forget(c, &e->member.address);
		break;
	case CST_EVENT_UNREACHABLE_MEMBER:
		kind = CST_EV_UNREACHABLE_MEMBER;
		break;
	case CST_EVENT_REACHABLE_MEMBER:
		kind = CST_EV_REACHABLE_MEMBER;
		break;
	case CST_EVENT_LEADER_CHANGED:
		publish_leader(es, e);
		return;
	default:
		return;
	}
	if (cst_events_wanted(es, kind)) {
		casty_member_up ev;
		fill_event(&ev, &e->member);
		cst_events_publish(es, kind, &ev);
	}
}

static void
io_log(void *arg, casty_log_level level, const char *text)
{
	(void)arg;
	casty_log_write(NULL, level, "%s", text);
}

int
cst_node_membership_new(casty_cluster *c, const cst_membership_config *cfg)
{
	cst_membership_io io = {
		.send = io_send,
		.changed = io_changed,
		.event = io_event,
		.log = io_log,
		.arg = c,
	};
	return cst_membership_new(cfg, &io, &c->membership);
}

static void
handle_frames(casty_cluster *c)
{
	cst_inbox_frame *f = cst_node_take_inbox(c);
	uint64_t         now = cst_node_now_ms();
	while (f != NULL) {
		if (cst_node_watch_is_kind(f->kind)) {
			cst_node_watch_frame(c, &f->peer, f->incarnation, f->kind,
				f->body, f->len);
		} else {
			cst_membership_frame(c->membership, now, f->peer.host,
				f->peer.port, f->incarnation, f->kind, f->body,
				f->len);
		}
		cst_inbox_frame *next = f->next;
		free(f);
		f = next;
	}
}

static casty_behavior
node_receive(casty_ctx *ctx, const void *state, const casty_msg *msg)
{
	casty_cluster *c = *(casty_cluster *const *)state;
	c->ctx = ctx; // for the death watches that membership events end
	if (msg->type == &cst_node_wake__type) {
		handle_frames(c);
	} else if (msg->type == &node_tick__type) {
		const node_tick *t = (const node_tick *)(const void *)msg->payload;
		cst_membership_timer_fired(c->membership,
			(cst_membership_timer)t->what, cst_node_now_ms());
	} else if (msg->type == &cst_identified__type) {
		cst_remote_identified(
			c, (const cst_identified *)(const void *)msg->payload);
	} else if (msg->type == &cst_node_watch__type) {
		cst_node_watch_request(
			c, (const cst_node_watch *)(const void *)msg->payload);
	} else if (msg->type == &casty_terminated__type) {
		cst_node_watch_terminated(
			c, (const casty_terminated *)(const void *)msg->payload);
	} else if (msg->type == &cst_node_leave__type) {
		cst_membership_leave(c->membership, cst_node_now_ms());
	} else if (msg->type == &cst_node_stop__type) {
		// The last touch of c: stop frees it once it sees done.
		pthread_mutex_lock(&c->lock);
		c->actor_done = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		return casty_stopped();
	} else {
		return casty_unhandled();
	}
	return casty_same();
}

static int
start_timer(casty_ctx *ctx, const char *key, cst_membership_timer what,
	int64_t ms)
{
	node_tick t = {.what = (int32_t)what};
	return casty_ctx_timer_msg(
		ctx, key, &node_tick__type, CASTY_TAG_UNKNOWN, &t, ms, ms);
}

static casty_behavior
node_setup(casty_ctx *ctx, const void *state)
{
	casty_cluster *c = *(casty_cluster *const *)state;
	c->ctx = ctx;
	start_timer(ctx, "gossip", CST_MEMBERSHIP_GOSSIP,
		ms_of(c->gossip.interval));
	start_timer(ctx, "heartbeat", CST_MEMBERSHIP_HEARTBEAT,
		ms_of(c->heartbeat.interval));
	start_timer(ctx, "check", CST_MEMBERSHIP_CHECK,
		ms_of(c->heartbeat.availability_check_interval));
	cst_membership_start(c->membership, cst_node_now_ms());
	return casty_receive(node_receive, &c, sizeof c);
}

int
cst_node_spawn(casty_cluster *c, casty_ref *out)
{
	return casty_spawn_untyped(c->sys, NULL, &node_protocol,
		casty_setup(node_setup, &c, sizeof c), "_cluster", out);
}
