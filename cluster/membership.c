// cluster/membership.c: one node's membership protocol (membership.h).
// The functions it strings together are the member table's
// (member_table.c, member_leader.c, member_events.c), the phi detectors'
// (phi.c) and the split-brain resolver's (downing.c); this file decides
// when each runs and what goes on the wire.
#include "cluster/membership.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUSAL_MAX 200 // the text of a JOIN_REFUSED
#define TRACKED_SEEDS 64 // seeds whose "not a member" is remembered
#define CONTACTS      8  // members that said "a cluster is here"

// A member, not a seed, that told this node a cluster is there.
typedef struct contact {
	char     host[CST_ADDRESS_HOST_MAX];
	uint16_t port;
	uint64_t heard_ms;
} contact;

struct cst_membership {
	cst_membership_config cfg;
	cst_membership_io     io;
	cst_member_table      table;
	cst_member_table      published; // as of the last events
	cst_member_table      incoming;  // a decoded gossip
	cst_member_events     events;
	cst_phi_registry      fd;
	cst_downing           downing;
	uint32_t              next_peer; // round-robin gossip cursor
	bool                  joined;    // self is in table
	bool                  founder;   // the first seed: may join itself
	uint64_t              start_ms;
	uint64_t              nacked; // bit i: seed i is not a member yet
	contact               contact[CONTACTS];
	uint32_t              ncontacts;
	bool                  has_leader; // as last published
	cst_address           leader;
	char                  refusal[REFUSAL_MAX + 1]; // the last one logged
	uint8_t               join[CST_JOIN_MAX];       // the request
	size_t                join_len;
	uint8_t              *wire; // encode buffer
	size_t                wire_cap;
};

static const uint8_t no_body[1];

bool
cst_membership_is_kind(uint8_t kind)
{
	switch (kind) {
	case CST_KIND_GOSSIP:
	case CST_KIND_HEARTBEAT:
	case CST_KIND_HEARTBEAT_ACK:
	case CST_KIND_JOIN:
	case CST_KIND_GOSSIP_REPLY:
	case CST_KIND_JOIN_NACK:
	case CST_KIND_JOIN_REFUSED:
	case CST_KIND_CLUSTER_HERE:
		return true;
	default:
		return false;
	}
}

const char *
cst_membership_check_frame(
    uint8_t kind, const uint8_t *body, size_t len, const char **detail)
{
	cst_roles roles;
	*detail = "";
	switch (kind) {
	case CST_KIND_JOIN:
		return cst_join_decode(body, len, &roles, detail) == 0
		           ? NULL
		           : "bad join request";
	case CST_KIND_HEARTBEAT:
	case CST_KIND_HEARTBEAT_ACK:
	case CST_KIND_JOIN_NACK:
		*detail = "it must be empty";
		return len == 0 ? NULL : "bad membership frame";
	case CST_KIND_CLUSTER_HERE:
		*detail = "it must be two bytes, the first 0 or 1";
		return len == 2 && body[0] <= CST_HERE_ANSWER
		           ? NULL
		           : "bad membership frame";
	case CST_KIND_JOIN_REFUSED:
		*detail = "its text is too long";
		return len <= REFUSAL_MAX ? NULL : "bad join refusal";
	default:
		return NULL; // gossip is decoded, and checked, by the machine
	}
}

static void __attribute__((format(printf, 3, 4)))
say(cst_membership *m, casty_log_level level, const char *fmt, ...)
{
	if (m->io.log == NULL) {
		return;
	}
	char    line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	m->io.log(m->io.arg, level, line);
}

static bool
is_gone(cst_member_status s)
{
	return s == CST_MEMBER_DOWN || s == CST_MEMBER_REMOVED;
}

static int
self_index(const cst_membership *m)
{
	return cst_member_table_find(&m->table, &m->cfg.self);
}

