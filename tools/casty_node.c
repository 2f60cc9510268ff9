// tools/casty_node.c: casty-node, one cluster node in a process of its
// own, driven over stdin and stdout: the multi-process tests start
// several, kill some, and read what each one saw. Every line it prints
// starts with a word that says what it is:
//
//   PORT <port>                      once listening
//   INCARNATION <n>                  once this node is a member
//   EVENT <kind> <host>:<port> inc=<n> roles=<roles>
//                                    kind: joined up left downed removed
//                                    unreachable reachable leader
//   EVENT leader none                no member can lead
//   MEMBER <host>:<port> <status> <inc> reachable|unreachable roles=<roles>
//   END                              after the MEMBER lines
//   LEADER <host>:<port> <inc>       or LEADER none: the leader
//   OK <command>, ERROR <text>       answers to commands
//   LOG <LEVEL> <text>               the runtime's log lines
//   DOWNED                           this node was downed: it exits 3
//
// <roles> is the member's roles, sorted and comma-separated, empty for
// none (a role has no space or comma: include/casty/config.h). With
// --stamp every line starts with the CLOCK_MONOTONIC time in
// milliseconds and a space, which the fault-injection harness
// (tests/chaos) reads to time what each node saw.
//
// Commands on stdin, one per line: members, leader, leave, quit. End of
// input, SIGTERM and SIGINT are a quit too: the node stops and exits 0.
// A node its cluster downs (the split-brain resolver kept another side)
// prints DOWNED, stops and exits 3: start it again to rejoin.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <casty/casty.h>

#define MAX_SEEDS 16
#define MAX_ROLES CASTY_ROLES_MAX
#define MAX_SECRET 64 // cluster.h's bound

static const char usage[] =
	"usage: casty-node [OPTIONS]\n"
	"\n"
	"Runs one casty cluster node; prints PORT, INCARNATION (once a\n"
	"member), membership EVENT lines and LOG lines on stdout, and reads\n"
	"the commands members, leave and quit on stdin (end of input and\n"
	"SIGTERM quit too).\n"
	"\n"
	"  --name SYSTEM            system and cluster name (casty-system)\n"
	"  --host HOST              numeric address to listen on (127.0.0.1)\n"
	"  --port PORT              port to listen on; 0: any (0)\n"
	"  --seed HOST:PORT         a seed node; repeatable; none: found a\n"
	"                           new cluster\n"
	"  --role NAME              a role of this node; repeatable (up to\n"
	"                           8, each 1 to 31 bytes, no space or comma)\n"
	"  --secret STRING          the cluster's shared secret\n"
	"  --secret-file FILE       the secret: the file's bytes, without a\n"
	"                           final newline\n"
	"  --downing STRATEGY       split-brain resolver: off, keep-majority,\n"
	"                           static-quorum, keep-oldest, down-all (off)\n"
	"  --stable-after-ms N      decide once the view is stable this long\n"
	"                           (0: by cluster size, 7 s up to 5 nodes)\n"
	"  --quorum-size N          static-quorum's quorum\n"
	"  --down-all-when-unstable on|off   (on)\n"
	"  --down-if-alone on|off   keep-oldest's rule (on)\n"
	"  --gossip-ms N            gossip interval\n"
	"  --heartbeat-ms N         heartbeat interval\n"
	"  --check-ms N             availability check interval\n"
	"  --phi-threshold X        failure detector threshold\n"
	"  --min-std-ms N           failure detector minimum deviation\n"
	"  --pause-ms N             acceptable heartbeat pause\n"
	"  --first-estimate-ms N    first heartbeat interval estimate\n"
	"  --workers N              worker threads (0: one per CPU)\n"
	"  --log LEVEL              debug, info, warn, error or off (info)\n"
	"  --stamp                  start every line with the monotonic time\n"
	"                           in milliseconds\n"
	"  --help                   this text\n";

// stdout is written by the main thread and by the log sink (any thread);
// one lock keeps every line whole. Recursive: the MEMBER block holds it
// around its say calls.
static pthread_mutex_t out_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static bool            stamp; // --stamp

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&out_lock);
	if (stamp) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld ", (long long)ts.tv_sec * 1000 +
					ts.tv_nsec / 1000000);
	}
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	va_end(ap);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("casty-node: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see --help)\n", stderr);
	va_end(ap);
	exit(2);
}

