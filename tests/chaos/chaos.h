// tests/chaos/chaos.h: the fault-injection harness (cluster reference
// §3.7): casty-node processes, each in a network namespace of its own
// on a private bridge (tests/support/netns.h), with the faults a real
// network and a real machine make: partitions of any shape and one-way
// cuts (nftables rules on each node's input), packet loss and bandwidth
// caps (nftables too), kill -9, SIGSTOP/SIGCONT and restarts.
//
// Every node runs with the default timings and keep-majority (unless
// the scenario says otherwise) and stamps its lines with the monotonic
// clock, which is the harness's clock too: every event of every run is
// kept with its time, the history is written out at the end, and the
// checks read it (no split brain) as well as the nodes' live views (one
// converged view). The times (detection, failover, convergence) are
// printed as FIGURE lines for bench/chaos.sh, never asserted.
#ifndef CASTY_TESTS_CHAOS_CHAOS_H
#define CASTY_TESTS_CHAOS_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/cluster/node_process.h"
#include "tests/support/netns.h"

#define CHAOS_NODES 7 // at most
#define CHAOS_RUNS  6 // starts of one node
#define CHAOS_PORT  2552
#define CHAOS_WAIT_MS 90000 // a generous deadline for any one wait

/** chaos_run is one start of a node: one incarnation. */
typedef struct chaos_run {
	node_proc proc;
	uint64_t  incarnation; // 0 until it is a member
	bool      ended_by_harness; // killed, or still stopped at the end
} chaos_run;

typedef struct chaos {
	const char *scenario;
	int         n;
	netns_net   net;
	char        ip[CHAOS_NODES][16];
	chaos_run   run[CHAOS_NODES][CHAOS_RUNS];
	int         nruns[CHAOS_NODES];
	bool        stopped[CHAOS_NODES]; // SIGSTOPped now
	const char *downing;              // the --downing of every node
	int         pause_ms;             // 0: the default detector
} chaos;

/**
 * chaos_open builds the network of n nodes for scenario (its name
 * names the history file) and starts no node yet; skips the test, with
 * the reason, on a machine that cannot make namespaces or nftables
 * rules. downing: a --downing strategy.
 */
void chaos_open(chaos *c, const char *scenario, int n, const char *downing);

/** chaos_close ends every run, writes the history, deletes the network. */
void chaos_close(chaos *c);

/** chaos_now is the monotonic clock in ms, as the nodes stamp it. */
int64_t chaos_now(void);

/*
 * Nodes.
 */

/** chaos_start starts node i as a new run (seeds: nodes 0, 1, 2). */
void chaos_start(chaos *c, int i);
/** chaos_start_all starts every node; returns when all are members. */
void chaos_start_all(chaos *c);
/** chaos_current is node i's latest run. */
chaos_run *chaos_current(chaos *c, int i);
/** chaos_wait_member waits for node i's latest run to be a member. */
void chaos_wait_member(chaos *c, int i);
/** chaos_kill: kill -9 of node i's run (the harness ended it). */
void chaos_kill(chaos *c, int i);
/** chaos_stop / chaos_cont: SIGSTOP and SIGCONT of node i's run. */
void chaos_stop(chaos *c, int i);
void chaos_cont(chaos *c, int i);
/** chaos_quit asks node i's run to quit and waits for it (exit 0). */
void chaos_quit(chaos *c, int i);
/**
 * chaos_wait_downed waits for node i's run to print DOWNED and exit 3
 * (its cluster downed it); returns when it printed DOWNED.
 */
int64_t chaos_wait_downed(chaos *c, int i);
/** chaos_leader: the address ("10.201.0.1") node i names as leader. */
void chaos_leader(chaos *c, int i, char *buf, size_t size);

/*
 * Faults. Rules drop on the receiving node's input, so a cut from a to b
 * stops what a sends to b and nothing else.
 */

/** chaos_cut drops what node from sends to node to. */
void chaos_cut(chaos *c, int from, int to);
/** chaos_split cuts every link between the nodes of mask a and of b. */
void chaos_split(chaos *c, unsigned a, unsigned b);
/** chaos_loss drops percent of what node i receives, at random. */
void chaos_loss(chaos *c, int i, int percent);
/** chaos_cap drops what node i receives beyond kbytes a second. */
void chaos_cap(chaos *c, int i, int kbytes);
/** chaos_heal removes every rule of every node. */
void chaos_heal(chaos *c);

/*
 * Waiting on what the nodes saw.
 */

/**
 * chaos_wait_event waits until node i's latest run printed, at or after
 * time since, "EVENT <kind> <node j's address>" (any incarnation when
 * inc is 0); returns the event's time, or -1 when CHAOS_WAIT_MS passed.
 */
int64_t chaos_wait_event(
    chaos *c, int i, const char *kind, int j, uint64_t inc, int64_t since);

/**
 * chaos_saw_event says whether any run of node i printed, at or after
 * since, "EVENT <kind>" about node j (any incarnation when inc is 0).
 */
bool chaos_saw_event(
    const chaos *c, int i, const char *kind, int j, uint64_t inc,
    int64_t since);

/**
 * chaos_wait_converged waits until the nodes of mask are each a member
 * and each shows exactly those nodes' latest runs, all up and reachable,
 * with one leader; returns the time it first held, -1 after
 * CHAOS_WAIT_MS.
 */
int64_t chaos_wait_converged(chaos *c, unsigned mask);

/**
 * chaos_converged_now says whether the nodes of mask agree now, as
 * chaos_wait_converged waits for; why says what is not so.
 */
bool chaos_converged_now(chaos *c, unsigned mask, char *why, size_t size);

/**
 * chaos_recover starts again every node whose run ended (downed), for
 * as long as it takes, until all agree; returns the time they did, -1
 * after CHAOS_WAIT_MS.
 */
int64_t chaos_recover(chaos *c);

/*
 * Checks over the history.
 */

/**
 * chaos_check_no_split_brain fails the test when two runs that were
 * both in the cluster each saw the other downed while neither was
 * downed itself (printed DOWNED) nor ended by the harness: two sides
 * that both went on acting.
 */
void chaos_check_no_split_brain(const chaos *c);

/** chaos_figure prints "FIGURE <scenario> <name> <ms>" for the bench. */
void chaos_figure(const chaos *c, const char *name, int64_t ms);

/** chaos_all is the mask of every node. */
unsigned chaos_all(const chaos *c);

#endif // CASTY_TESTS_CHAOS_CHAOS_H