static void
send_to(cst_membership *m, const char *host, uint16_t port, uint8_t kind,
    const void *body, size_t len)
{
	m->io.send(m->io.arg, host, port, kind, len != 0 ? body : no_body, len);
}

// Sends self's table to the node at host:port as kind (gossip or reply).
static void
send_table(cst_membership *m, const char *host, uint16_t port, uint8_t kind)
{
	size_t need = cst_gossip_encoded_size(&m->table);
	if (need > m->wire_cap) {
		uint8_t *w = realloc(m->wire, need);
		if (w == NULL) {
			return; // the next round tries again
		}
		m->wire     = w;
		m->wire_cap = need;
	}
	int64_t n = cst_gossip_encode(&m->table, m->wire, m->wire_cap);
	if (n < 0) {
		say(m, CASTY_LOG_ERROR, "cluster: cannot encode gossip: %d",
		    (int)n);
		return;
	}
	send_to(m, host, port, kind, m->wire, (size_t)n);
}

static bool
same_endpoint(const char *host, uint16_t port, const casty_node_address *a)
{
	return a->port == port && strcmp(a->host, host) == 0;
}

static bool
is_self_seed(const cst_membership *m, const casty_node_address *a)
{
	return same_endpoint(m->cfg.self.host, m->cfg.self.port, a);
}

int
cst_membership_new(const cst_membership_config *cfg,
    const cst_membership_io *io, cst_membership **out)
{
	if (cst_downing_config_check(&cfg->downing) != 0 ||
	    cfg->fanout == 0 || io->send == NULL) {
		return -EINVAL;
	}
	cst_membership *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	m->cfg = *cfg;
	m->io  = *io;
	int64_t n = cst_join_encode(&cfg->roles, m->join, sizeof m->join);
	int     rc = n < 0 ? (int)n
	                   : cst_phi_registry_init(&m->fd, &cfg->failure_detector);
	if (rc != 0) {
		free(m);
		return rc;
	}
	m->join_len = (size_t)n;
	cst_member_table_init(&m->table);
	cst_member_table_init(&m->published);
	m->founder = cfg->nseeds == 0 || is_self_seed(m, &cfg->seeds[0]);
	*out       = m;
	return 0;
}

void
cst_membership_free(cst_membership *m)
{
	if (m != NULL) {
		cst_phi_registry_fini(&m->fd);
		free(m->wire);
		free(m);
	}
}

const cst_member_table *
cst_membership_table(const cst_membership *m)
{
	return &m->table;
}

bool
cst_membership_joined(const cst_membership *m)
{
	return m->joined;
}

bool
cst_membership_is_out(const cst_membership *m)
{
	int k = self_index(m);
	return m->joined && (k < 0 || is_gone(m->table.member[k].status));
}

int
cst_membership_leader(const cst_membership *m)
{
	return cst_member_table_leader(&m->table, &m->cfg.self);
}

// Joins member to the table with roles (cst_member_table_join takes them
// as strings).
static int
join_with_roles(cst_membership *m, const cst_address *member,
    const cst_roles *roles)
{
	const char *names[CST_ROLES_MAX];
	for (uint32_t i = 0; i < roles->n; i++) {
		names[i] = roles->name[i];
	}
	return cst_member_table_join(
	    &m->table, &m->cfg.self, member, names, roles->n);
}

static void
found(cst_membership *m)
{
	if (join_with_roles(m, &m->cfg.self, &m->cfg.roles) == 0) {
		m->joined = true;
		say(m, CASTY_LOG_INFO, "cluster: %s:%u founds the cluster",
		    m->cfg.self.host, m->cfg.self.port);
	}
}

// Whether a member said a cluster is there within the seed timeout.
static bool
has_contact(const cst_membership *m, uint64_t now_ms)
{
	for (uint32_t i = 0; i < m->ncontacts; i++) {
		if (now_ms - m->contact[i].heard_ms < CST_SEED_NODE_TIMEOUT_MS) {
			return true;
		}
	}
	return false;
}

