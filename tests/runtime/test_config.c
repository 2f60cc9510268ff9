// tests/runtime/test_config.c: casty.toml onto the config structs: every
// key, the README's examples, per-actor resolution, discovery, strict
// errors, and a system that applies what the file says.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <casty/casty.h>

#include "runtime/cell.h"
#include "tests/support/probe.h"

TestSuite(config, .timeout = 60);

static casty_config *
parse_ok(const char *text)
{
	casty_config      *c = NULL;
	casty_config_error err;
	int rc = casty_config_parse(text, strlen(text), "casty.toml", &c, &err);
	cr_assert(eq(int, rc, CASTY_OK), "%s", err.text);
	return c;
}

// Parses text that must fail; returns the error.
static casty_config_error
parse_bad(const char *text)
{
	casty_config      *c = (casty_config *)1;
	casty_config_error err;
	memset(&err, 0, sizeof err);
	int rc = casty_config_parse(text, strlen(text), "casty.toml", &c, &err);
	cr_assert(eq(int, rc, -EINVAL), "must fail: %s", text);
	cr_assert(eq(ptr, c, (casty_config *)1), "out untouched");
	return err;
}

static const char readme_full[] =
	"[system]\n"
	"name = \"my-app\"\n"
	"\n"
	"# --- Global defaults (apply to all actors) ---\n"
	"[defaults.mailbox]\n"
	"capacity = 1000\n"
	"strategy = \"drop_new\"         # drop_new | drop_oldest | backpressure\n"
	"\n"
	"[defaults.supervision]\n"
	"strategy = \"restart\"          # restart | stop | escalate\n"
	"max_restarts = 3\n"
	"within_seconds = 60.0\n"
	"\n"
	"[defaults.sharding]\n"
	"num_shards = 256\n"
	"\n"
	"[defaults.replication]\n"
	"replicas = 2\n"
	"min_acks = 1\n"
	"ack_timeout = 5.0\n"
	"\n"
	"# --- Cluster ---\n"
	"[cluster]\n"
	"host = \"0.0.0.0\"\n"
	"port = 25520\n"
	"seed_nodes = [\"node1:25520\", \"node2:25520\"]\n"
	"roles = [\"worker\"]\n"
	"\n"
	"[cluster.gossip]\n"
	"interval = 1.0\n"
	"\n"
	"[cluster.heartbeat]\n"
	"interval = 0.5\n"
	"availability_check_interval = 2.0\n"
	"\n"
	"[cluster.failure_detector]\n"
	"threshold = 8.0\n"
	"max_sample_size = 200\n"
	"min_std_deviation_ms = 100.0\n"
	"acceptable_heartbeat_pause_ms = 0.0\n"
	"first_heartbeat_estimate_ms = 1000.0\n"
	"\n"
	"# --- Per-actor overrides ---\n"
	"[actors.orders]\n"
	"sharding = { num_shards = 512 }\n"
	"replication = { replicas = 3, min_acks = 2 }\n"
	"\n"
	"[actors.my-worker]\n"
	"mailbox = { capacity = 5000, strategy = \"backpressure\" }\n"
	"supervision = { strategy = \"stop\" }\n"
	"\n"
	"[actors.\"child-\\\\d+\"]\n"
	"mailbox = { capacity = 100, strategy = \"drop_oldest\" }\n";

