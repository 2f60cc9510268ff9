// cluster/node.c: the public face of a cluster node (include/casty/
// cluster.h): start and stop, the transport's callbacks, which copy
// membership frames into the inbox and wake the actor (and hand frames
// for actors to cluster/remote.c; death watch frames go to the actor too),
// and the member snapshot the actor
// publishes for casty_cluster_members and the quorum wait.
#include "cluster/node.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cluster/node_watch.h"
#include "cluster/remote.h"
#include "runtime/msg.h"

#define DEFAULT_QUORUM_TIMEOUT_MS 30000
#define DEFAULT_MAX_PENDING 64 // Casty's max_pending_per_path
// How long stop waits for the actor to acknowledge; only an actor that
// has failed and stopped on its own fails to, and then stop goes on.
#define STOP_WAIT_MS 30000
// A connection whose sent data goes unacknowledged this long is closed
// and redialed. Without it, a connection across a partition backs its
// retransmissions off for minutes and carries nothing for tens of
// seconds after the heal; a peer that merely pauses (SIGSTOP) still has
// its kernel acknowledge, so this does not fire for it.
#define CST_NODE_USER_TIMEOUT_MS 4000

void
casty_cluster_options_init(casty_cluster_options *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->host, "127.0.0.1");
	o->gossip = (casty_gossip_config){.interval = 1.0, .fanout = 3};
	o->heartbeat = (casty_heartbeat_config){
		.interval = 0.5, .availability_check_interval = 0.5};
	o->failure_detector = (casty_failure_detector_config){
		.threshold = 8.0,
		.max_sample_size = 200,
		.min_std_deviation_ms = 100.0,
		.acceptable_heartbeat_pause_ms = 1500.0,
		.first_heartbeat_estimate_ms = 1000.0,
	};
	o->downing = (casty_downing_config){
		.strategy = CASTY_DOWNING_OFF,
		.down_all_when_unstable = true,
		.down_if_alone = true,
	};
	o->max_pending_per_node = DEFAULT_MAX_PENDING;
}

void
casty_cluster_options_from_config(
	const casty_config *config, casty_cluster_options *o)
{
	casty_cluster_options_init(o);
	if (config == NULL) {
		return;
	}
	const casty_cluster_config *c = casty_config_cluster(config);
	o->roles = c->roles;
	o->nroles = c->nroles;
	o->gossip = c->gossip;
	o->heartbeat = c->heartbeat;
	o->failure_detector = c->failure_detector;
	o->downing = c->downing;
	o->max_pending_per_node = casty_config_max_pending_per_path(config);
	if (c->enabled) {
		memcpy(o->host, c->host, sizeof o->host);
		o->port = c->port;
		o->seed_nodes = c->seed_nodes;
		o->nseed_nodes = c->nseed_nodes;
	}
}

