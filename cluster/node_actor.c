// cluster/node_actor.c: the "_cluster" actor, which owns the membership
// of its node. It is driven by three actor timers and by the inbox the
// transport fills:
//   gossip    every gossip.interval: join requests until a member, else
//             push-pull gossip to up to fanout peers (members that have
//             not seen this version first), then leader actions;
//   heartbeat every heartbeat.interval: a heartbeat to every live member,
//             whose replies feed the phi accrual detectors;
//   check     every heartbeat.availability_check_interval: members the
//             detector gives up on are marked unreachable, recovered ones
//             reachable again.
// After anything that may change the table, the leader acts (it is a
// no-op unless self leads), the difference to the last published table
// becomes events on the system stream, and the snapshot is refreshed.
// The order and the functions are those of tests/cluster/
// test_membership_sim.c, over the real transport and clock.
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cluster/gossip_codec.h"
#include "cluster/node.h"
#include "cluster/node_directory.h"
#include "cluster/remote.h"
#include "runtime/events.h"
#include "runtime/msg.h"
#include "runtime/system.h"

typedef struct node_tick {
	int32_t what;
} node_tick;

enum { TICK_GOSSIP, TICK_HEARTBEAT, TICK_CHECK };

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

// Spawning needs a protocol; every message of this actor is internal and
// reaches the handler without one.
static const casty_msg_type *const node_types[] = {&node_tick__type};
static const casty_protocol         node_protocol = {
	"cst_cluster_node", 1, node_types};

static const uint8_t no_body[1];

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

static int64_t
ms_of(double seconds)
{
	int64_t ms = (int64_t)(seconds * 1000.0);
	return ms > 0 ? ms : 1;
}

static void
send_to(casty_cluster *c, const char *host, uint16_t port, uint8_t kind,
	const void *body, size_t len)
{
	int rc = cst_transport_send(c->transport, host, port, kind,
		len != 0 ? body : no_body, len);
	if (rc != 0 && rc != CASTY_ESTOPPED) {
		casty_log_warn(NULL, "cluster: send of kind %u to %s:%u failed: %d",
			kind, host, port, rc);
	}
}

// Sends self's table to peer as kind (gossip or its reply).
static void
send_table(casty_cluster *c, const char *host, uint16_t port, uint8_t kind)
{
	cst_node_state *st = c->state;
	size_t          need = cst_gossip_encoded_size(&st->table);
	if (need > st->wire_cap) {
		uint8_t *w = realloc(st->wire, need);
		if (w == NULL) {
			return; // the next round tries again
		}
		st->wire = w;
		st->wire_cap = need;
	}
	int64_t n = cst_gossip_encode(&st->table, st->wire, st->wire_cap);
	if (n < 0) {
		casty_log_error(NULL, "cluster: cannot encode gossip: %d", (int)n);
		return;
	}
	send_to(c, host, port, kind, st->wire, (size_t)n);
}

static bool
peer_address(casty_cluster *c, const cst_peer_addr *peer,
	uint64_t incarnation, cst_address *out)
{
	return cst_address_init(out, c->self.system, peer->host, peer->port,
		       incarnation, NULL) == 0;
}

static bool
is_self(casty_cluster *c, const cst_member *m)
{
	return cst_address_equal(&m->address, &c->self);
}

// A peer worth gossiping to: another member, alive and reachable.
static bool
gossip_candidate(casty_cluster *c, uint32_t k)
{
	const cst_member *m = &c->state->table.member[k];
	return !is_self(c, m) && !is_gone(m->status) &&
	       !cst_member_table_is_unreachable(&c->state->table, k);
}