Test(config, the_readme_complete_file)
{
	casty_config *c = parse_ok(readme_full);
	cr_assert(eq(str, (char *)casty_config_system_name(c), "my-app"));

	const casty_cluster_config *cl = casty_config_cluster(c);
	cr_assert(cl->enabled);
	cr_assert(eq(str, (char *)cl->host, "0.0.0.0"));
	cr_assert(eq(u16, cl->port, 25520));
	cr_assert(eq(sz, cl->nseed_nodes, 2));
	cr_assert(eq(str, (char *)cl->seed_nodes[1].host, "node2"));
	cr_assert(eq(u16, cl->seed_nodes[1].port, 25520));
	cr_assert(eq(sz, cl->nroles, 1));
	cr_assert(eq(str, (char *)cl->roles[0], "worker"));
	cr_assert(eq(dbl, cl->gossip.interval, 1.0));
	cr_assert(eq(u32, cl->gossip.fanout, 3)); // not in the file
	cr_assert(eq(dbl, cl->heartbeat.interval, 0.5));
	cr_assert(eq(dbl, cl->heartbeat.availability_check_interval, 2.0));
	cr_assert(eq(dbl, cl->failure_detector.threshold, 8.0));
	cr_assert(eq(u32, cl->failure_detector.max_sample_size, 200));
	cr_assert(eq(dbl, cl->failure_detector.min_std_deviation_ms, 100.0));
	cr_assert(eq(dbl, cl->failure_detector.acceptable_heartbeat_pause_ms, 0.0));
	cr_assert(eq(dbl, cl->failure_detector.first_heartbeat_estimate_ms, 1000.0));

	casty_actor_config a;
	casty_config_resolve(c, "orders", &a);
	cr_assert(eq(u32, a.sharding.num_shards, 512));
	cr_assert(eq(u32, a.replication.replicas, 3));
	cr_assert(eq(u32, a.replication.min_acks, 2));
	cr_assert(eq(dbl, a.replication.ack_timeout, 5.0)); // from defaults
	cr_assert(a.has_mailbox);
	cr_assert(eq(u32, a.mailbox.capacity, 1000));
	cr_assert(eq(int, a.mailbox.overflow, CASTY_DROP_NEW));

	casty_config_resolve(c, "my-worker", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 5000));
	cr_assert(eq(int, a.mailbox.overflow, CASTY_BACKPRESSURE));
	cr_assert(a.has_supervision);
	cr_assert(eq(int, a.supervision.strategy, CASTY_STOP));
	cr_assert(eq(u32, a.supervision.max_restarts, 3));
	cr_assert(eq(dbl, a.supervision.within_seconds, 60.0));

	casty_config_resolve(c, "child-042", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 100));
	cr_assert(eq(int, a.mailbox.overflow, CASTY_DROP_OLDEST));
	casty_config_resolve(c, "child-04x", &a); // not a full match
	cr_assert(eq(u32, a.mailbox.capacity, 1000));
	casty_config_resolve(c, "xchild-1", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 1000));
	casty_config_free(c);
}

Test(config, the_readme_minimal_file_and_no_file_are_the_api_defaults)
{
	casty_config *c = parse_ok("[system]\nname = \"my-app\"\n");
	casty_actor_config a;
	casty_config_resolve(c, "anyone", &a);
	cr_assert(not(a.has_mailbox));
	cr_assert(not(a.has_supervision));
	cr_assert(eq(u32, a.sharding.num_shards, 256));
	cr_assert(eq(u32, a.replication.replicas, 0));
	cr_assert(eq(dbl, a.replication.ack_timeout, 5.0));
	cr_assert(eq(u32, casty_config_max_pending_per_path(c), 64));
	const casty_cluster_config *cl = casty_config_cluster(c);
	cr_assert(not(cl->enabled));
	cr_assert(eq(dbl, cl->gossip.interval, 1.0));
	cr_assert(eq(u32, cl->gossip.fanout, 3));
	cr_assert(eq(dbl, cl->heartbeat.interval, 0.5));
	cr_assert(eq(dbl, cl->heartbeat.availability_check_interval, 0.5));
	cr_assert(eq(dbl, cl->failure_detector.threshold, 8.0));
	cr_assert(eq(dbl, cl->failure_detector.acceptable_heartbeat_pause_ms,
		1500.0));
	cr_assert(eq(int, cl->downing.strategy, CASTY_DOWNING_OFF));
	// The same as the programmatic defaults.
	casty_cluster_options o;
	casty_cluster_options_init(&o);
	cr_assert(eq(int, memcmp(&o.downing, &cl->downing, sizeof o.downing),
		0));
	cr_assert(eq(int, memcmp(&o.failure_detector, &cl->failure_detector,
				  sizeof o.failure_detector),
		0));
	cr_assert(eq(int,
		memcmp(&o.heartbeat, &cl->heartbeat, sizeof o.heartbeat), 0));
	casty_config_free(c);

	c = parse_ok("");
	cr_assert(eq(ptr, (void *)casty_config_system_name(c), NULL));
	casty_config_free(c);
}