uint64_t
cst_node_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
cst_node_deadline_after(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void
wake_actor(casty_ref actor)
{
	cst_deliver(actor.cell, cst_msg_new(&cst_node_wake__type,
					CASTY_TAG_UNKNOWN, NULL, actor.gen));
}

// Reactor thread: copy, queue, and wake the actor unless a wake is
// already on its way (the actor empties the whole inbox per wake). A
// frame is checked here first, so that a bad one closes the connection
// it came on.
static const char *
on_frame(void *arg, const cst_peer_addr *peer, uint64_t incarnation,
	uint8_t kind, const uint8_t *body, size_t len)
{
	casty_cluster *c = arg;
	if (cst_remote_is_kind(kind)) {
		// Messages for actors go to them straight from here.
		cst_remote_frame(c, peer, incarnation, kind, body, len);
		return NULL;
	}
	bool watch = cst_node_watch_is_kind(kind);
	if (!watch && !cst_membership_is_kind(kind)) {
		return NULL; // a later protocol's frame: not for this node
	}
	const char *detail = "the fields do not fit";
	const char *why = watch
		? cst_node_watch_check_frame(kind, body, len)
		: cst_membership_check_frame(kind, body, len, &detail);
	if (why != NULL) {
		casty_log_warn(NULL, "cluster: %s from %s:%u: %s", why,
			peer->host, peer->port, detail);
		return why;
	}
	cst_inbox_frame *f = malloc(sizeof(*f) + len);
	if (f == NULL) {
		return NULL; // as if lost with its connection: gossip repeats
	}
	f->next = NULL;
	f->peer = *peer;
	f->incarnation = incarnation;
	f->kind = kind;
	f->len = len;
	if (len != 0) {
		memcpy(f->body, body, len);
	}
	pthread_mutex_lock(&c->lock);
	if (c->inbox_tail != NULL) {
		c->inbox_tail->next = f;
	} else {
		c->inbox_head = f;
	}
	c->inbox_tail = f;
	bool      wake = !c->wake_sent;
	casty_ref actor = c->actor; // set under the lock by start
	c->wake_sent = true;
	pthread_mutex_unlock(&c->lock);
	if (wake) {
		wake_actor(actor);
	}
	return NULL;
}

// Reactor thread: a message the transport did not keep (see
// max_pending_per_node).
static void
on_dropped(void *arg, const cst_peer_addr *peer, uint8_t kind,
	const uint8_t *body, size_t len)
{
	if (kind == CST_KIND_MESSAGE) {
		cst_remote_dropped(arg, peer, body, len);
	}
}

cst_inbox_frame *
cst_node_take_inbox(casty_cluster *c)
{
	pthread_mutex_lock(&c->lock);
	cst_inbox_frame *f = c->inbox_head;
	c->inbox_head = c->inbox_tail = NULL;
	c->wake_sent = false;
	pthread_mutex_unlock(&c->lock);
	return f;
}

static void
free_frames(cst_inbox_frame *f)
{
	while (f != NULL) {
		cst_inbox_frame *next = f->next;
		free(f);
		f = next;
	}
}

static void
member_info(casty_member_info *o, const cst_member_table *t, uint32_t i,
	int self)
{
	const cst_member *m = &t->member[i];
	memset(o, 0, sizeof(*o));
	snprintf(o->system, sizeof(o->system), "%s", m->address.system);
	snprintf(o->host, sizeof(o->host), "%s", m->address.host);
	o->port = m->address.port;
	o->incarnation = m->address.uid;
	o->status = (casty_member_status)m->status;
	o->up_number = m->up_number;
	o->reachable = !cst_member_table_unreachable_for(t, self, i);
	o->nroles = m->roles.n;
	memcpy(o->roles, m->roles.name, sizeof(o->roles));
}

void
cst_node_publish_snapshot(casty_cluster *c, const cst_member_table *t,
	int leader)
{
	int self = cst_member_table_find(t, &c->self);
	pthread_mutex_lock(&c->lock);
	size_t   n = 0;
	uint32_t up = 0;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if (t->member[i].status == CST_MEMBER_REMOVED) {
			continue;
		}
		member_info(&c->snapshot[n++], t, i, self);
		up += t->member[i].status == CST_MEMBER_UP;
	}
	c->nsnapshot = n;
	c->nup = up;
	c->has_leader = leader >= 0;
	if (leader >= 0) {
		member_info(&c->leader, t, (uint32_t)leader, self);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

bool
cst_node_has_member_locked(const casty_cluster *c, const cst_address *a)
{
	for (size_t i = 0; i < c->nsnapshot; i++) {
		const casty_member_info *m = &c->snapshot[i];
		if (m->port == a->port && m->status < CASTY_MEMBER_DOWN &&
		    (a->uid == 0 || m->incarnation == a->uid) &&
		    strcmp(m->host, a->host) == 0 &&
		    strcmp(m->system, a->system) == 0) {
			return true;
		}
	}
	return false;
}

static bool
options_ok(const casty_cluster_options *o)
{
	if (o->nseed_nodes != 0 && o->seed_nodes == NULL) {
		return false;
	}
	if (o->secret_len > CST_HS_MAX_SECRET ||
	    (o->secret == NULL && o->secret_len != 0)) {
		return false;
	}
	if (!(o->gossip.interval > 0) || !(o->heartbeat.interval > 0) ||
	    !(o->heartbeat.availability_check_interval > 0) ||
	    o->gossip.fanout == 0) {
		return false;
	}
	if (memchr(o->host, '\0', sizeof(o->host)) == NULL) {
		return false;
	}
	return cst_phi_config_check(&o->failure_detector) == 0 &&
	       cst_downing_config_check(&o->downing) == 0;
}

_Static_assert(sizeof(((casty_member_info *)0)->roles) ==
		       sizeof(((cst_roles *)0)->name),
	"casty_member_info.roles is a copy of cst_roles.name");

bool
casty_member_has_role(const casty_member_info *m, const char *role)
{
	if (m == NULL || role == NULL) {
		return false;
	}
	for (uint32_t i = 0; i < m->nroles && i < CASTY_ROLES_MAX; i++) {
		if (strncmp(m->roles[i], role, CASTY_ROLE_MAX) == 0) {
			return true;
		}
	}
	return false;
}

bool
casty_roles_contain(const char *roles, const char *role)
{
	if (roles == NULL || role == NULL || role[0] == '\0') {
		return false;
	}
	size_t len = strlen(role);
	for (const char *p = roles; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t      n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == len && memcmp(p, role, len) == 0) {
			return true;
		}
		if (end == NULL) {
			break;
		}
		p = end + 1;
	}
	return false;
}

static uint64_t
draw_incarnation(void)
{
	uint64_t v = 0;
	while (v == 0) {
		if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
			// No entropy source: the clock still tells runs apart.
			v = cst_node_now_ms() ^ ((uint64_t)getpid() << 32);
		}
	}
	return v;
}