// Up to fanout peers, those that have not seen this version first, both
// in round-robin order so that every peer is reached in turn.
static void
gossip_round(casty_cluster *c)
{
	cst_node_state *st = c->state;
	uint32_t        count = st->table.nmembers;
	uint32_t        sent = 0;
	uint64_t        chosen = 0;
	if (count == 0) {
		return;
	}
	uint32_t start = st->next_peer++ % count;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t step = 0; step < count && sent < c->gossip.fanout;
		     step++) {
			uint32_t k = (start + step) % count;
			bool     seen = cst_member_table_has_seen(&st->table, k);
			if ((chosen & (1ull << k)) || !gossip_candidate(c, k) ||
			    (pass == 0 && seen)) {
				continue;
			}
			chosen |= 1ull << k;
			sent++;
			const cst_address *a = &st->table.member[k].address;
			send_table(c, a->host, a->port, CST_KIND_GOSSIP);
		}
	}
}

static void
heartbeat_round(casty_cluster *c)
{
	const cst_member_table *t = &c->state->table;
	for (uint32_t k = 0; k < t->nmembers; k++) {
		const cst_member *m = &t->member[k];
		if (!is_self(c, m) && !is_gone(m->status)) {
			send_to(c, m->address.host, m->address.port,
				CST_KIND_HEARTBEAT, NULL, 0);
		}
	}
}

static void
availability_check(casty_cluster *c, uint64_t now)
{
	cst_node_state *st = c->state;
	for (uint32_t k = 0; k < st->table.nmembers; k++) {
		const cst_member *m = &st->table.member[k];
		if (is_self(c, m)) {
			continue;
		}
		cst_address subject = m->address; // m moves if the table does
		if (is_gone(m->status)) {
			cst_phi_registry_unwatch(&st->fd, &subject);
			continue;
		}
		if (cst_phi_registry_watch(&st->fd, &subject, now) != 0) {
			continue;
		}
		if (cst_phi_registry_is_available(&st->fd, &subject, now)) {
			cst_member_table_mark_reachable(
				&st->table, &c->self, &subject);
		} else {
			cst_member_table_mark_unreachable(
				&st->table, &c->self, &subject, now);
		}
	}
}

// Joins member to t with roles, which cst_member_table_join takes as
// strings.
static int
join_with_roles(cst_member_table *t, const cst_address *self,
	const cst_address *member, const cst_roles *roles)
{
	const char *names[CST_ROLES_MAX];
	for (uint32_t i = 0; i < roles->n; i++) {
		names[i] = roles->name[i];
	}
	return cst_member_table_join(t, self, member, names, roles->n);
}

static void
on_join(casty_cluster *c, const cst_inbox_frame *f)
{
	cst_node_state *st = c->state;
	cst_address     joiner;
	cst_roles       roles;
	if (!st->joined || !peer_address(c, &f->peer, f->incarnation, &joiner)) {
		return; // not a member yet: it cannot admit anyone
	}
	// Checked on the reactor already (node.c), so this does not fail.
	if (cst_join_decode(f->body, f->len, &roles, NULL) != 0) {
		return;
	}
	int rc = join_with_roles(&st->table, &c->self, &joiner, &roles);
	if (rc != 0) {
		casty_log_warn(NULL, "cluster: cannot admit %s:%u: %d", f->peer.host,
			f->peer.port, rc);
		return;
	}
	// Also when it was a member already: its first gossip may be lost.
	send_table(c, f->peer.host, f->peer.port, CST_KIND_GOSSIP);
}

static void
on_gossip(casty_cluster *c, const cst_inbox_frame *f, uint64_t now)
{
	cst_node_state *st = c->state;
	const char     *why = NULL;
	if (cst_gossip_decode(f->body, f->len, now, &st->incoming, &why) != 0) {
		casty_log_warn(NULL, "cluster: bad gossip from %s:%u: %s",
			f->peer.host, f->peer.port, why != NULL ? why : "?");
		return;
	}
	// Gossip that does not name self is not for this node (it has not
	// been admitted yet, or it was removed).
	if (cst_member_table_find(&st->incoming, &c->self) < 0) {
		return;
	}
	int order = cst_member_table_receive(&st->table, &st->incoming,
		&c->self);
	if (order < 0) {
		casty_log_warn(NULL, "cluster: cannot merge gossip: %d", order);
		return;
	}
	st->joined = true;
	if (f->kind == CST_KIND_GOSSIP && order != CST_VCLOCK_SAME) {
		send_table(c, f->peer.host, f->peer.port, CST_KIND_GOSSIP_REPLY);
	}
}