// ---- Options ----

static uint64_t
parse_u64(const char *opt, const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > max) {
		bad_usage("%s: '%s' is not a number from 0 to %" PRIu64, opt, s,
			max);
	}
	return v;
}

static double
parse_positive(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v > 0 && v < 1e9)) {
		bad_usage("%s: '%s' is not a positive number", opt, s);
	}
	return v;
}

// HOST:PORT, or [HOST]:PORT for IPv6.
static void
parse_seed(const char *s, casty_node_address *out)
{
	const char *colon = strrchr(s, ':');
	const char *host = s;
	size_t      len = colon != NULL ? (size_t)(colon - s) : 0;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (colon == NULL || len == 0 || len >= sizeof out->host) {
		bad_usage("--seed: '%s' is not HOST:PORT", s);
	}
	memset(out, 0, sizeof *out);
	memcpy(out->host, host, len);
	out->port = (uint16_t)parse_u64("--seed", colon + 1, 65535);
	if (out->port == 0) {
		bad_usage("--seed: '%s' has port 0", s);
	}
}

static size_t
read_secret(const char *path, char *buf)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		bad_usage("--secret-file: cannot open '%s': %s", path,
			strerror(errno));
	}
	size_t n = fread(buf, 1, MAX_SECRET + 1, f);
	bool   failed = ferror(f);
	fclose(f);
	if (failed) {
		bad_usage("--secret-file: cannot read '%s'", path);
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
	}
	if (n == 0 || n > MAX_SECRET) {
		bad_usage("--secret-file: '%s' must hold 1 to %d bytes", path,
			MAX_SECRET);
	}
	return n;
}

static bool
parse_switch(const char *opt, const char *s)
{
	if (strcmp(s, "on") != 0 && strcmp(s, "off") != 0) {
		bad_usage("%s: '%s' is not on or off", opt, s);
	}
	return strcmp(s, "on") == 0;
}

static casty_log_level
parse_level(const char *s)
{
	static const char *const names[] = {"debug", "info", "warn", "error",
		"off"};
	for (int i = 0; i < 5; i++) {
		if (strcmp(s, names[i]) == 0) {
			return (casty_log_level)i; // the enum's order
		}
	}
	bad_usage("--log: '%s' is not debug, info, warn, error or off", s);
}

typedef struct node_args {
	casty_system_config   system;
	casty_cluster_options cluster;
	casty_node_address    seeds[MAX_SEEDS];
	const char           *roles[MAX_ROLES];
	char                  secret[MAX_SECRET + 1];
	casty_log_level       log_level;
} node_args;

