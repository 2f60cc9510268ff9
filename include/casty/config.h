/**
 * include/casty/config.h: casty.toml, loaded into the same structs the
 * programmatic API takes.
 *
 *     casty_config *config;
 *     casty_config_error err;
 *     if (casty_config_load(NULL, &config, &err) != CASTY_OK) {  // discover
 *             fprintf(stderr, "%s\n", err.text);
 *             ...
 *     }
 *     casty_system_config sc;
 *     casty_system_config_init(&sc);
 *     sc.config = config;          // mailbox and supervision per actor
 *     casty_system_create(&sc, &system);
 *     ...
 *     casty_system_destroy(system);
 *     casty_config_free(config);
 *
 * Every key is optional; no file means every default, exactly those of
 * the programmatic API (unbounded mailboxes, no supervision). A
 * [defaults.mailbox] or [defaults.supervision] table, or a per-actor
 * mailbox = {...} / supervision = {...}, turns that part on, its missing
 * fields taking Casty's defaults (capacity 1000, drop_new; restart, 3
 * restarts within 60 s). Resolution is field by field: per-actor override
 * > [defaults.*] > built-in. Values given in code win over the file: an
 * explicit mailbox at spawn, a casty_supervise wrapper, a system name.
 *
 * Loading is strict: an unknown key, a wrong type, a value out of range
 * or a TOML syntax error is an error naming the file, line, column and
 * key, and nothing is returned half-applied.
 */
#ifndef CASTY_CONFIG_H
#define CASTY_CONFIG_H

#include <casty/base.h>
#include <casty/mailbox.h>
#include <casty/supervision.h>

/** [defaults.supervision] and per-actor supervision = {...}. */
typedef struct casty_supervision_config {
	casty_directive strategy;       // restart | stop | escalate
	uint32_t        max_restarts;   // 3
	double          within_seconds; // 60.0
} casty_supervision_config;

/** [defaults.sharding]: used by sharded actors (the cluster issue). */
typedef struct casty_sharding_config {
	uint32_t num_shards; // 256
} casty_sharding_config;

/** [defaults.replication]: used by replicated shards. */
typedef struct casty_replication_config {
	uint32_t replicas;    // 0
	uint32_t min_acks;    // 0
	double   ack_timeout; // 5.0 s
} casty_replication_config;

/** [cluster.gossip] */
typedef struct casty_gossip_config {
	double   interval; // 1.0 s
	uint32_t fanout;   // 3
} casty_gossip_config;

/**
 * [cluster.heartbeat]. Casty checks every 2 s; casty checks as often as
 * it sends, so that a crash is noticed within 3.5 s rather than 4.5 s.
 */
typedef struct casty_heartbeat_config {
	double interval;                    // 0.5 s
	double availability_check_interval; // 0.5 s
} casty_heartbeat_config;

/**
 * [cluster.failure_detector]: the phi accrual detector. Casty allows no
 * pause at all, which marks a member unreachable about 1 s after its last
 * heartbeat, and so for any stall of a second (a GC, a loaded machine, a
 * SIGSTOP); casty allows 1.5 s, as the cluster reference proposes (about
 * 2.5 s of silence before a member is unreachable).
 */
typedef struct casty_failure_detector_config {
	double   threshold;                     // 8.0
	uint32_t max_sample_size;               // 200
	double   min_std_deviation_ms;          // 100.0
	double   acceptable_heartbeat_pause_ms; // 1500.0
	double   first_heartbeat_estimate_ms;   // 1000.0
} casty_failure_detector_config;

/**
 * casty_downing_strategy is how a cluster decides, on its own, to down
 * members it cannot reach (Akka's split-brain resolver). Each side of a
 * partition applies the same rule to the same last known membership, so
 * that at most one side stays up: the others down themselves (their nodes
 * stop taking part and publish casty_member_downed about themselves).
 */
typedef enum casty_downing_strategy {
	CASTY_DOWNING_OFF = 0, // nobody is downed unless told to
	// "keep-majority": the side with more than half of the up members
	// stays; on a tie, the side with the lowest address; when no side
	// has a majority (three or more sides), every side downs itself.
	CASTY_DOWNING_KEEP_MAJORITY,
	// "static-quorum": a side with at least quorum_size up members
	// stays. A cluster never grows past 2 * quorum_size - 1 members
	// (joins beyond are refused), or both halves could have a quorum.
	CASTY_DOWNING_STATIC_QUORUM,
	// "keep-oldest": the side with the oldest member stays; with
	// down_if_alone, an oldest member cut off alone downs itself and
	// the rest stay.
	CASTY_DOWNING_KEEP_OLDEST,
	// "down-all": every member is downed once any is unreachable.
	CASTY_DOWNING_DOWN_ALL,
} casty_downing_strategy;

/**
 * casty_downing_strategy_name names a strategy as casty.toml spells it
 * ("off", "keep-majority", "static-quorum", "keep-oldest", "down-all";
 * "?" for others). casty_downing_strategy_parse does the reverse:
 * CASTY_OK, or -EINVAL for an unknown name. Thread: any.
 */
CASTY_API const char *casty_downing_strategy_name(casty_downing_strategy s);
CASTY_API int casty_downing_strategy_parse(
	const char *name, casty_downing_strategy *out);

/**
 * [cluster.downing]. Decisions are made by the leader of each side, and
 * only after the membership and reachability it sees have not changed
 * for stable_after; members that are unreachable through some links but
 * not others (a one-way link, a node bridging two halves) are downed
 * whatever the strategy. There is no "down after a timeout" rule: it lets
 * both sides of a partition down each other and go on as two clusters.
 */