Test(config, every_remaining_key)
{
	casty_config *c = parse_ok(
		"[transport]\nmax_pending_per_path = 10\n"
		"[cluster.gossip]\nfanout = 5\n"
		"[defaults.supervision]\nmax_restarts = 7\n"
		"[defaults.mailbox]\ncapacity = 12\n");
	cr_assert(eq(u32, casty_config_max_pending_per_path(c), 10));
	cr_assert(eq(u32, casty_config_cluster(c)->gossip.fanout, 5));
	cr_assert(not(casty_config_cluster(c)->enabled));
	casty_actor_config a;
	casty_config_resolve(c, NULL, &a); // unnamed actors get the defaults
	cr_assert(a.has_supervision);
	cr_assert(eq(int, a.supervision.strategy, CASTY_RESTART));
	cr_assert(eq(u32, a.supervision.max_restarts, 7));
	cr_assert(eq(u32, a.mailbox.capacity, 12));
	cr_assert(eq(int, a.mailbox.overflow, CASTY_DROP_NEW));
	casty_config_resolve(c, "_internal", &a); // never resolved
	cr_assert(not(a.has_mailbox));
	cr_assert(not(a.has_supervision));
	casty_config_free(c);
}

Test(config, the_downing_table_turns_the_resolver_on)
{
	casty_config *c = parse_ok("[cluster.downing]\n");
	const casty_downing_config *d = &casty_config_cluster(c)->downing;
	cr_assert(eq(int, d->strategy, CASTY_DOWNING_KEEP_MAJORITY));
	cr_assert(eq(dbl, d->stable_after, 0.0)); // sized by the cluster
	cr_assert(d->down_all_when_unstable);
	cr_assert(d->down_if_alone);
	casty_config_free(c);

	c = parse_ok("[cluster.downing]\nstrategy = \"static-quorum\"\n"
		     "quorum_size = 3\nstable_after = 5.5\n"
		     "down_all_when_unstable = false\n");
	d = &casty_config_cluster(c)->downing;
	cr_assert(eq(int, d->strategy, CASTY_DOWNING_STATIC_QUORUM));
	cr_assert(eq(u32, d->quorum_size, 3));
	cr_assert(eq(dbl, d->stable_after, 5.5));
	cr_assert(not(d->down_all_when_unstable));
	casty_cluster_options o;
	casty_cluster_options_from_config(c, &o);
	cr_assert(eq(int, o.downing.strategy, CASTY_DOWNING_STATIC_QUORUM));
	casty_config_free(c);

	const char *names[] = {"off", "keep-majority", "static-quorum",
		"keep-oldest", "down-all"};
	for (int i = 0; i < 5; i++) {
		casty_downing_strategy s;
		cr_assert(eq(int, casty_downing_strategy_parse(names[i], &s), 0));
		cr_assert(eq(int, (int)s, i));
		cr_assert(eq(str, (char *)casty_downing_strategy_name(s),
			(char *)names[i]));
	}
	cr_assert(eq(int, casty_downing_strategy_parse("auto-down", NULL),
		-EINVAL));
}

Test(config, overrides_are_field_by_field_and_first_match_wins)
{
	casty_config *c = parse_ok(
		"[defaults.mailbox]\ncapacity = 1000\nstrategy = \"drop_new\"\n"
		"[actors.orders]\nmailbox = { capacity = 5000 }\n"
		"[actors.\"sensor-\\\\d+\"]\nmailbox = { capacity = 100, "
		"strategy = \"drop_oldest\" }\n"
		"[actors.\"sensor-.*\"]\nmailbox = { capacity = 7 }\n"
		"[actors.\"w\\\\w+\"]\nsupervision = { max_restarts = 9 }\n");
	casty_actor_config a;
	casty_config_resolve(c, "orders", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 5000));
	cr_assert(eq(int, a.mailbox.overflow, CASTY_DROP_NEW)); // inherited
	casty_config_resolve(c, "sensor-001", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 100)); // the first match
	casty_config_resolve(c, "sensor-x", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 7));
	casty_config_resolve(c, "orders2", &a); // plain names are exact
	cr_assert(eq(u32, a.mailbox.capacity, 1000));
	casty_config_resolve(c, "w_1", &a); // \w includes _ and digits
	cr_assert(a.has_supervision);
	cr_assert(eq(u32, a.supervision.max_restarts, 9));
	cr_assert(eq(int, a.supervision.strategy, CASTY_RESTART)); // Casty's
	casty_config_free(c);
}