static void
parse_args(int argc, char **argv, node_args *a)
{
	enum { NAME = 256, HOST, PORT, SEED, ROLE, SECRET, SECRET_FILE, DOWN,
		DOWNING, STABLE, QUORUM, UNSTABLE, ALONE, GOSSIP, HEARTBEAT,
		CHECK, THRESHOLD, MIN_STD, PAUSE, FIRST, WORKERS, LOG, STAMP,
		HELP };
	static const struct option longopts[] = {
		{"name", required_argument, NULL, NAME},
		{"host", required_argument, NULL, HOST},
		{"port", required_argument, NULL, PORT},
		{"seed", required_argument, NULL, SEED},
		{"role", required_argument, NULL, ROLE},
		{"secret", required_argument, NULL, SECRET},
		{"secret-file", required_argument, NULL, SECRET_FILE},
		{"down-after-ms", required_argument, NULL, DOWN},
		{"downing", required_argument, NULL, DOWNING},
		{"stable-after-ms", required_argument, NULL, STABLE},
		{"quorum-size", required_argument, NULL, QUORUM},
		{"down-all-when-unstable", required_argument, NULL, UNSTABLE},
		{"down-if-alone", required_argument, NULL, ALONE},
		{"gossip-ms", required_argument, NULL, GOSSIP},
		{"heartbeat-ms", required_argument, NULL, HEARTBEAT},
		{"check-ms", required_argument, NULL, CHECK},
		{"phi-threshold", required_argument, NULL, THRESHOLD},
		{"min-std-ms", required_argument, NULL, MIN_STD},
		{"pause-ms", required_argument, NULL, PAUSE},
		{"first-estimate-ms", required_argument, NULL, FIRST},
		{"workers", required_argument, NULL, WORKERS},
		{"log", required_argument, NULL, LOG},
		{"stamp", no_argument, NULL, STAMP},
		{"help", no_argument, NULL, HELP},
		{NULL, 0, NULL, 0},
	};
	casty_system_config_init(&a->system);
	casty_cluster_options_init(&a->cluster);
	a->log_level = CASTY_LOG_INFO;
	casty_cluster_options *o = &a->cluster;
	opterr = 0; // our own message, on one line
	int opt, at = 0;
	// ":" first: a missing value is ':', an unknown option '?'.
	while ((opt = getopt_long(argc, argv, ":", longopts, &at)) != -1) {
		char name[32];
		snprintf(name, sizeof name, "--%s", longopts[at].name);
		switch (opt) {
		case NAME:
			if (optarg[0] == '\0' || strlen(optarg) >= 64) {
				bad_usage("--name: 1 to 63 characters");
			}
			a->system.name = optarg;
			break;
		case HOST:
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof o->host) {
				bad_usage("--host: '%s' is not an address", optarg);
			}
			strcpy(o->host, optarg);
			break;
		case PORT:
			o->port = (uint16_t)parse_u64(name, optarg, 65535);
			break;
		case SEED:
			if (o->nseed_nodes == MAX_SEEDS) {
				bad_usage("--seed: at most %d seeds", MAX_SEEDS);
			}
			parse_seed(optarg, &a->seeds[o->nseed_nodes++]);
			break;
		case ROLE:
			// What a role may be is checked at start (-EINVAL,
			// exit 2), by the rule every node applies.
			if (o->nroles == MAX_ROLES) {
				bad_usage("--role: at most %d roles",
					MAX_ROLES);
			}
			a->roles[o->nroles++] = optarg;
			break;
		case SECRET:
			if (optarg[0] == '\0' || strlen(optarg) > MAX_SECRET) {
				bad_usage("--secret: 1 to %d bytes", MAX_SECRET);
			}
			o->secret_len = strlen(optarg);
			memcpy(a->secret, optarg, o->secret_len);
			break;
		case SECRET_FILE:
			o->secret_len = read_secret(optarg, a->secret);
			break;
		case DOWN:
			bad_usage("--down-after-ms is gone: downing after a "
				  "timeout lets both sides of a partition down "
				  "each other and go on as two clusters; use "
				  "--downing keep-majority");
		case DOWNING:
			if (casty_downing_strategy_parse(optarg,
				    &o->downing.strategy) != CASTY_OK) {
				bad_usage("--downing: '%s' is not off, "
					  "keep-majority, static-quorum, "
					  "keep-oldest or down-all",
					optarg);
			}
			break;
		case STABLE:
			o->downing.stable_after =
				(double)parse_u64(name, optarg, 86400000) / 1000;
			break;
		case QUORUM:
			o->downing.quorum_size =
				(uint32_t)parse_u64(name, optarg, 1024);
			break;
		case UNSTABLE:
			o->downing.down_all_when_unstable =
				parse_switch(name, optarg);
			break;
		case ALONE:
			o->downing.down_if_alone = parse_switch(name, optarg);
			break;
		case GOSSIP:
			o->gossip.interval = parse_positive(name, optarg) / 1000;
			break;
		case HEARTBEAT:
			o->heartbeat.interval = parse_positive(name, optarg) / 1000;
			break;
		case CHECK:
			o->heartbeat.availability_check_interval =
				parse_positive(name, optarg) / 1000;
			break;
		case THRESHOLD:
			o->failure_detector.threshold =
				parse_positive(name, optarg);
			break;
		case MIN_STD:
			o->failure_detector.min_std_deviation_ms =
				parse_positive(name, optarg);
			break;
		case PAUSE:
			o->failure_detector.acceptable_heartbeat_pause_ms =
				(double)parse_u64(name, optarg, UINT32_MAX);
			break;
		case FIRST:
			o->failure_detector.first_heartbeat_estimate_ms =
				parse_positive(name, optarg);
			break;
		case WORKERS:
			a->system.workers =
				(unsigned)parse_u64(name, optarg, 1024);
			break;
		case LOG:
			a->log_level = parse_level(optarg);
			break;
		case STAMP:
			stamp = true;
			break;
		case HELP:
			fputs(usage, stdout);
			exit(0);
		case ':':
			bad_usage("%s needs a value", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < NAME) { // a short one, "-x"
				bad_usage("unknown option '-%c'", optopt);
			}
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		bad_usage("unexpected argument '%s'", argv[optind]);
	}
	o->seed_nodes = a->seeds;
	o->roles = a->roles;
	if (o->secret_len != 0) {
		o->secret = a->secret;
	}
}