// The first seed founds the cluster only when no other seed can admit
// it: every other seed said it is not a member, or none answered within
// the seed timeout; and no member said a cluster is here. Otherwise a
// restarted first seed would found a second cluster beside the one the
// others still form.
static bool
may_found(const cst_membership *m, uint64_t now_ms)
{
	if (!m->founder || has_contact(m, now_ms)) {
		return false;
	}
	if (now_ms - m->start_ms >= CST_SEED_NODE_TIMEOUT_MS) {
		return true;
	}
	for (size_t i = 0; i < m->cfg.nseeds; i++) {
		if (!is_self_seed(m, &m->cfg.seeds[i]) &&
		    (i >= TRACKED_SEEDS || !((m->nacked >> i) & 1))) {
			return false;
		}
	}
	return true;
}

static void
ask_to_join(cst_membership *m, uint64_t now_ms)
{
	if (may_found(m, now_ms)) {
		found(m);
		return;
	}
	for (size_t i = 0; i < m->cfg.nseeds; i++) {
		const casty_node_address *s = &m->cfg.seeds[i];
		if (!is_self_seed(m, s)) {
			send_to(m, s->host, s->port, CST_KIND_JOIN, m->join,
			    m->join_len);
		}
	}
	for (uint32_t i = 0; i < m->ncontacts; i++) {
		if (now_ms - m->contact[i].heard_ms < CST_SEED_NODE_TIMEOUT_MS) {
			send_to(m, m->contact[i].host, m->contact[i].port,
			    CST_KIND_JOIN, m->join, m->join_len);
		}
	}
}

// Whether a member at host:port is alive in self's table.
static bool
live_at(const cst_membership *m, const char *host, uint16_t port)
{
	for (uint32_t k = 0; k < m->table.nmembers; k++) {
		const cst_member *mk = &m->table.member[k];
		if (!is_gone(mk->status) && mk->address.port == port &&
		    strcmp(mk->address.host, host) == 0) {
			return true;
		}
	}
	return false;
}

static void gossip_to_all(cst_membership *m);

// The index of the first seed alive in self's table (self counts), or
// CST_HERE_NO_SEED.
static uint8_t
first_live_seed(const cst_membership *m)
{
	for (size_t i = 0; i < m->cfg.nseeds && i < CST_HERE_NO_SEED; i++) {
		const casty_node_address *s = &m->cfg.seeds[i];
		if (is_self_seed(m, s) || live_at(m, s->host, s->port)) {
			return (uint8_t)i;
		}
	}
	return CST_HERE_NO_SEED;
}

static void
send_here(cst_membership *m, const char *host, uint16_t port, uint8_t what)
{
	uint8_t body[2] = {what, first_live_seed(m)};
	send_to(m, host, port, CST_KIND_CLUSTER_HERE, body, sizeof body);
}

// A member of another cluster says it is there, and which seed is in
// it. The cluster with the earlier seed is the one that stays: the
// seeds are where new and restarted nodes join, the first of them the
// only one that may found, so a cluster without that seed (what is left
// of one whose seeds restarted, a node paused while the rest moved on)
// would go on beside it forever. Self ends a cluster that loses (every
// member down), and its nodes rejoin through the seeds when restarted;
// one that wins answers, so that the other side learns it lost.
static void
on_cluster_elsewhere(cst_membership *m, const char *host, uint16_t port,
    uint8_t what, uint8_t their_seed)
{
	if (cst_membership_is_out(m) || live_at(m, host, port)) {
		return;
	}
	uint8_t mine = first_live_seed(m);
	if (their_seed >= mine) {
		if (what == CST_HERE_TELL) {
			send_here(m, host, port, CST_HERE_ANSWER);
		}
		return;
	}
	say(m, CASTY_LOG_WARN, "cluster: %s:%u is in another cluster, with an "
	    "earlier seed; this one, of %s:%u, ends so that its nodes join "
	    "that one", host, port, m->cfg.self.host, m->cfg.self.port);
	// The whole cluster goes, at once: one member at a time, each as
	// it happens to hear of the other, would leave joiners orphaned
	// and take a round of restarts per member.
	for (uint32_t k = 0; k < m->table.nmembers; k++) {
		cst_address a = m->table.member[k].address;
		if (!is_gone(m->table.member[k].status)) {
			cst_member_table_down(&m->table, &m->cfg.self, &a);
		}
	}
	gossip_to_all(m);
}