static void
expect_error(const char *text, unsigned line, unsigned column,
	const char *key, const char *fragment)
{
	casty_config_error err = parse_bad(text);
	cr_expect(eq(u32, err.line, line), "%s", err.text);
	cr_expect(eq(u32, err.column, column), "%s", err.text);
	cr_expect(eq(str, err.key, (char *)key), "%s", err.text);
	cr_expect(strstr(err.message, fragment) != NULL, "%s", err.text);
	cr_expect(strncmp(err.text, "casty.toml:", 11) == 0, "%s", err.text);
}

Test(config, strict_errors_name_file_line_column_and_key)
{
	expect_error("[actors.orders]\nmailbox = { capcity = 5 }\n", 2, 13,
		"actors.orders.mailbox.capcity", "unknown key");
	expect_error("[system]\nname = 5\n", 2, 1, "system.name",
		"expected a string");
	expect_error("[defaults.mailbox]\ncapacity = 0\n", 2, 1,
		"defaults.mailbox.capacity", "out of range");
	expect_error("[defaults.mailbox]\nstrategy = \"drop_all\"\n", 2, 1,
		"defaults.mailbox.strategy", "not one of");
	expect_error("[defaults.supervision]\nstrategy = \"resume\"\n", 2, 1,
		"defaults.supervision.strategy", "not one of");
	expect_error("[defaults.supervision]\nwithin_seconds = \"1m\"\n", 2, 1,
		"defaults.supervision.within_seconds", "expected a number");
	expect_error("[cluster]\nhost = \"h\"\n", 2, 1, "cluster.host",
		"needs a port");
	expect_error("[cluster]\nport = 70000\n", 2, 1, "cluster.port",
		"out of range");
	expect_error("[cluster]\nhost = \"h\"\nport = 1\nseed_nodes = "
		     "[\"nohost\"]\n",
		4, 1, "cluster.seed_nodes", "not host:port");
	expect_error("[cluster]\nhost = \"h\"\nport = 1\nseed_nodes = "
		     "[\"a:0\"]\n",
		4, 1, "cluster.seed_nodes", "port");
	expect_error("[cluster.downing]\nstrategy = \"auto-down\"\n", 2, 1,
		"cluster.downing.strategy", "is not one of");
	expect_error("[cluster.downing]\nstrategy = \"static-quorum\"\n", 1, 10,
		"cluster.downing", "needs quorum_size");
	expect_error("[cluster.downing]\ndown_if_alone = 1\n", 2, 1,
		"cluster.downing.down_if_alone", "boolean");
	expect_error("[cluster]\ndown_after_ms = 10000\n", 2, 1,
		"cluster.down_after_ms", "two clusters");
	expect_error("[cluster]\nroles = [1]\n", 2, 1, "cluster.roles",
		"non-empty string");
	expect_error("[cluster]\nroles = [\"a,b\"]\n", 2, 1, "cluster.roles",
		"without control characters, spaces or commas");
	expect_error("[cluster]\nroles = [\"a b\"]\n", 2, 1, "cluster.roles",
		"without control characters, spaces or commas");
	expect_error("[cluster]\nroles = [\"a\\tb\"]\n", 2, 1,
		"cluster.roles", "without control characters");
	expect_error("[cluster]\nroles = "
		     "[\"0123456789012345678901234567890x\"]\n",
		2, 1, "cluster.roles", "1 to 31 bytes");
	expect_error("[cluster]\nroles = [\"a\", \"b\", \"c\", \"d\", \"e\", "
		     "\"f\", \"g\", \"h\", \"i\"]\n",
		2, 1, "cluster.roles", "more than 8 roles");
	expect_error("[cluster.gossip]\nperiod = 1\n", 2, 1,
		"cluster.gossip.period", "unknown key");
	expect_error("[actors.\"a(\"]\nmailbox = {}\n", 1, 9, "actors.a(",
		"bad pattern");
	expect_error("[clusterr]\n", 1, 2, "clusterr", "unknown key");
	expect_error("[actors.x]\nmail = {}\n", 2, 1, "actors.x.mail",
		"unknown key");
	expect_error("[defaults]\nmailbox = 3\n", 2, 1, "defaults.mailbox",
		"expected a table");
	// Syntax errors come from the TOML parser, with its position.
	casty_config_error err = parse_bad("[system]\nname = \"unterminated\n");
	cr_assert(eq(u32, err.line, 2));
	cr_assert(strncmp(err.text, "casty.toml:2:", 13) == 0, "%s", err.text);
}