// ---- Membership events ----

CASTY_PROTOCOL(MemberEvents, casty_member_joined, casty_member_up,
	casty_member_left, casty_member_downed, casty_member_removed,
	casty_unreachable_member, casty_reachable_member,
	casty_leader_changed);

// The printer actor hands each event to the main thread as one record
// through this pipe (one write, below PIPE_BUF, so whole): the main
// thread prints INCARNATION before the first event that shows self a
// member, so the order PORT, INCARNATION, EVENT holds on stdout.
static int event_pipe[2] = {-1, -1};

typedef struct event_record {
	char     kind[12];
	char     host[256];
	unsigned port;
	uint64_t incarnation;
	char     roles[CASTY_ROLES_TEXT_MAX];
} event_record;
_Static_assert(sizeof(event_record) <= PIPE_BUF, "one write is atomic");

CASTY_HANDLER(printer_receive, void)
{
	event_record r;
	memset(&r, 0, sizeof r);
	switch (MemberEvents_tag_of(msg)) {
#define EVENT_CASE(T, name)                                                   \
	case MemberEvents_##T: {                                              \
		const T *e = CASTY_AS(T, msg);                                \
		strcpy(r.kind, name);                                         \
		memcpy(r.host, e->host, sizeof r.host);                       \
		r.port = e->port;                                             \
		r.incarnation = e->incarnation;                               \
		memcpy(r.roles, e->roles, sizeof r.roles);                    \
		break;                                                        \
	}
		EVENT_CASE(casty_member_joined, "joined")
		EVENT_CASE(casty_member_up, "up")
		EVENT_CASE(casty_member_left, "left")
		EVENT_CASE(casty_member_downed, "downed")
		EVENT_CASE(casty_member_removed, "removed")
		EVENT_CASE(casty_unreachable_member, "unreachable")
		EVENT_CASE(casty_reachable_member, "reachable")
		EVENT_CASE(casty_leader_changed, "leader")
#undef EVENT_CASE
	}
	if (write(event_pipe[1], &r, sizeof r) != (ssize_t)sizeof r) {
		// Only when the main thread has stopped reading: at exit.
	}
	return casty_same();
}

static void
log_line(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	say("LOG %s %s%s%s", casty_log_level_name(level), path,
		path[0] != '\0' ? ": " : "", message);
}

// ---- The main loop ----

typedef struct node {
	casty_system  *sys;
	casty_cluster *cluster;
	const char    *host;
	bool           member; // INCARNATION printed
	bool           downed; // its own downed event came
	// Writes are whole records and the buffer holds whole records, so
	// reads return whole ones; a tail would wait here for its rest.
	uint8_t events[16 * sizeof(event_record)];
	size_t  nevents;
} node;

static const char *
status_name(casty_member_status s)
{
	static const char *const names[] = {"joining", "up", "leaving",
		"exiting", "down", "removed"};
	return (unsigned)s < 6 ? names[s] : "?";
}

// Fills *n with the member count; the array is the caller's to free.
static casty_member_info *
members(node *nd, size_t *n)
{
	casty_member_info *info = NULL;
	size_t             cap = 0;
	for (;;) {
		if (casty_cluster_members(nd->cluster, info, cap, n) != CASTY_OK) {
			*n = 0;
			return info;
		}
		if (*n <= cap) {
			return info;
		}
		cap = *n + 8; // it may grow meanwhile
		free(info);
		info = malloc(cap * sizeof *info);
		if (info == NULL) {
			*n = 0;
			return NULL;
		}
	}
}