typedef struct casty_downing_config {
	casty_downing_strategy strategy; // off; keep-majority once the
	                                 // [cluster.downing] table exists
	// Seconds; 0: sized for the cluster as Akka recommends: 7 s up to 5
	// members, 10 s up to 10, 13 s, 17 s, 20 s up to 100, 30 s beyond.
	double stable_after;
	// When the view keeps changing for stable_after plus 3/4 of it (at
	// least 4 s more) while members are unreachable, down every member
	// rather than wait forever. true by default.
	bool     down_all_when_unstable;
	uint32_t quorum_size;   // static-quorum: required, >= 1
	bool     down_if_alone; // keep-oldest: true by default
} casty_downing_config;

#define CASTY_HOST_MAX 256

/**
 * A node's cluster roles (Akka's cluster roles): at most CASTY_ROLES_MAX,
 * each 1 to CASTY_ROLE_MAX - 1 bytes, none of them a control character,
 * a space or a comma (roles are printed as lists: "backend,worker").
 */
#define CASTY_ROLES_MAX 8
#define CASTY_ROLE_MAX  32 // a role's bytes, NUL included

/** casty_node_address is "host:port" as seed_nodes lists them. */
typedef struct casty_node_address {
	char     host[CASTY_HOST_MAX];
	uint16_t port;
} casty_node_address;

/**
 * [cluster]: enabled when the table gives a host (then port is
 * required). The roles and the gossip, heartbeat, failure-detector and
 * downing tables are read even without a host.
 */
typedef struct casty_cluster_config {
	bool                          enabled;
	char                          host[CASTY_HOST_MAX];
	uint16_t                      port;
	const casty_node_address     *seed_nodes;
	size_t                        nseed_nodes;
	const char *const            *roles;
	size_t                        nroles;
	casty_gossip_config           gossip;
	casty_heartbeat_config        heartbeat;
	casty_failure_detector_config failure_detector;
	casty_downing_config          downing;
} casty_cluster_config;

/** casty_actor_config is what the file says about one actor. */
typedef struct casty_actor_config {
	bool                     has_mailbox; // else: unbounded
	casty_mailbox            mailbox;
	bool                     has_supervision; // else: none (stop)
	casty_supervision_config supervision;
	casty_sharding_config    sharding;
	casty_replication_config replication;
} casty_actor_config;

/** A loaded casty.toml; read it with the functions below. */
typedef struct casty_config casty_config;

/** casty_config_error says what was wrong with a file, and where. */
typedef struct casty_config_error {
	char     file[512]; // the path as given or discovered
	unsigned line;      // 1-based; 0 when the file could not be read
	unsigned column;    // 1-based
	char     key[256];  // dotted key path, "" when unknown
	char     message[160];
	char     text[1024]; // all of it: "file:line:column: key: message"
} casty_config_error;

/**
 * casty_config_load reads the casty.toml at path, or with path NULL the
 * first casty.toml found walking up from the current directory; with
 * none found, *out holds every default. Returns CASTY_OK, -ENOENT (an
 * explicit path that does not exist), -EINVAL (a bad file: *err says
 * where and why, when err is not NULL), -ENOMEM or another negated errno
 * from reading. The caller frees *out with casty_config_free, after every
 * system that uses it is destroyed. Thread: any.
 */
CASTY_API int casty_config_load(
	const char *path, casty_config **out, casty_config_error *err);

/**
 * casty_config_parse is casty_config_load for text already in memory;
 * filename names it in errors. Thread: any.
 */
CASTY_API int casty_config_parse(const char *text, size_t len,
	const char *filename, casty_config **out, casty_config_error *err);

/**
 * casty_config_discover writes the path of the first casty.toml found
 * walking up from dir (NULL: the current directory) into buf. Returns
 * CASTY_OK, -ENOENT (none up to the root) or -ENAMETOOLONG.
 */
CASTY_API int casty_config_discover(const char *dir, char *buf, size_t size);

/** casty_config_free frees a config (NULL is a no-op). */
CASTY_API void casty_config_free(casty_config *config);

/**
 * casty_config_source is the file the config came from, or "" when none
 * was found.
 */
CASTY_API const char *casty_config_source(const casty_config *config);

/** casty_config_system_name is [system] name, or NULL when not given. */
CASTY_API const char *casty_config_system_name(const casty_config *config);

/** casty_config_max_pending_per_path is [transport] max_pending_per_path. */
CASTY_API uint32_t casty_config_max_pending_per_path(
	const casty_config *config);

/** casty_config_cluster is the [cluster] table. */
CASTY_API const casty_cluster_config *casty_config_cluster(
	const casty_config *config);

/**
 * casty_config_resolve fills *out for the actor called name: the first
 * [actors.PATTERN] (in file order) whose pattern matches the whole name,
 * over [defaults.*], over the built-in defaults. A pattern that is a
 * plain name ([A-Za-z0-9_-]+) matches itself only; any other is a POSIX
 * extended regex, anchored at both ends, in which \d, \w and \s (and \D,
 * \W, \S) may be used as in Python; at most 8 repetition operators,
 * bounds {n,m} up to 32, and none right after another (loading refuses
 * the rest: glibc's regex compiler grows exponentially on them). An unnamed actor (NULL) gets
 * [defaults.*]; a name starting with '_' (an internal actor) gets the
 * built-in defaults only. Thread: any.
 */
CASTY_API void casty_config_resolve(const casty_config *config,
	const char *name, casty_actor_config *out);

#endif // CASTY_CONFIG_H
