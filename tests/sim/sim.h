// tests/sim/sim.h: a deterministic simulator for the cluster's state
// machines (FoundationDB's and TigerBeetle's method, cluster reference
// §3.3-3.4): every node of a cluster in one thread, a simulated clock,
// and a simulated network that loses, delays, duplicates and reorders
// frames and cuts links (symmetric or one-way), with nodes that crash,
// restart as new incarnations, and pause (frames and ticks wait, as they
// do for a SIGSTOPped process). Every random choice comes from one seeded
// generator, and events at the same time run in the order they were
// made, so a seed replays a run exactly; sim_trace_hash tells two runs
// apart.
//
// The world knows nothing of membership: a node is a process (its ops),
// which the world boots, hands frames and timer ticks to, and crashes.
// tests/sim/sim_membership.c runs cst_membership machines in it; the
// sharding and replication machines are meant to run in it the same
// way, as more processes over the same network.
#ifndef CASTY_TESTS_SIM_SIM_H
#define CASTY_TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_NODES  128
#define SIM_MAX_TIMERS 8 // per node

typedef struct sim_world sim_world;

/** sim_process_ops is what the world does to a node's process. */
typedef struct sim_process_ops {
	/** boot: incarnation of node starts now; returns its state. */
	void *(*boot)(sim_world *w, int node, uint64_t incarnation, void *arg);
	/** frame: a frame from a node (its incarnation when it was sent). */
	void (*frame)(void *proc, int from, uint64_t from_incarnation,
	    uint8_t kind, const uint8_t *body, size_t len);
	/** timer: a tick of one of the node's periodic timers. */
	void (*timer)(void *proc, int timer);
	/** crash: the process dies: free its state. */
	void (*crash)(void *proc);
} sim_process_ops;

/** sim_net is how the network treats every frame. */
typedef struct sim_net {
	double   loss;          // probability that a frame is lost
	double   duplicate;     // that it arrives twice
	uint64_t delay_min_us;  // every frame takes at least this
	uint64_t delay_mean_us; // plus an exponential delay of this mean
} sim_net;

/** sim_new makes a world of nnodes nodes, none booted yet. */
sim_world *sim_new(uint64_t seed, int nnodes, const sim_process_ops *ops,
    void *arg);

/** sim_free crashes what is left and frees the world. */
void sim_free(sim_world *w);

int      sim_nodes(const sim_world *w);
uint64_t sim_now_us(const sim_world *w);
uint64_t sim_now_ms(const sim_world *w);

/** sim_random is the world's generator (splitmix64): the only one. */
uint64_t sim_random(sim_world *w);
/** sim_below is a uniform draw in [0, n). */
uint64_t sim_below(sim_world *w, uint64_t n);
/** sim_chance is true with probability p. */
bool sim_chance(sim_world *w, double p);

/*
 * For processes.
 */

/** sim_send puts a frame from node `from` on the network to `to`. */
void sim_send(sim_world *w, int from, int to, uint8_t kind, const void *body,
    size_t len);

/**
 * sim_timer_every makes timer (< SIM_MAX_TIMERS) of node tick every
 * period_us, first at a random point of the first period, for as long
 * as this incarnation lives.
 */
void sim_timer_every(sim_world *w, int node, int timer, uint64_t period_us);

/*
 * Faults and the network.
 */

void sim_set_net(sim_world *w, const sim_net *net);
const sim_net *sim_get_net(const sim_world *w);

/** sim_cut drops every frame from `from` to `to` (one way) or not. */
void sim_cut(sim_world *w, int from, int to, bool cut);
/** sim_is_cut says whether frames from `from` to `to` are dropped. */
bool sim_is_cut(const sim_world *w, int from, int to);
/** sim_heal restores every link. */
void sim_heal(sim_world *w);

/** sim_boot starts node with a new incarnation (it must be down). */
void sim_boot(sim_world *w, int node);
/** sim_crash kills node: its state is gone, frames to it are lost. */
void sim_crash(sim_world *w, int node);
/** sim_pause stops node: frames and ticks wait until sim_resume. */
void sim_pause(sim_world *w, int node);
void sim_resume(sim_world *w, int node);

bool     sim_alive(const sim_world *w, int node); // booted, not crashed
bool     sim_paused(const sim_world *w, int node);
uint64_t sim_incarnation(const sim_world *w, int node);
void    *sim_process(const sim_world *w, int node); // NULL when down

/*
 * Running.
 */

/** sim_action is work the world runs at a time of its own. */
typedef void (*sim_action)(sim_world *w, void *arg, uint64_t value);

/** sim_at runs fn(w, arg, value) at at_us (not before now). */
void sim_at(sim_world *w, uint64_t at_us, sim_action fn, void *arg,
    uint64_t value);

/**
 * sim_step runs the next event and returns the node it ran on (-1 for
 * an action or an event that found its node gone), or -2 when there are
 * no events before limit_us (the clock is then limit_us).
 */
int sim_step(sim_world *w, uint64_t limit_us);

/** sim_trace_hash is a hash of every event run so far, in order. */
uint64_t sim_trace_hash(const sim_world *w);

/** sim_events_run counts the events run so far. */
uint64_t sim_events_run(const sim_world *w);

#endif // CASTY_TESTS_SIM_SIM_H