// A member says a cluster is there: ask it too, and found none while it
// keeps saying so. The oldest contact makes room for a new one.
static void
on_cluster_here(cst_membership *m, const char *host, uint16_t port,
    const uint8_t *body, uint64_t now_ms)
{
	if (m->joined) {
		on_cluster_elsewhere(m, host, port, body[0], body[1]);
		return;
	}
	uint32_t k = 0;
	for (; k < m->ncontacts; k++) {
		if (m->contact[k].port == port &&
		    strcmp(m->contact[k].host, host) == 0) {
			break;
		}
	}
	if (k == m->ncontacts) {
		if (m->ncontacts < CONTACTS) {
			m->ncontacts++;
		} else {
			k = 0;
			for (uint32_t i = 1; i < CONTACTS; i++) {
				if (m->contact[i].heard_ms < m->contact[k].heard_ms) {
					k = i;
				}
			}
		}
		snprintf(m->contact[k].host, sizeof m->contact[k].host, "%s",
		    host);
		m->contact[k].port = port;
	}
	m->contact[k].heard_ms = now_ms;
	send_to(m, host, port, CST_KIND_JOIN, m->join, m->join_len);
}

// Seeds where no live member is are told that this cluster is here: a
// seed restarted after the rest of its cluster was downed would
// otherwise found a second cluster (or join one that the first seed
// founded) while this one goes on without it.
static void
tell_seeds(cst_membership *m)
{
	for (size_t i = 0; i < m->cfg.nseeds; i++) {
		const casty_node_address *s    = &m->cfg.seeds[i];
		bool                      live = is_self_seed(m, s);
		for (uint32_t k = 0; !live && k < m->table.nmembers; k++) {
			const cst_member *mk = &m->table.member[k];
			live = !is_gone(mk->status) &&
			       same_endpoint(mk->address.host, mk->address.port, s);
		}
		if (!live) {
			send_here(m, s->host, s->port, CST_HERE_TELL);
		}
	}
}

// A peer worth gossiping to: another member, alive (or just downed, when
// with_downed: it must learn that it is down), and heard by self.
static bool
gossip_candidate(const cst_membership *m, int me, uint32_t k, bool with_downed)
{
	const cst_member *mk = &m->table.member[k];
	bool alive = with_downed ? mk->status != CST_MEMBER_REMOVED
	                         : !is_gone(mk->status);
	return (int)k != me && alive &&
	       !cst_member_table_observes_unreachable(
	           &m->table, (uint32_t)me, k);
}

// Up to fanout peers, those that have not seen this version first, both
// in round-robin order so that every peer is reached in turn.
static void
gossip_round(cst_membership *m)
{
	const cst_member_table *t     = &m->table;
	uint32_t                count = t->nmembers;
	int                     me    = self_index(m);
	if (count == 0 || me < 0) {
		return;
	}
	cst_member_set chosen = {{0}};
	uint32_t       sent   = 0;
	uint32_t       start  = m->next_peer++ % count;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t step = 0; step < count && sent < m->cfg.fanout;
		     step++) {
			uint32_t k    = (start + step) % count;
			bool     seen = cst_member_table_has_seen(t, k);
			if (cst_member_set_has(&chosen, k) ||
			    !gossip_candidate(m, me, k, false) ||
			    (pass == 0 && seen)) {
				continue;
			}
			cst_member_set_add(&chosen, k);
			sent++;
			const cst_address *a = &t->member[k].address;
			send_table(m, a->host, a->port, CST_KIND_GOSSIP);
		}
	}
}

