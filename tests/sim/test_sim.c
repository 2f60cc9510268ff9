// tests/sim/test_sim.c: the simulated world (tests/sim/sim.c) with toy
// processes that record what reaches them: a seed replays a run, frames
// wait for a paused node and arrive in order when it resumes, a cut link
// drops frames one way only, a crash ends a node's frames and timers and
// a boot makes a new incarnation.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "tests/sim/sim.h"

#define NODES 3
#define LOG   256

// A toy process: logs (from, first byte) of each frame and its ticks.
typedef struct toy {
	int      node;
	uint64_t incarnation;
	int      got_from[LOG];
	uint8_t  got_byte[LOG];
	int      ngot;
	int      ticks;
} toy;

static toy *last[NODES]; // the latest incarnation's state, kept on crash
static int  crashed;

static void *
toy_boot(sim_world *w, int node, uint64_t incarnation, void *arg)
{
	(void)arg;
	toy *t = calloc(1, sizeof(*t));
	cr_assert(t != NULL);
	t->node        = node;
	t->incarnation = incarnation;
	free(last[node]);
	last[node] = t;
	sim_timer_every(w, node, 0, 1000);
	return t;
}

static void
toy_frame(void *proc, int from, uint64_t from_incarnation, uint8_t kind,
    const uint8_t *body, size_t len)
{
	(void)from_incarnation;
	(void)kind;
	toy *t = proc;
	if (t->ngot < LOG && len > 0) {
		t->got_from[t->ngot]   = from;
		t->got_byte[t->ngot++] = body[0];
	}
}

static void
toy_timer(void *proc, int timer)
{
	(void)timer;
	((toy *)proc)->ticks++;
}

static void
toy_crash(void *proc)
{
	(void)proc; // kept in last[] for the test to read
	crashed++;
}

static const sim_process_ops toy_ops = {
	.boot  = toy_boot,
	.frame = toy_frame,
	.timer = toy_timer,
	.crash = toy_crash,
};

static void
reset(void)
{
	for (int i = 0; i < NODES; i++) {
		free(last[i]);
		last[i] = NULL;
	}
	crashed = 0;
}

TestSuite(sim, .init = reset, .fini = reset);

static void
run_until(sim_world *w, uint64_t us)
{
	while (sim_step(w, us) != -2) {
	}
}

static void
send_byte(sim_world *w, int from, int to, uint8_t b)
{
	sim_send(w, from, to, 1, &b, 1);
}

// Random traffic between random nodes under loss and duplication.
static uint64_t
random_run(uint64_t seed)
{
	sim_world *w = sim_new(seed, NODES, &toy_ops, NULL);
	sim_net    net = {.loss = 0.2, .duplicate = 0.1, .delay_min_us = 10,
	       .delay_mean_us = 500};
	sim_set_net(w, &net);
	for (int i = 0; i < NODES; i++) {
		sim_boot(w, i);
	}
	for (int k = 0; k < 200; k++) {
		int from = (int)sim_below(w, NODES);
		send_byte(w, from, (int)sim_below(w, NODES), (uint8_t)k);
		sim_step(w, UINT64_MAX);
	}
	run_until(w, 100000);
	uint64_t h = sim_trace_hash(w);
	sim_free(w);
	return h;
}

Test(sim, a_seed_replays_its_run)
{
	uint64_t a = random_run(7);
	reset();
	uint64_t b = random_run(7);
	reset();
	uint64_t c = random_run(8);
	cr_expect(eq(u64, a, b));
	cr_expect(ne(u64, a, c));
}

Test(sim, frames_wait_for_a_paused_node_and_keep_their_order)
{
	sim_world *w   = sim_new(1, NODES, &toy_ops, NULL);
	sim_net    net = {.delay_min_us = 100, .delay_mean_us = 0};
	sim_set_net(w, &net);
	sim_boot(w, 0);
	sim_boot(w, 1);
	sim_pause(w, 1);
	for (uint8_t b = 0; b < 10; b++) {
		send_byte(w, 0, 1, b);
	}
	run_until(w, 50000);
	cr_assert(eq(int, last[1]->ngot, 0));
	int ticks = last[1]->ticks;
	cr_assert(eq(int, ticks, 0), "no tick runs while paused");
	sim_resume(w, 1);
	run_until(w, 50001);
	cr_assert(eq(int, last[1]->ngot, 10));
	for (int i = 0; i < 10; i++) {
		cr_expect(eq(u8, last[1]->got_byte[i], (uint8_t)i));
	}
	cr_expect(eq(int, last[1]->ticks, 1), "the due tick runs once");
	sim_free(w);
}

Test(sim, a_cut_drops_one_way_only)
{
	sim_world *w = sim_new(2, NODES, &toy_ops, NULL);
	for (int i = 0; i < NODES; i++) {
		sim_boot(w, i);
	}
	sim_cut(w, 0, 1, true);
	cr_assert(sim_is_cut(w, 0, 1));
	cr_assert(not(sim_is_cut(w, 1, 0)));
	send_byte(w, 0, 1, 1);
	send_byte(w, 1, 0, 2);
	send_byte(w, 0, 2, 3);
	run_until(w, 100000);
	cr_expect(eq(int, last[1]->ngot, 0));
	cr_expect(eq(int, last[0]->ngot, 1));
	cr_expect(eq(int, last[2]->ngot, 1));
	sim_heal(w);
	send_byte(w, 0, 1, 4);
	run_until(w, 200000);
	cr_expect(eq(int, last[1]->ngot, 1));
	sim_free(w);
}

Test(sim, a_crash_ends_frames_and_timers_and_a_boot_is_a_new_incarnation)
{
	sim_world *w = sim_new(3, NODES, &toy_ops, NULL);
	sim_boot(w, 0);
	sim_boot(w, 1);
	uint64_t first = sim_incarnation(w, 1);
	run_until(w, 10000);
	toy *old = last[1];
	cr_assert(lt(int, 0, old->ticks));
	send_byte(w, 0, 1, 9);
	sim_crash(w, 1);
	cr_assert(eq(int, crashed, 1));
	cr_assert(not(sim_alive(w, 1)));
	cr_assert(sim_process(w, 1) == NULL);
	int ticks = old->ticks;
	run_until(w, 20000);
	cr_expect(eq(int, old->ticks, ticks), "no tick after the crash");
	cr_expect(eq(int, old->ngot, 0), "the frame died with the process");
	last[1] = NULL;
	free(old);
	sim_boot(w, 1);
	cr_assert(sim_alive(w, 1));
	cr_expect(ne(u64, sim_incarnation(w, 1), first));
	send_byte(w, 0, 1, 5);
	run_until(w, 30000);
	cr_expect(eq(int, last[1]->ngot, 1));
	cr_expect(lt(int, 0, last[1]->ticks));
	sim_free(w);
}