// Discovery: a temporary tree a/b/c with casty.toml in a.
static char tree[PATH_MAX];

static void
make_tree(bool with_file)
{
	char path[PATH_MAX + 64];
	snprintf(tree, sizeof tree, "/tmp/casty-config-XXXXXX");
	cr_assert(mkdtemp(tree) != NULL);
	snprintf(path, sizeof path, "%s/a", tree);
	cr_assert(eq(int, mkdir(path, 0700), 0));
	snprintf(path, sizeof path, "%s/a/b", tree);
	cr_assert(eq(int, mkdir(path, 0700), 0));
	snprintf(path, sizeof path, "%s/a/b/c", tree);
	cr_assert(eq(int, mkdir(path, 0700), 0));
	if (with_file) {
		snprintf(path, sizeof path, "%s/a/casty.toml", tree);
		FILE *f = fopen(path, "w");
		cr_assert(f != NULL);
		fputs("[system]\nname = \"found\"\n", f);
		fclose(f);
	}
}

static void
remove_tree(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tree);
	cr_assert(eq(int, system(cmd), 0));
}

Test(config, discovery_walks_up_from_the_current_directory)
{
	char dir[PATH_MAX + 16], found[PATH_MAX], cwd[PATH_MAX];
	make_tree(true);
	snprintf(dir, sizeof dir, "%s/a/b/c", tree);
	cr_assert(eq(int, casty_config_discover(dir, found, sizeof found),
		CASTY_OK));
	cr_assert(strstr(found, "/a/casty.toml") != NULL, "%s", found);

	cr_assert(getcwd(cwd, sizeof cwd) != NULL);
	cr_assert(eq(int, chdir(dir), 0));
	casty_config *c = NULL;
	cr_assert(eq(int, casty_config_load(NULL, &c, NULL), CASTY_OK));
	cr_assert(eq(str, (char *)casty_config_system_name(c), "found"));
	cr_assert(strstr(casty_config_source(c), "/a/casty.toml") != NULL);
	casty_config_free(c);
	cr_assert(eq(int, chdir(cwd), 0));
	remove_tree();
}

Test(config, no_file_anywhere_means_every_default)
{
	char dir[PATH_MAX + 16], found[PATH_MAX], cwd[PATH_MAX];
	make_tree(false);
	snprintf(dir, sizeof dir, "%s/a/b/c", tree);
	// A casty.toml above /tmp would be found; there is none on a sane
	// machine, and then discovery ends at the root.
	int rc = casty_config_discover(dir, found, sizeof found);
	if (rc == CASTY_OK) {
		cr_skip_test("a casty.toml exists above the test directory");
	}
	cr_assert(eq(int, rc, -ENOENT));
	cr_assert(getcwd(cwd, sizeof cwd) != NULL);
	cr_assert(eq(int, chdir(dir), 0));
	casty_config *c = NULL;
	cr_assert(eq(int, casty_config_load(NULL, &c, NULL), CASTY_OK));
	cr_assert(eq(str, (char *)casty_config_source(c), ""));
	cr_assert(eq(ptr, (void *)casty_config_system_name(c), NULL));
	casty_config_free(c);
	cr_assert(eq(int, chdir(cwd), 0));
	remove_tree();
}