// Everyone self hears gets the table now, the members it just downed
// too: a downing decision must reach this side before its leader,
// perhaps downed by it, falls silent (after a down-all nobody is alive
// in the table, and the rest of the side would carry on without it).
static void
gossip_to_all(cst_membership *m)
{
	int me = self_index(m);
	for (uint32_t k = 0; me >= 0 && k < m->table.nmembers; k++) {
		if (gossip_candidate(m, me, k, true)) {
			const cst_address *a = &m->table.member[k].address;
			send_table(m, a->host, a->port, CST_KIND_GOSSIP);
		}
	}
}

static void
heartbeat_round(cst_membership *m)
{
	const cst_member_table *t = &m->table;
	for (uint32_t k = 0; k < t->nmembers; k++) {
		const cst_member *mk = &t->member[k];
		if (!cst_address_equal(&mk->address, &m->cfg.self) &&
		    !is_gone(mk->status)) {
			send_to(m, mk->address.host, mk->address.port,
			    CST_KIND_HEARTBEAT, NULL, 0);
		}
	}
}

static void
availability_check(cst_membership *m, uint64_t now_ms)
{
	cst_member_table *t = &m->table;
	for (uint32_t k = 0; k < t->nmembers; k++) {
		const cst_member *mk = &t->member[k];
		if (cst_address_equal(&mk->address, &m->cfg.self)) {
			continue;
		}
		cst_address subject = mk->address; // mk moves if the table does
		if (is_gone(mk->status)) {
			cst_phi_registry_unwatch(&m->fd, &subject);
			continue;
		}
		if (cst_phi_registry_watch(&m->fd, &subject, now_ms) != 0) {
			continue;
		}
		if (cst_phi_registry_is_available(&m->fd, &subject, now_ms)) {
			cst_member_table_mark_reachable(t, &m->cfg.self, &subject);
		} else {
			cst_member_table_mark_unreachable(
			    t, &m->cfg.self, &subject);
		}
	}
}

// static-quorum's limit: a cluster of 2 * quorum members could split into
// two halves that each have a quorum. A restarted node replacing its
// old incarnation does not grow the cluster.
static const char *
join_refusal(const cst_membership *m, const cst_address *joiner)
{
	const casty_downing_config *d = &m->cfg.downing;
	if (d->strategy != CASTY_DOWNING_STATIC_QUORUM) {
		return NULL;
	}
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->table.nmembers; i++) {
		const cst_member *mi = &m->table.member[i];
		if (!is_gone(mi->status) &&
		    !cst_address_same_endpoint(&mi->address, joiner)) {
			n++;
		}
	}
	if (n + 1 > 2 * d->quorum_size - 1) {
		return "the cluster is full: static-quorum with quorum-size q "
		       "allows at most 2q-1 members";
	}
	return NULL;
}

static void
on_join(cst_membership *m, const char *host, uint16_t port,
    const cst_address *joiner, const uint8_t *body, size_t len)
{
	if (!m->joined) {
		// Lets a first seed that asks know it may found the cluster.
		send_to(m, host, port, CST_KIND_JOIN_NACK, NULL, 0);
		return;
	}
	if (cst_membership_is_out(m)) {
		return;
	}
	cst_roles roles;
	if (cst_join_decode(body, len, &roles, NULL) != 0) {
		return; // checked before it was queued
	}
	const char *refusal = join_refusal(m, joiner);
	if (refusal != NULL) {
		say(m, CASTY_LOG_WARN, "cluster: join of %s:%u refused: %s", host,
		    port, refusal);
		send_to(m, host, port, CST_KIND_JOIN_REFUSED, refusal,
		    strlen(refusal));
		return;
	}
	int rc = join_with_roles(m, joiner, &roles);
	if (rc != 0) {
		say(m, CASTY_LOG_WARN, "cluster: cannot admit %s:%u: %d", host,
		    port, rc);
		return;
	}
	// Also when it was a member already: its first gossip may be lost.
	send_table(m, host, port, CST_KIND_GOSSIP);
}