static void
on_heartbeat_ack(casty_cluster *c, const cst_inbox_frame *f, uint64_t now)
{
	cst_node_state *st = c->state;
	cst_address     from;
	if (!peer_address(c, &f->peer, f->incarnation, &from)) {
		return;
	}
	int k = cst_member_table_find(&st->table, &from);
	if (k >= 0 && !is_gone(st->table.member[k].status)) {
		cst_phi_registry_heartbeat(&st->fd, &from, now);
	}
}

static void
handle_frames(casty_cluster *c)
{
	cst_inbox_frame *f = cst_node_take_inbox(c);
	uint64_t         now = cst_node_now_ms();
	while (f != NULL) {
		switch (f->kind) {
		case CST_KIND_JOIN:
			on_join(c, f);
			break;
		case CST_KIND_GOSSIP:
		case CST_KIND_GOSSIP_REPLY:
			on_gossip(c, f, now);
			break;
		case CST_KIND_HEARTBEAT:
			send_to(c, f->peer.host, f->peer.port,
				CST_KIND_HEARTBEAT_ACK, NULL, 0);
			break;
		case CST_KIND_HEARTBEAT_ACK:
			on_heartbeat_ack(c, f, now);
			break;
		default:
			break; // a later protocol's frame: not for membership
		}
		cst_inbox_frame *next = f->next;
		free(f);
		f = next;
	}
}

// publish_events fills every membership event as a casty_member_up.
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
SAME_LAYOUT(casty_member_left);
SAME_LAYOUT(casty_member_removed);
SAME_LAYOUT(casty_unreachable_member);
SAME_LAYOUT(casty_reachable_member);

_Static_assert(sizeof(((casty_member_up *)0)->roles) >=
		       CST_ROLES_MAX * CST_ROLE_MAX,
	"every role and a comma or the NUL after each fit an event");