static void
print_members(node *nd)
{
	size_t             n;
	casty_member_info *info = members(nd, &n);
	pthread_mutex_lock(&out_lock); // the block stays together
	for (size_t i = 0; i < n; i++) {
		char roles[CASTY_ROLES_TEXT_MAX] = "";
		for (uint32_t k = 0; k < info[i].nroles; k++) {
			size_t at = strlen(roles);
			snprintf(roles + at, sizeof roles - at, "%s%s",
				k > 0 ? "," : "", info[i].roles[k]);
		}
		say("MEMBER %s:%u %s %" PRIu64 " %s roles=%s", info[i].host,
			info[i].port, status_name(info[i].status),
			info[i].incarnation,
			info[i].reachable ? "reachable" : "unreachable", roles);
	}
	say("END");
	pthread_mutex_unlock(&out_lock);
	free(info);
}

static void
print_incarnation(node *nd, uint64_t incarnation)
{
	if (!nd->member) {
		say("INCARNATION %" PRIu64, incarnation);
		nd->member = true;
	}
}

// This run, not an earlier one at the same host:port (a restarted node
// sees its old incarnation downed and removed).
static bool
is_self(const node *nd, const char *host, uint16_t port, uint64_t incarnation)
{
	return port == casty_cluster_port(nd->cluster) &&
	       strcmp(host, nd->host) == 0 &&
	       incarnation == casty_cluster_incarnation(nd->cluster);
}

// Self is in the snapshot once admitted; the snapshot is published
// before the events of the same change, so checking on every event
// finds it no later than the first event that follows.
static void
check_member(node *nd)
{
	size_t             n;
	casty_member_info *info = members(nd, &n);
	for (size_t i = 0; i < n && !nd->member; i++) {
		if (is_self(nd, info[i].host, info[i].port, info[i].incarnation)) {
			print_incarnation(nd, info[i].incarnation);
		}
	}
	free(info);
}

// Prints the events the printer actor has handed over so far; false
// once the pipe is empty.
static bool
relay_events(node *nd)
{
	ssize_t r = read(event_pipe[0], nd->events + nd->nevents,
		sizeof nd->events - nd->nevents);
	if (r <= 0) {
		return false;
	}
	nd->nevents += (size_t)r;
	size_t used = 0;
	for (; nd->nevents - used >= sizeof(event_record);
	     used += sizeof(event_record)) {
		event_record e;
		memcpy(&e, nd->events + used, sizeof e);
		if (!nd->member) {
			check_member(nd);
		}
		// A snapshot read late may have lost self already (a quick
		// leave); self's own events carry its incarnation too.
		if (!nd->member && is_self(nd, e.host, e.port, e.incarnation)) {
			print_incarnation(nd, e.incarnation);
		}
		if (e.port == 0) {
			say("EVENT %s none", e.kind); // no leader
		} else {
			say("EVENT %s %s:%u inc=%" PRIu64 " roles=%s", e.kind,
				e.host, e.port, e.incarnation, e.roles);
		}
		if (strcmp(e.kind, "downed") == 0 &&
		    is_self(nd, e.host, e.port, e.incarnation)) {
			nd->downed = true;
		}
	}
	nd->nevents -= used;
	memmove(nd->events, nd->events + used, nd->nevents);
	return true;
}

// Runs one command; false for quit.
static bool
command(node *nd, const char *line)
{
	if (strcmp(line, "members") == 0) {
		print_members(nd);
	} else if (strcmp(line, "leader") == 0) {
		casty_member_info l;
		if (casty_cluster_leader(nd->cluster, &l) == CASTY_OK) {
			say("LEADER %s:%u %" PRIu64, l.host, l.port,
				l.incarnation);
		} else {
			say("LEADER none");
		}
	} else if (strcmp(line, "leave") == 0) {
		int rc = casty_cluster_leave(nd->cluster);
		if (rc == CASTY_OK) {
			say("OK leave");
		} else {
			say("ERROR leave: %s", casty_strerror(rc));
		}
	} else if (strcmp(line, "quit") == 0) {
		return false;
	} else if (line[0] != '\0') {
		say("ERROR unknown command '%s'", line);
	}
	return true;
}