static void
on_join_nack(cst_membership *m, const char *host, uint16_t port,
    uint64_t now_ms)
{
	if (m->joined || !m->founder) {
		return;
	}
	for (size_t i = 0; i < m->cfg.nseeds && i < TRACKED_SEEDS; i++) {
		if (same_endpoint(host, port, &m->cfg.seeds[i])) {
			m->nacked |= 1ull << i;
		}
	}
	if (may_found(m, now_ms)) {
		found(m);
	}
}

static void
on_join_refused(cst_membership *m, const char *host, uint16_t port,
    const uint8_t *body, size_t len)
{
	if (m->joined) {
		return;
	}
	char why[REFUSAL_MAX + 1];
	memcpy(why, body, len);
	why[len] = '\0';
	// Once per reason: the request is repeated every gossip interval.
	if (strcmp(why, m->refusal) != 0) {
		memcpy(m->refusal, why, len + 1);
		say(m, CASTY_LOG_ERROR, "cluster: %s:%u refuses to admit %s:%u: %s",
		    host, port, m->cfg.self.host, m->cfg.self.port, why);
	}
}

static void
on_gossip(cst_membership *m, const char *host, uint16_t port, uint8_t kind,
    const uint8_t *body, size_t len)
{
	const char *why = NULL;
	if (cst_gossip_decode(body, len, &m->incoming, &why) != 0) {
		say(m, CASTY_LOG_WARN, "cluster: bad gossip from %s:%u: %s", host,
		    port, why != NULL ? why : "?");
		return;
	}
	// Gossip that does not name self is not for this node (it has not
	// been admitted yet, or it was removed).
	if (cst_member_table_find(&m->incoming, &m->cfg.self) < 0) {
		return;
	}
	int order =
	    cst_member_table_receive(&m->table, &m->incoming, &m->cfg.self);
	if (order < 0) {
		say(m, CASTY_LOG_WARN, "cluster: cannot merge gossip: %d", order);
		return;
	}
	m->joined = true;
	// The same version is answered too when self knows of members that
	// have seen it and the sender did not: otherwise a node whose seen
	// set lags (one back from a pause) only learns them when others
	// happen to pick it, and the leader, if it is that node, waits.
	if (kind == CST_KIND_GOSSIP &&
	    (order != CST_VCLOCK_SAME ||
	        !cst_member_set_equal(&m->incoming.seen, &m->table.seen))) {
		send_table(m, host, port, CST_KIND_GOSSIP_REPLY);
	}
}

static void
on_heartbeat_ack(cst_membership *m, const cst_address *from, uint64_t now_ms)
{
	int k = cst_member_table_find(&m->table, from);
	if (k >= 0 && !is_gone(m->table.member[k].status)) {
		cst_phi_registry_heartbeat(&m->fd, from, now_ms);
	}
}

static void
apply_downing(cst_membership *m, cst_downing_decision decision,
    const cst_member_set *down)
{
	char     list[384];
	size_t   at = 0;
	uint32_t n  = 0;
	list[0]     = '\0';
	for (uint32_t i = 0; i < m->table.nmembers; i++) {
		if (!cst_member_set_has(down, i)) {
			continue;
		}
		cst_address a = m->table.member[i].address;
		if (cst_member_table_down(&m->table, &m->cfg.self, &a) == 0) {
			n++;
			if (at < sizeof list) {
				at += (size_t)snprintf(list + at, sizeof list - at,
				    "%s%s:%u", at > 0 ? ", " : "", a.host, a.port);
			}
		}
	}
	if (n == 0) {
		return;
	}
	say(m, CASTY_LOG_WARN, "cluster: split-brain resolver (%s) on %s:%u: "
	    "%s: downing %s", casty_downing_strategy_name(m->cfg.downing.strategy),
	    m->cfg.self.host, m->cfg.self.port,
	    cst_downing_decision_name(decision), list);
	gossip_to_all(m);
}