Test(config, an_explicit_missing_path_is_enoent)
{
	casty_config      *c = NULL;
	casty_config_error err;
	cr_assert(eq(int,
		casty_config_load("/nonexistent/dir/casty.toml", &c, &err),
		-ENOENT));
	cr_assert(eq(ptr, c, NULL));
	cr_assert(strstr(err.text, "/nonexistent/dir/casty.toml") != NULL);
}

// A system that applies the file.

typedef struct {
	int32_t code;
} Boom;
typedef struct {
	casty_ref reply_to;
} Ping;
CASTY_MESSAGE(Boom, code);
CASTY_MESSAGE(Ping, reply_to);
CASTY_PROTOCOL(WorkMsg, Boom, Ping);

static _Atomic int starts;

CASTY_HANDLER(work_receive, void)
{
	if (WorkMsg_tag_of(msg) == WorkMsg_Boom) {
		return casty_failed(1, "boom");
	}
	casty_send(CASTY_AS(Ping, msg)->reply_to, casty_int, 1);
	return casty_same();
}

CASTY_SETUP(work_setup, void)
{
	atomic_fetch_add(&starts, 1);
	return casty_receive(work_receive, NULL, 0);
}

static void
ping(casty_system *sys, WorkMsg_ref w)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, w, Ping, reply_to, 60000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
}

Test(config, a_system_applies_the_file_and_code_wins)
{
	casty_log_set_level(CASTY_LOG_OFF);
	casty_config *c = parse_ok(
		"[system]\nname = \"from-file\"\n"
		"[actors.bounded]\nmailbox = { capacity = 5, strategy = "
		"\"backpressure\" }\n"
		"[actors.\"sup-.*\"]\nsupervision = { strategy = \"restart\" }\n"
		"[actors.\"stopper-.*\"]\nsupervision = { strategy = \"stop\" }\n"
		"[actors._hidden]\nmailbox = { capacity = 9 }\n");
	casty_system_config sc;
	casty_system       *sys;
	casty_system_config_init(&sc);
	sc.config = c;
	cr_assert(eq(int, casty_system_create(&sc, &sys), CASTY_OK));
	cr_assert(eq(str, (char *)casty_system_name(sys), "from-file"));

	WorkMsg_ref a, b, d, e, f;
	cr_assert(eq(int, casty_spawn(sys, WorkMsg, casty_setup(work_setup,
		NULL, 0), "bounded", &a), CASTY_OK));
	cr_assert(eq(u32, atomic_load(&a.ref.cell->capacity), 5));
	cr_assert(eq(u32, atomic_load(&a.ref.cell->overflow),
		CASTY_BACKPRESSURE));
	casty_mailbox mine = {50, CASTY_DROP_NEW}; // code wins
	cr_assert(eq(int, casty_spawn_mailbox(sys, WorkMsg, casty_setup(
		work_setup, NULL, 0), "bounded2", &mine, &b), CASTY_OK));
	cr_assert(eq(u32, atomic_load(&b.ref.cell->capacity), 50));
	cr_assert(eq(int, casty_spawn(sys, WorkMsg, casty_setup(work_setup,
		NULL, 0), "_hidden", &f), CASTY_OK));
	cr_assert(eq(u32, atomic_load(&f.ref.cell->capacity), 0));

	// Supervised from the file: restarted.
	ping(sys, a); // every earlier setup has run
	ping(sys, b);
	ping(sys, f);
	atomic_store(&starts, 0);
	cr_assert(eq(int, casty_spawn(sys, WorkMsg, casty_setup(work_setup,
		NULL, 0), "sup-1", &d), CASTY_OK));
	casty_tell(d, Boom, 0);
	ping(sys, d);
	cr_assert(eq(int, atomic_load(&starts), 2));

	// "stop" from the file, but restart in code: code wins.
	atomic_store(&starts, 0);
	cr_assert(eq(int, casty_spawn(sys, WorkMsg, casty_supervise(
		casty_setup(work_setup, NULL, 0), CASTY_ONE_FOR_ONE),
		"stopper-1", &e), CASTY_OK));
	casty_tell(e, Boom, 0);
	ping(sys, e);
	cr_assert(eq(int, atomic_load(&starts), 2));

	// "stop" from the file: stopped.
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	cr_assert(eq(int, casty_spawn(sys, WorkMsg, casty_setup(work_setup,
		NULL, 0), "stopper-2", &e), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, e.ref), CASTY_OK));
	casty_tell(e, Boom, 0);
	cr_assert(eq(int, probe_await(sys, probe, e.ref), 0));

	casty_system_destroy(sys);
	casty_config_free(c);

	// A name in code wins over the file's.
	c = parse_ok("[system]\nname = \"from-file\"\n");
	casty_system_config_init(&sc);
	sc.config = c;
	sc.name = "from-code";
	cr_assert(eq(int, casty_system_create(&sc, &sys), CASTY_OK));
	cr_assert(eq(str, (char *)casty_system_name(sys), "from-code"));
	casty_system_destroy(sys);
	casty_config_free(c);
	casty_log_set_level(CASTY_LOG_INFO);
}

