// examples/cluster_greeter.h: what the cluster examples share. Every node
// runs the same code: a greeter actor that answers Greet with a text, and
// a member log that prints the membership events it is subscribed to
// (the README's "Worker joined: ..." lines) and counts them, so that the
// program can wait for what it expects to see instead of sleeping.
#ifndef CASTY_EXAMPLES_CLUSTER_GREETER_H
#define CASTY_EXAMPLES_CLUSTER_GREETER_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

typedef struct {
	char      name[32];
	casty_ref reply_to;
} Greet;
CASTY_MESSAGE(Greet, name, reply_to);
CASTY_PROTOCOL(Greeter, Greet);

// The greeter's state: the name of its node.
typedef struct {
	char node[8];
} greeter_state;

CASTY_HANDLER(greeter_receive, greeter_state)
{
	const Greet *g = CASTY_AS(Greet, msg);
	if (g == NULL) {
		return casty_unhandled();
	}
	casty_send_textf(g->reply_to, "Hello, %s! (from node %s)", g->name,
		state->node);
	return casty_same();
}

static inline casty_behavior
greeter(const char *node)
{
	greeter_state s;
	snprintf(s.node, sizeof s.node, "%s", node);
	return casty_receive(greeter_receive, &s, sizeof s);
}

CASTY_PROTOCOL(MemberLog, casty_member_up, casty_member_left);

// How many lines the member logs of this process have printed.
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  log_cond = PTHREAD_COND_INITIALIZER;
static int             log_lines;

// The member log's state: its node's name and host.
typedef struct {
	char node[8];
	char host[32];
} member_log_state;

static void
log_line(const char *node, const char *what, const char *system,
	const char *host)
{
	pthread_mutex_lock(&log_lock);
	printf("[%s] %s: %s@%s\n", node, what, system, host);
	fflush(stdout);
	log_lines++;
	pthread_cond_broadcast(&log_cond);
	pthread_mutex_unlock(&log_lock);
}

CASTY_HANDLER(member_log_receive, member_log_state)
{
	switch (MemberLog_tag_of(msg)) {
	case MemberLog_casty_member_up: {
		const casty_member_up *e = CASTY_AS(casty_member_up, msg);
		log_line(state->node, "Worker joined", e->system, e->host);
		break;
	}
	case MemberLog_casty_member_left: {
		const casty_member_left *e = CASTY_AS(casty_member_left, msg);
		if (strcmp(e->host, state->host) != 0) { // others only
			log_line(state->node, "Worker left", e->system, e->host);
		}
		break;
	}
	}
	return casty_same();
}

// Spawns the member log of node (which listens on host) and subscribes
// it to the membership events.
static inline void
start_member_log(casty_system *sys, const char *node, const char *host)
{
	member_log_state s;
	snprintf(s.node, sizeof s.node, "%s", node);
	snprintf(s.host, sizeof s.host, "%s", host);
	MemberLog_ref log;
	casty_spawn(sys, MemberLog,
		casty_receive(member_log_receive, &s, sizeof s), "member-log",
		&log);
	casty_subscribe(sys, log, casty_member_up);
	casty_subscribe(sys, log, casty_member_left);
}

// Waits until the member logs have printed n lines in all.
static inline void
wait_log_lines(int n)
{
	pthread_mutex_lock(&log_lock);
	while (log_lines < n) {
		pthread_cond_wait(&log_cond, &log_lock);
	}
	pthread_mutex_unlock(&log_lock);
}

// Asks the greeter at uri to greet name, through cluster c, and prints
// the answer as node.
static inline void
greet_remote(casty_system *sys, casty_cluster *c, const char *node,
	const char *uri, const char *name)
{
	Greeter_ref remote;
	casty_msg  *reply;
	int         rc = casty_cluster_lookup(c, uri, 10000, &remote.ref);
	if (rc == CASTY_OK) {
		Greet g = {.reply_to = CASTY_REF_NONE};
		snprintf(g.name, sizeof g.name, "%s", name);
		rc = casty_ask_msg(sys, remote.ref, &Greet__type,
			Greeter_Greet, &g, offsetof(Greet, reply_to), 10000,
			&reply);
	}
	if (rc != CASTY_OK) {
		printf("[%s] %s: %s\n", node, uri, casty_strerror(rc));
		return;
	}
	pthread_mutex_lock(&log_lock);
	printf("[%s] %s\n", node, CASTY_AS(casty_text, reply)->value);
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
	casty_msg_free(reply);
}

// Starts node (a system named task-queue with a greeter and a member
// log) listening on host, joining through seed (NULL: founding the
// cluster); with quorum > 0 it returns once that many members are up.
static inline casty_cluster *
start_greeter_node(casty_system **sys, const char *node, const char *host,
	const casty_node_address *seed, uint32_t quorum)
{
	casty_system_config config;
	casty_system_config_init(&config);
	config.name = "task-queue";
	casty_system_create(&config, sys);
	Greeter_ref g;
	casty_spawn(*sys, Greeter, greeter(node), "greeter", &g);
	start_member_log(*sys, node, host);

	casty_cluster_options options;
	casty_cluster_options_init(&options);
	snprintf(options.host, sizeof options.host, "%s", host);
	options.seed_nodes = seed;
	options.nseed_nodes = seed != NULL;
	options.secret = "change me"; // every node of the cluster shares it
	options.secret_len = strlen(options.secret);
	options.required_quorum = quorum;
	casty_cluster *cluster;
	int rc = casty_cluster_start(*sys, &options, &cluster);
	if (rc != CASTY_OK) {
		fprintf(stderr, "node %s: %s\n", node, casty_strerror(rc));
		return NULL;
	}
	return cluster;
}

#endif // CASTY_EXAMPLES_CLUSTER_GREETER_H
