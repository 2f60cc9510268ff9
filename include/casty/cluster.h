/**
 * include/casty/cluster.h: a cluster node, the membership part.
 *
 * casty_cluster_start makes a system a member of the cluster named after
 * it: it listens on host:port, joins through the seed nodes and from then
 * on keeps the membership by gossip, with heartbeats and a phi accrual
 * failure detector watching the other members (Akka's model: a leader,
 * chosen without an election, moves members up and out; a split-brain
 * resolver, when options.downing names a strategy, downs the members
 * that cannot be reached, on one side of a partition only).
 *
 *     casty_cluster_options o;
 *     casty_cluster_options_init(&o);
 *     strcpy(o.host, "10.0.0.2");
 *     o.port = 2552;
 *     o.seed_nodes = seeds;  o.nseed_nodes = 1;
 *     casty_cluster *c;
 *     if (casty_cluster_start(sys, &o, &c) == CASTY_OK) { ... }
 *     ...
 *     casty_cluster_leave(c);   // optional: a graceful exit
 *     casty_cluster_stop(c);    // before casty_system_destroy
 *
 * Changes of membership are published on the system event stream as the
 * events below (casty_subscribe(sys, ref, casty_member_up)).
 *
 * Joining: a node with no seed nodes founds the cluster (joins itself).
 * A node whose first seed is its own host:port founds it too, but only
 * once every other seed has answered that it is not a member yet, or 5 s
 * have passed without an answer: a first seed restarted while the others
 * still run rejoins them rather than found a second cluster. Any other
 * node asks every seed to let it join, once per gossip interval, until it
 * is a member.
 *
 * Reachability and partitions: a member is unreachable while some member
 * cannot hear it (a node never counts itself unreachable), and reachable
 * again once every member that could not hear it does again; after a
 * partition heals the cluster converges by itself. Which members are
 * down is not decided by a timeout (it splits the brain: each side downs
 * the other and goes on alone) but by options.downing (config.h), which
 * keeps at most one side: the rest down themselves, publish
 * casty_member_downed about themselves and fall silent.
 *
 * Roles (Akka's cluster roles): a node may name what it is for,
 * "backend" or "worker" (options.roles, [cluster] roles in casty.toml).
 * They travel with its join request and then in the gossip, so every
 * member sees every other member's roles (casty_member_info.roles, and
 * the roles of the member events); they never change while it runs.
 *
 * Remote actors: a ref can name an actor of another node. It carries the
 * node's address and incarnation and travels in messages as
 * ["casty://system@host:port#incarnation", cell id, generation]; get one
 * with casty_cluster_lookup, or in a message (a reply_to). casty_tell,
 * casty_send and casty_ask work on it as on a local ref: the message is
 * encoded by its schema (MessagePack), sent on the one connection to that
 * node, in the order each sender sent, and decoded there. While that
 * connection is not open (being dialed, in its handshake, or lost and
 * being redialed), up to max_pending_per_node messages wait for it and go
 * out in order once it opens; each further one becomes a dead letter here
 * (CASTY_DEAD_DROP_NEW, to the ref it was sent to), with one warning per
 * such episode, as does one that finds 64 MiB waiting for that node,
 * connected or not. Only members are reached: a message for an actor
 * of a node that is no current member (it never was, or that run of it
 * was downed or removed, or replaced by a new run) is a dead letter
 * here, CASTY_DEAD_NOT_MEMBER (counted in casty_system_stats), and
 * casty_ask to such an actor fails at once with CASTY_ENOTMEMBER rather
 * than after its timeout. The receiving node must know the message type: every
 * type of the protocol of an actor spawned in its process is known, as
 * are casty_int, casty_text and casty_terminated; register others (a
 * reply type) with casty_register.
 * A message of an unknown type, or of another version of it, or whose
 * fields do not fit, becomes a dead letter on the receiving node with
 * that reason, never a crash.
 *
 * Death watch of remote actors (Akka's rule): casty_ctx_watch on a
 * remote ref has that actor's node watch it for the watcher, and the
 * watcher gets casty_terminated (with the remote ref) when the actor
 * stops, at once when it is gone already or never was, and when its
 * node is downed or removed from the cluster (path empty then), or
 * when it is not a member now (never was, or that run of it is gone).
 * casty_ctx_unwatch and the watcher's own stop end the watch on both
 * nodes; a node that never comes back leaves nothing behind.
 */