static void
publish(cst_membership *m)
{
	if (cst_member_table_equal(&m->published, &m->table)) {
		return;
	}
	int leader = cst_member_table_leader(&m->table, &m->cfg.self);
	if (m->io.changed != NULL) {
		m->io.changed(m->io.arg, &m->table, leader);
	}
	cst_member_events_diff(
	    &m->published, &m->table, &m->cfg.self, &m->events);
	m->published = m->table;
	for (uint32_t i = 0; i < m->events.len && m->io.event != NULL; i++) {
		cst_membership_event e = {.kind = m->events.event[i].kind,
		    .member                     = m->events.event[i].member};
		m->io.event(m->io.arg, &e);
	}
	bool has = leader >= 0;
	if (has != m->has_leader ||
	    (has && !cst_address_equal(&m->table.member[leader].address,
	                &m->leader))) {
		m->has_leader = has;
		cst_membership_event e = {.kind = CST_EVENT_LEADER_CHANGED};
		if (has) {
			m->leader = m->table.member[leader].address;
			e.member  = m->table.member[leader];
		}
		if (m->io.event != NULL) {
			m->io.event(m->io.arg, &e);
		}
	}
}

// Another member at self's endpoint is an earlier run of this process:
// the running one is the newest. A join marks it down, but it can also
// arrive by gossip (two clusters that merge after a heal, one of which
// this run founded or joined while the other still had the old one up).
static void
down_older_selves(cst_membership *m)
{
	// Members are sorted by host, port, system, then uid: the runs at
	// self's endpoint sit next to self.
	int me = self_index(m);
	if (me < 0) {
		return;
	}
	for (int dir = -1; dir <= 1; dir += 2) {
		for (int k = me + dir; k >= 0 && k < (int)m->table.nmembers;
		     k += dir) {
			cst_address a = m->table.member[k].address;
			if (!cst_address_same_endpoint(&a, &m->cfg.self)) {
				break;
			}
			if (!is_gone(m->table.member[k].status)) {
				cst_member_table_down(&m->table, &m->cfg.self, &a);
			}
		}
	}
}

// After anything that may have changed the table.
static void
settle(cst_membership *m, uint64_t now_ms)
{
	if (m->joined && !cst_membership_is_out(m)) {
		int rc = cst_member_table_leader_actions(&m->table, &m->cfg.self);
		if (rc < 0) {
			say(m, CASTY_LOG_WARN, "cluster: leader actions failed: %d",
			    rc);
		}
		if (cst_member_table_orphaned(&m->table)) {
			// Admitted just before every member that was up went
			// down or away: nobody will move this node up, and
			// those members may form a new cluster that does not
			// know it. Out, so that a restart joins afresh.
			say(m, CASTY_LOG_WARN, "cluster: %s:%u joined a cluster whose "
			    "members are all down; it leaves too", m->cfg.self.host,
			    m->cfg.self.port);
			cst_member_table_down(&m->table, &m->cfg.self, &m->cfg.self);
			publish(m);
			return;
		}
		down_older_selves(m);
		int                  me = self_index(m);
		cst_member_set       down;
		cst_downing_decision decision;
		if (m->cfg.downing.strategy != CASTY_DOWNING_OFF &&
		    cst_downing_tick(&m->downing, &m->cfg.downing, &m->table, me,
		        now_ms, &down, &decision) &&
		    cst_member_table_leader(&m->table, &m->cfg.self) == me) {
			apply_downing(m, decision, &down);
		}
	}
	publish(m);
}

void
cst_membership_start(cst_membership *m, uint64_t now_ms)
{
	m->start_ms = now_ms;
	ask_to_join(m, now_ms); // now, not one interval later
	settle(m, now_ms);
}