Test(config, the_cluster_tables_become_cluster_options)
{
	casty_config *c = parse_ok(readme_full);
	casty_cluster_options o;
	casty_cluster_options_from_config(c, &o);
	cr_assert(eq(str, o.host, "0.0.0.0"));
	cr_assert(eq(u16, o.port, 25520));
	cr_assert(eq(sz, o.nseed_nodes, 2));
	cr_assert(eq(str, (char *)o.seed_nodes[0].host, "node1"));
	cr_assert(eq(dbl, o.heartbeat.interval, 0.5));
	cr_assert(eq(dbl, o.failure_detector.threshold, 8.0));
	cr_assert(eq(u32, o.gossip.fanout, 3));
	cr_assert(eq(sz, o.nroles, 1));
	cr_assert(eq(str, (char *)o.roles[0], "worker"));
	cr_assert(eq(u32, o.max_pending_per_node, 64)); // not in the file
	casty_config_free(c);

	// No host: the defaults, but roles, the tuning tables and the
	// transport still count.
	c = parse_ok("[transport]\nmax_pending_per_path = 10\n"
		     "[cluster]\nroles = [\"b\", \"a\"]\n"
		     "[cluster.gossip]\nfanout = 5\n");
	casty_cluster_options_from_config(c, &o);
	cr_assert(eq(u32, o.gossip.fanout, 5));
	cr_assert(eq(u16, o.port, 0));
	cr_assert(eq(sz, o.nseed_nodes, 0));
	cr_assert(eq(sz, o.nroles, 2));
	cr_assert(eq(str, (char *)o.roles[0], "b")); // sorted only at start
	cr_assert(eq(u32, o.max_pending_per_node, 10));
	casty_config_free(c);

	// No config: the defaults of casty_cluster_options_init.
	casty_cluster_options_from_config(NULL, &o);
	cr_assert(eq(sz, o.nroles, 0));
	cr_assert(eq(u32, o.max_pending_per_node, 64));
}

Test(config, costly_patterns_are_refused_and_modest_ones_work)
{
	// glibc's regcomp grows exponentially on stacked repetitions (the
	// loader fuzz target found "0++++..." exhausting memory).
	expect_error("[actors.\"a++\"]\nmailbox = {}\n", 1, 9, "actors.a++",
		"repetition right after another");
	expect_error("[actors.\"x{100}\"]\nmailbox = {}\n", 1, 9,
		"actors.x{100}", "above 32");
	expect_error("[actors.\"(a+)(b+)(c+)(d+)(e+)(f+)(g+)(h+)(i+)\"]\n"
		     "mailbox = {}\n",
		1, 9, "actors.(a+)(b+)(c+)(d+)(e+)(f+)(g+)(h+)(i+)",
		"more than 8");
	casty_config *c = parse_ok(
		"[actors.\"sensor-\\\\d{3}\"]\nmailbox = { capacity = 3 }\n"
		"[actors.\"w[+*]{1,}\"]\nmailbox = { capacity = 4 }\n");
	casty_actor_config a;
	casty_config_resolve(c, "sensor-042", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 3));
	casty_config_resolve(c, "sensor-0042", &a);
	cr_assert(not(a.has_mailbox));
	casty_config_resolve(c, "w+*", &a);
	cr_assert(eq(u32, a.mailbox.capacity, 4));
	casty_config_free(c);
}