#ifndef CASTY_CLUSTER_H
#define CASTY_CLUSTER_H

#include <casty/base.h>
#include <casty/config.h>

typedef struct casty_cluster casty_cluster;

/** casty_cluster_options: strings, seeds and the secret are copied. */
typedef struct casty_cluster_options {
	char                      host[CASTY_HOST_MAX]; // numeric IPv4/IPv6
	uint16_t                  port;                 // 0: any free port
	const casty_node_address *seed_nodes;
	size_t                    nseed_nodes;
	// The shared secret of the handshake (HMAC); NULL: none, which is
	// only safe on loopback. At most 64 bytes.
	const void *secret;
	size_t      secret_len;
	casty_gossip_config           gossip;
	casty_heartbeat_config        heartbeat;
	casty_failure_detector_config failure_detector;
	// The split-brain resolver (config.h); off by default.
	casty_downing_config downing;
	// > 0: casty_cluster_start returns once this many members are up
	// (this node included), or fails after quorum_timeout_ms.
	uint32_t required_quorum;
	uint64_t quorum_timeout_ms; // 0: 30000
	// This node's roles (copied): at most CASTY_ROLES_MAX, each as
	// config.h says; duplicates count once. NULL with 0: none.
	const char *const *roles;
	size_t             nroles;
	// Messages for actors of another node held while the connection to
	// that node is not open (see above); 0: 64. casty.toml calls it
	// [transport] max_pending_per_path, after Casty, where messages
	// wait for a path whose actor is not registered yet. Here a remote
	// message names its actor by a cell id that node issued, so it
	// never waits for an actor, only for the node: the bound is per
	// node.
	uint32_t max_pending_per_node;
} casty_cluster_options;

/**
 * casty_cluster_options_init fills *o with the defaults of casty.toml's
 * [cluster] tables (gossip 1 s, fanout 3; heartbeat 0.5 s, checks every
 * 0.5 s; phi threshold 8, 200 samples, min std 100 ms, pause 1.5 s, first
 * estimate 1 s; downing off, down_all_when_unstable and down_if_alone
 * on), host 127.0.0.1, port 0, no seeds, no secret, no quorum, no roles,
 * 64 pending messages per node.
 */
CASTY_API void casty_cluster_options_init(casty_cluster_options *o);

/**
 * casty_cluster_options_from_config fills *o from casty.toml: the
 * defaults above, then [cluster] roles, gossip, heartbeat, the failure
 * detector and downing, [transport] max_pending_per_path as max_pending_per_node,
 * and, when [cluster] gives a host, host, port and seed nodes (seeds and
 * roles point into config, which must outlive casty_cluster_start).
 * Values set in code afterwards win. Thread: any.
 */
CASTY_API void casty_cluster_options_from_config(
	const casty_config *config, casty_cluster_options *o);

/** casty_member_status is a member's place in its life. */
typedef enum casty_member_status {
	CASTY_MEMBER_JOINING = 0,
	CASTY_MEMBER_UP,
	CASTY_MEMBER_LEAVING,
	CASTY_MEMBER_EXITING,
	CASTY_MEMBER_DOWN,
	CASTY_MEMBER_REMOVED,
} casty_member_status;

/** casty_member_info is one member as this node sees it. */
typedef struct casty_member_info {
	char     system[64];
	char     host[CASTY_HOST_MAX];
	uint16_t port;
	uint64_t incarnation; // drawn anew at every start of a node
	casty_member_status status;
	uint32_t            up_number; // 1, 2, ... in the order they came up
	// No member finds it unreachable (always true of this node itself).
	bool                reachable;
	uint32_t            nroles;
	char roles[CASTY_ROLES_MAX][CASTY_ROLE_MAX]; // sorted, distinct
} casty_member_info;

/**
 * casty_member_has_role says whether role is one of m's roles.
 * Thread: any.
 */
CASTY_API bool casty_member_has_role(
	const casty_member_info *m, const char *role);