// A frame from another run at the endpoint of a member that self cannot
// hear: that member's process is gone (the handshake proved the new
// run's uid), so it is down, as a join from the new run would have made
// it. Only a member self finds unreachable: a late frame of a dead run
// must not down the live one that replaced it. This is a fact, not a
// guess, so it needs no resolver; a node left alone by it in a cluster
// without seeds yields to the seeds' cluster (on_cluster_elsewhere).
static void
down_replaced(cst_membership *m, const cst_address *from)
{
	int me = self_index(m);
	if (me < 0 || cst_member_table_find(&m->table, from) >= 0) {
		return; // the usual case: a member self knows
	}
	for (uint32_t k = 0; k < m->table.nmembers; k++) {
		cst_address a = m->table.member[k].address;
		if (is_gone(m->table.member[k].status) || a.uid == from->uid ||
		    !cst_address_same_endpoint(&a, from) ||
		    !cst_member_table_observes_unreachable(
		        &m->table, (uint32_t)me, k)) {
			continue;
		}
		if (cst_member_table_down(&m->table, &m->cfg.self, &a) == 0) {
			say(m, CASTY_LOG_INFO, "cluster: %s:%u runs anew; its "
			    "earlier run is down", a.host, a.port);
		}
	}
}

void
cst_membership_frame(cst_membership *m, uint64_t now_ms, const char *host,
    uint16_t port, uint64_t incarnation, uint8_t kind, const uint8_t *body,
    size_t len)
{
	cst_address from;
	if (cst_address_init(&from, m->cfg.self.system, host, port, incarnation,
	        NULL) != 0) {
		return;
	}
	if (m->joined && !cst_membership_is_out(m)) {
		down_replaced(m, &from);
	}
	switch (kind) {
	case CST_KIND_JOIN:
		on_join(m, host, port, &from, body, len);
		break;
	case CST_KIND_JOIN_NACK:
		on_join_nack(m, host, port, now_ms);
		break;
	case CST_KIND_JOIN_REFUSED:
		on_join_refused(m, host, port, body, len);
		break;
	case CST_KIND_CLUSTER_HERE:
		on_cluster_here(m, host, port, body, now_ms);
		break;
	case CST_KIND_GOSSIP:
	case CST_KIND_GOSSIP_REPLY:
		on_gossip(m, host, port, kind, body, len);
		break;
	case CST_KIND_HEARTBEAT:
		// An out node falls silent: to the others it is gone.
		if (!cst_membership_is_out(m)) {
			send_to(m, host, port, CST_KIND_HEARTBEAT_ACK, NULL, 0);
		}
		break;
	case CST_KIND_HEARTBEAT_ACK:
		on_heartbeat_ack(m, &from, now_ms);
		break;
	default:
		return; // not a membership frame
	}
	settle(m, now_ms);
}

void
cst_membership_timer_fired(
    cst_membership *m, cst_membership_timer timer, uint64_t now_ms)
{
	if (cst_membership_is_out(m)) {
		return;
	}
	switch (timer) {
	case CST_MEMBERSHIP_GOSSIP:
		if (!m->joined) {
			ask_to_join(m, now_ms);
		} else {
			gossip_round(m);
			// One member per cluster is enough, and a seed gone
			// for good costs one dial a round, not one per member.
			if (cst_membership_leader(m) == self_index(m)) {
				tell_seeds(m);
			}
		}
		break;
	case CST_MEMBERSHIP_HEARTBEAT:
		heartbeat_round(m);
		break;
	case CST_MEMBERSHIP_CHECK:
		availability_check(m, now_ms);
		break;
	}
	settle(m, now_ms);
}

void
cst_membership_leave(cst_membership *m, uint64_t now_ms)
{
	if (!m->joined || cst_membership_is_out(m)) {
		return;
	}
	cst_member_table_leave(&m->table, &m->cfg.self, &m->cfg.self);
	settle(m, now_ms);
	gossip_round(m);
}