// Reads stdin, the event pipe and the signals until a quit.
static void
serve(node *nd, int sigfd)
{
	char   in[1024];
	size_t nin = 0;
	for (;;) {
		struct pollfd p[3] = {
			{.fd = STDIN_FILENO, .events = POLLIN},
			{.fd = event_pipe[0], .events = POLLIN},
			{.fd = sigfd, .events = POLLIN},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			return;
		}
		if (p[1].revents != 0) {
			(void)relay_events(nd);
			if (nd->downed) {
				return;
			}
		}
		if (p[2].revents != 0) {
			return; // SIGTERM or SIGINT: a quit
		}
		if (p[0].revents == 0) {
			continue;
		}
		ssize_t r = read(STDIN_FILENO, in + nin, sizeof in - 1 - nin);
		if (r <= 0) {
			return; // end of input: a quit
		}
		nin += (size_t)r;
		char *start = in, *nl;
		while ((nl = memchr(start, '\n', nin - (size_t)(start - in))) != NULL) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r') {
				nl[-1] = '\0';
			}
			if (!command(nd, start)) {
				return;
			}
			start = nl + 1;
		}
		nin -= (size_t)(start - in);
		memmove(in, start, nin);
		if (nin == sizeof in - 1) {
			say("ERROR line too long");
			nin = 0;
		}
	}
}

int
main(int argc, char **argv)
{
	static node_args a; // large: the seeds' host buffers
	parse_args(argc, argv, &a);
	setvbuf(stdout, NULL, _IOLBF, 0);
	casty_log_set_level(a.log_level);
	casty_log_set_sink(log_line, NULL);

	// The signals are read from a signalfd by the main thread, so they
	// are blocked before any thread starts (threads inherit the mask).
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN); // a reader gone is a write error, not death
	int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	// Non-blocking: the printer must never wait on the main thread, and
	// the last relay reads until the pipe is empty.
	if (sigfd < 0 || pipe2(event_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, "casty-node: %s\n", strerror(errno));
		return 1;
	}

	node nd = {.host = a.cluster.host};
	int  rc = casty_system_create(&a.system, &nd.sys);
	if (rc != CASTY_OK) {
		fprintf(stderr, "casty-node: cannot create the system: %s\n",
			casty_strerror(rc));
		return 1;
	}
	// Subscribed before the node starts, so no event is missed.
	MemberEvents_ref printer;
	rc = casty_spawn(nd.sys, MemberEvents,
		casty_receive(printer_receive, NULL, 0), "printer", &printer);
	const casty_msg_type *const events[] = {&casty_member_joined__type,
		&casty_member_up__type, &casty_member_left__type,
		&casty_member_downed__type, &casty_member_removed__type,
		&casty_unreachable_member__type, &casty_reachable_member__type,
		&casty_leader_changed__type};
	for (size_t i = 0; rc == CASTY_OK && i < sizeof events / sizeof *events;
	     i++) {
		rc = casty_subscribe_type(nd.sys, printer.ref, events[i]);
	}
	if (rc == CASTY_OK) {
		rc = casty_cluster_start(nd.sys, &a.cluster, &nd.cluster);
	}
	if (rc != CASTY_OK) {
		// -EINVAL: options the node refuses (a host that is not a
		// numeric address, a failure detector it cannot run), which
		// are bad arguments too.
		fprintf(stderr, "casty-node: cannot start the node on %s:%u: %s%s\n",
			a.cluster.host, a.cluster.port, casty_strerror(rc),
			rc == -EINVAL ? " (see --help)" : "");
		casty_system_destroy(nd.sys);
		return rc == -EINVAL ? 2 : 1;
	}
	say("PORT %u", casty_cluster_port(nd.cluster));
	check_member(&nd); // a founder may be up already

	serve(&nd, sigfd);
	if (nd.downed) {
		say("DOWNED");
	}

	casty_cluster_stop(nd.cluster);
	nd.cluster = NULL; // freed: the last relay reads no members
	casty_system_destroy(nd.sys);
	while (relay_events(&nd)) {
		// what came in before the stop
	}
	close(event_pipe[0]);
	close(event_pipe[1]);
	close(sigfd);
	return nd.downed ? 3 : 0;
}