/**
 * casty_cluster_start starts the cluster node of sys: the transport and
 * one internal root actor, "_cluster", that owns the membership. Returns
 * CASTY_OK with *out set; -EINVAL (bad options: a bad role, too many
 * roles, static-quorum without a quorum_size, ...), -EADDRINUSE and the like from binding, -ENOMEM,
 * CASTY_ESTOPPED (sys is stopping) or, with required_quorum, -ETIMEDOUT
 * (the node is then stopped again). Nothing is left behind on failure.
 * Thread: any but a worker. Blocks: while waiting for the quorum.
 */
CASTY_API int casty_cluster_start(casty_system *sys,
	const casty_cluster_options *opts, casty_cluster **out);

/** casty_cluster_port is the port the node listens on. Thread: any. */
CASTY_API uint16_t casty_cluster_port(const casty_cluster *c);

/**
 * casty_cluster_incarnation is this run's incarnation: the uid that tells
 * it from earlier runs at the same host:port (casty_member_info's
 * incarnation). Thread: any.
 */
CASTY_API uint64_t casty_cluster_incarnation(const casty_cluster *c);

/**
 * casty_cluster_members copies up to cap members, in address order,
 * removed ones left out, into out and sets *n to how many there are
 * (which may exceed cap). It reads a snapshot that the cluster actor
 * publishes under a lock after every change it makes: no round trip to
 * the actor, and never older than the last change the actor has handled.
 * Returns CASTY_OK or -EINVAL. Thread: any. Blocks: briefly, on the lock.
 */
CASTY_API int casty_cluster_members(
	casty_cluster *c, casty_member_info *out, size_t cap, size_t *n);

/**
 * casty_cluster_leader copies the leader, as this node sees it, into
 * *out: the first member by address among the reachable up (or leaving)
 * ones, which every node computes alike from the same view. Returns
 * CASTY_OK, -ENOENT (no leader: not a member yet, or every member is
 * unreachable or gone) or -EINVAL. casty_leader_changed (events.h) tells
 * when it changes. Thread: any. Blocks: briefly, on the lock.
 */
CASTY_API int casty_cluster_leader(casty_cluster *c, casty_member_info *out);

/**
 * casty_cluster_leave starts a graceful leave: the node becomes leaving,
 * and the leader moves it to exiting and removed; the other members
 * publish casty_member_left and casty_member_removed. Returns at once
 * (CASTY_OK or -EINVAL); stop the node afterwards. Thread: any.
 */
CASTY_API int casty_cluster_leave(casty_cluster *c);

/**
 * casty_cluster_lookup finds the actor that uri names on a node of the
 * cluster (this one included), "casty://system@host:port/path" with the
 * path of its names from the root ("/orders" or "/orders/worker-1";
 * "...:port#incarnation/path" for one run of that node), and sets *out
 * to a ref of it (make it typed with P_ref_from). The node resolves the
 * path one actor at a time, each parent reading its own children.
 * Returns CASTY_OK,
 * -EINVAL (not such a URI), CASTY_ENOTMEMBER at once (no current member
 * of the cluster, as this node sees it, has that system name, host and
 * port, or that incarnation), -ENOENT (no such actor), -ETIMEDOUT (no
 * answer within timeout_ms, for example while the node cannot be
 * reached), -EDEADLK (called from a handler,
 * whose worker the answer may need) or CASTY_ESTOPPED. Thread: any but
 * a worker, not during casty_cluster_stop. Blocks: up to timeout_ms.
 */
CASTY_API int casty_cluster_lookup(casty_cluster *c, const char *uri,
	int64_t timeout_ms, casty_ref *out);

/**
 * casty_register_type makes type known to the remote messaging of this
 * process, so that messages of it from other nodes can be decoded here
 * (see above). casty_register(Type) is the short form. Returns CASTY_OK,
 * -EINVAL or -ENOSPC (more than 6,144 types). Thread: any.
 */
CASTY_API int casty_register_type(const casty_msg_type *type);
#define casty_register(T) casty_register_type(&T##__type)

/**
 * casty_cluster_stop stops the cluster actor, closes every connection and
 * frees c. Without a leave first, the others find the node unreachable
 * and, with a downing strategy, down and remove it. Call it before
 * casty_system_destroy. NULL is a no-op. Thread: any but a worker.
 * Blocks: until the actor has stopped and the transport is gone.
 */
CASTY_API void casty_cluster_stop(casty_cluster *c);

#endif // CASTY_CLUSTER_H