static void
fill_event(void *ev, const cst_member *m)
{
	// The five event types share one layout (events.h).
	casty_member_up *e = ev;
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
publish_events(casty_cluster *c)
{
	cst_node_state   *st = c->state;
	cst_event_stream *es = &c->sys->events;
	cst_member_events_diff(&st->published, &st->table, &st->events);
	for (uint32_t i = 0; i < st->events.len; i++) {
		const cst_member_event *e = &st->events.event[i];
		enum cst_event_kind     kind;
		switch (e->kind) {
		case CST_EVENT_MEMBER_UP:
			kind = CST_EV_MEMBER_UP;
			break;
		case CST_EVENT_MEMBER_LEFT:
			kind = CST_EV_MEMBER_LEFT;
			break;
		case CST_EVENT_MEMBER_REMOVED:
			kind = CST_EV_MEMBER_REMOVED;
			forget(c, &e->member.address);
			break;
		case CST_EVENT_UNREACHABLE_MEMBER:
			kind = CST_EV_UNREACHABLE_MEMBER;
			break;
		case CST_EVENT_REACHABLE_MEMBER:
			kind = CST_EV_REACHABLE_MEMBER;
			break;
		default:
			continue; // joined, downed: not public events yet
		}
		if (cst_events_wanted(es, kind)) {
			casty_member_up ev;
			fill_event(&ev, &e->member);
			cst_events_publish(es, kind, &ev);
		}
	}
}

// After anything that may have changed the table.
static void
settle(casty_cluster *c)
{
	cst_node_state *st = c->state;
	if (st->joined) {
		cst_leader_policy policy = {.down_after_ms = c->down_after_ms};
		int               rc = cst_member_table_leader_actions(
                        &st->table, &c->self, cst_node_now_ms(), &policy);
		if (rc < 0) {
			casty_log_warn(NULL, "cluster: leader actions failed: %d", rc);
		}
	}
	if (cst_member_table_equal(&st->published, &st->table)) {
		return;
	}
	// The snapshot first: whoever sees an event then finds
	// casty_cluster_members at least as new.
	cst_node_publish_snapshot(c, &st->table);
	publish_events(c);
	st->published = st->table;
}

// A node the cluster has removed (after its leave) or downed is out for
// good: it falls silent rather than gossip a membership it has no part
// in. A restart, with a new incarnation, joins again.
static bool
is_out(casty_cluster *c)
{
	cst_node_state *st = c->state;
	int             k = cst_member_table_find(&st->table, &c->self);
	return st->joined && (k < 0 || is_gone(st->table.member[k].status));
}

static void
on_tick(casty_cluster *c, int32_t what)
{
	cst_node_state *st = c->state;
	if (is_out(c)) {
		return;
	}
	switch (what) {
	case TICK_GOSSIP:
		if (!st->joined) {
			for (size_t i = 0; i < c->nseeds; i++) {
				send_to(c, c->seeds[i].host, c->seeds[i].port,
					CST_KIND_JOIN, c->join, c->join_len);
			}
		} else {
			gossip_round(c);
		}
		break;
	case TICK_HEARTBEAT:
		heartbeat_round(c);
		break;
	case TICK_CHECK:
		availability_check(c, cst_node_now_ms());
		break;
	}
}

static casty_behavior
node_receive(casty_ctx *ctx, const void *state, const casty_msg *msg)
{
	(void)ctx;
	casty_cluster *c = *(casty_cluster *const *)state;
	if (msg->type == &cst_node_wake__type) {
		handle_frames(c);
	} else if (msg->type == &node_tick__type) {
		on_tick(c, ((const node_tick *)(const void *)msg->payload)->what);
	} else if (msg->type == &cst_identified__type) {
		cst_remote_identified(
			c, (const cst_identified *)(const void *)msg->payload);
		return casty_same();
	} else if (msg->type == &cst_node_leave__type) {
		if (c->state->joined) {
			cst_member_table_leave(&c->state->table, &c->self,
				&c->self);
			settle(c);
			gossip_round(c);
		}
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
	settle(c);
	return casty_same();
}

static int
start_timer(casty_ctx *ctx, const char *key, int32_t what, int64_t ms)
{
	node_tick t = {.what = what};
	return casty_ctx_timer_msg(
		ctx, key, &node_tick__type, CASTY_TAG_UNKNOWN, &t, ms, ms);
}

static casty_behavior
node_setup(casty_ctx *ctx, const void *state)
{
	casty_cluster *c = *(casty_cluster *const *)state;
	if (c->founder) {
		int rc = join_with_roles(
			&c->state->table, &c->self, &c->self, &c->roles);
		if (rc == 0) {
			c->state->joined = true;
		}
	}
	start_timer(ctx, "gossip", TICK_GOSSIP, ms_of(c->gossip.interval));
	start_timer(ctx, "heartbeat", TICK_HEARTBEAT,
		ms_of(c->heartbeat.interval));
	start_timer(ctx, "check", TICK_CHECK,
		ms_of(c->heartbeat.availability_check_interval));
	on_tick(c, TICK_GOSSIP); // ask to join now, not one interval later
	settle(c);
	return casty_receive(node_receive, &c, sizeof c);
}

int
cst_node_spawn(casty_cluster *c, casty_ref *out)
{
	return casty_spawn_untyped(c->sys, NULL, &node_protocol,
		casty_setup(node_setup, &c, sizeof c), "_cluster", out);
}