static void
free_node(casty_cluster *c)
{
	cst_membership_free(c->membership);
	cst_node_watch_fini(c);
	free_frames(c->inbox_head);
	free(c->snapshot);
	free(c->seeds);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
casty_cluster_start(casty_system *sys, const casty_cluster_options *opts,
	casty_cluster **out)
{
	cst_roles roles;
	if (sys == NULL || opts == NULL || out == NULL || !options_ok(opts) ||
	    cst_roles_set(&roles, opts->roles, opts->nroles) != 0) {
		return -EINVAL;
	}
	casty_cluster *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->sys = sys;
	c->gossip = opts->gossip;
	c->heartbeat = opts->heartbeat;
	c->seeds = calloc(opts->nseed_nodes + 1, sizeof(*c->seeds));
	c->snapshot = calloc(CST_MEMBERS_MAX, sizeof(*c->snapshot));
	if (c->seeds == NULL || c->snapshot == NULL) {
		free_node(c);
		return -ENOMEM;
	}
	if (opts->nseed_nodes != 0) {
		memcpy(c->seeds, opts->seed_nodes,
			opts->nseed_nodes * sizeof(*c->seeds));
	}

	uint64_t             incarnation = draw_incarnation();
	int                  rc;
	cst_transport_config tc = {
		.cluster = casty_system_name(sys),
		.host = opts->host,
		.port = opts->port,
		.incarnation = incarnation,
		.secret = opts->secret,
		.secret_len = opts->secret_len,
		.backoff_max_ms = 1000,
		.user_timeout_ms = CST_NODE_USER_TIMEOUT_MS,
		.max_pending = opts->max_pending_per_node != 0
				       ? opts->max_pending_per_node
				       : DEFAULT_MAX_PENDING,
		.cb = {.frame = on_frame, .dropped = on_dropped, .arg = c},
	};
	rc = cst_transport_create(sys, &tc, &c->transport);
	if (rc != 0) {
		free_node(c);
		return rc;
	}
	uint16_t port = cst_transport_port(c->transport);
	rc = cst_address_init(&c->self, casty_system_name(sys), opts->host,
		port, incarnation, NULL);
	if (rc != 0) {
		cst_transport_destroy(c->transport);
		free_node(c);
		return rc;
	}
	cst_membership_config mc = {
		.self = c->self,
		.roles = roles,
		.seeds = c->seeds,
		.nseeds = opts->nseed_nodes,
		.fanout = opts->gossip.fanout,
		.failure_detector = opts->failure_detector,
		.downing = opts->downing,
	};
	rc = cst_node_membership_new(c, &mc);
	if (rc != 0) {
		cst_transport_destroy(c->transport);
		free_node(c);
		return rc;
	}
	cst_remote_start(c);
	// Frames may arrive before the actor's ref is known: they are held
	// in the inbox (wake_sent pretends a wake is on its way) until it is.
	pthread_mutex_lock(&c->lock);
	c->wake_sent = true;
	pthread_mutex_unlock(&c->lock);
	casty_ref actor;
	rc = cst_node_spawn(c, &actor);
	if (rc != 0) {
		cst_transport_destroy(c->transport);
		free_node(c);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	c->actor = actor;
	bool held = c->inbox_head != NULL;
	c->wake_sent = held;
	pthread_mutex_unlock(&c->lock);
	if (held) {
		wake_actor(actor);
	}
	if (opts->required_quorum > 0) {
		uint64_t wait_ms = opts->quorum_timeout_ms != 0
					   ? opts->quorum_timeout_ms
					   : DEFAULT_QUORUM_TIMEOUT_MS;
		struct timespec deadline;
		cst_node_deadline_after(&deadline, wait_ms);
		pthread_mutex_lock(&c->lock);
		rc = 0;
		while (c->nup < opts->required_quorum && rc != ETIMEDOUT) {
			rc = pthread_cond_timedwait(&c->cond, &c->lock, &deadline);
		}
		bool ok = c->nup >= opts->required_quorum;
		pthread_mutex_unlock(&c->lock);
		if (!ok) {
			casty_cluster_stop(c);
			return -ETIMEDOUT;
		}
	}
	*out = c;
	return CASTY_OK;
}

uint16_t
casty_cluster_port(const casty_cluster *c)
{
	return c != NULL ? c->self.port : 0;
}

uint64_t
casty_cluster_incarnation(const casty_cluster *c)
{
	return c != NULL ? c->self.uid : 0;
}

int
casty_cluster_members(
	casty_cluster *c, casty_member_info *out, size_t cap, size_t *n)
{
	if (c == NULL || n == NULL || (out == NULL && cap != 0)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&c->lock);
	size_t k = c->nsnapshot < cap ? c->nsnapshot : cap;
	if (k != 0) {
		memcpy(out, c->snapshot, k * sizeof(*out));
	}
	*n = c->nsnapshot;
	pthread_mutex_unlock(&c->lock);
	return CASTY_OK;
}

int
casty_cluster_leader(casty_cluster *c, casty_member_info *out)
{
	if (c == NULL || out == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&c->lock);
	bool has = c->has_leader;
	if (has) {
		*out = c->leader;
	}
	pthread_mutex_unlock(&c->lock);
	return has ? CASTY_OK : -ENOENT;
}

int
casty_cluster_leave(casty_cluster *c)
{
	if (c == NULL) {
		return -EINVAL;
	}
	cst_deliver(c->actor.cell, cst_msg_new(&cst_node_leave__type,
					   CASTY_TAG_UNKNOWN, NULL, c->actor.gen));
	return CASTY_OK;
}

void
casty_cluster_stop(casty_cluster *c)
{
	if (c == NULL) {
		return;
	}
	// Sends through remote refs end first, then the actor: both send on
	// the transport, which must see no send during or after its destroy.
	cst_remote_stop(c);
	cst_deliver(c->actor.cell, cst_msg_new(&cst_node_stop__type,
					   CASTY_TAG_UNKNOWN, NULL, c->actor.gen));
	struct timespec deadline;
	cst_node_deadline_after(&deadline, STOP_WAIT_MS);
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	while (!c->actor_done && rc != ETIMEDOUT) {
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &deadline);
	}
	pthread_mutex_unlock(&c->lock);
	cst_transport_destroy(c->transport);
	free_node(c);
}
