// tests/sim/sim.c: the simulated world (sim.h): an event heap ordered by
// (time, sequence), nodes with their incarnations and timers, and the
// network's faults.
#include "tests/sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ev_kind { EV_FRAME, EV_TIMER, EV_ACTION };

typedef struct event {
	uint64_t at, seq;
	int      kind;
	int      node; // the target (EV_FRAME, EV_TIMER)
	union {
		struct {
			int      from;
			uint64_t from_incarnation;
			uint8_t  kind;
			size_t   len;
			uint8_t *body;
		} frame;
		struct {
			int      timer;
			uint64_t incarnation; // the run that armed it
		} timer;
		struct {
			sim_action fn;
			void      *arg;
			uint64_t   value;
		} action;
	} u;
} event;

typedef struct sim_node {
	bool     alive, paused;
	uint64_t incarnation;
	void    *proc;
	uint64_t period[SIM_MAX_TIMERS]; // 0: not armed
	uint32_t due;                    // ticks that came while paused
	event   *held;                   // frames that came while paused
	size_t   nheld, held_cap;
} sim_node;

struct sim_world {
	const sim_process_ops *ops;
	void                  *arg;
	int                    nnodes;
	uint64_t               now_us;
	uint64_t               rng;
	uint64_t               seq;
	uint64_t               hash;
	uint64_t               events_run;
	sim_net                net;
	event                 *heap;
	size_t                 nheap, heap_cap;
	sim_node               node[SIM_MAX_NODES];
	uint8_t                cut[SIM_MAX_NODES][SIM_MAX_NODES];
};

static void *
must(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	return p;
}

uint64_t
sim_random(sim_world *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t
sim_below(sim_world *w, uint64_t n)
{
	return n == 0 ? 0 : sim_random(w) % n;
}

bool
sim_chance(sim_world *w, double p)
{
	return p > 0 && (double)(sim_random(w) >> 11) * 0x1p-53 < p;
}

// FNV-1a, a byte at a time: the trace must not depend on alignment.
static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 0x100000001b3ull;
	}
	return h;
}

static uint64_t
mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof v);
}

static bool
earlier(const event *a, const event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
push(sim_world *w, event e)
{
	if (w->nheap == w->heap_cap) {
		w->heap_cap = w->heap_cap ? 2 * w->heap_cap : 1024;
		w->heap = must(realloc(w->heap, w->heap_cap * sizeof(event)));
	}
	e.seq    = w->seq++;
	size_t i = w->nheap++;
	while (i > 0 && earlier(&e, &w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i          = (i - 1) / 2;
	}
	w->heap[i] = e;
}

static event
pop(sim_world *w)
{
	event top  = w->heap[0];
	event last = w->heap[--w->nheap];
	size_t i   = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->nheap) {
			break;
		}
		if (c + 1 < w->nheap && earlier(&w->heap[c + 1], &w->heap[c])) {
			c++;
		}
		if (!earlier(&w->heap[c], &last)) {
			break;
		}
		w->heap[i] = w->heap[c];
		i          = c;
	}
	if (w->nheap > 0) {
		w->heap[i] = last;
	}
	return top;
}

sim_world *
sim_new(uint64_t seed, int nnodes, const sim_process_ops *ops, void *arg)
{
	if (nnodes < 1 || nnodes > SIM_MAX_NODES) {
		return NULL;
	}
	sim_world *w = must(calloc(1, sizeof(*w)));
	w->ops       = ops;
	w->arg       = arg;
	w->nnodes    = nnodes;
	w->rng       = seed;
	w->hash      = 0xcbf29ce484222325ull;
	w->net       = (sim_net){.delay_min_us = 100, .delay_mean_us = 200};
	return w;
}

static void
drop_held(sim_node *n)
{
	for (size_t i = 0; i < n->nheld; i++) {
		free(n->held[i].u.frame.body);
	}
	n->nheld = 0;
}

void
sim_free(sim_world *w)
{
	if (w == NULL) {
		return;
	}
	for (int i = 0; i < w->nnodes; i++) {
		if (w->node[i].alive) {
			sim_crash(w, i);
		}
		free(w->node[i].held);
	}
	for (size_t i = 0; i < w->nheap; i++) {
		if (w->heap[i].kind == EV_FRAME) {
			free(w->heap[i].u.frame.body);
		}
	}
	free(w->heap);
	free(w);
}

int
sim_nodes(const sim_world *w)
{
	return w->nnodes;
}

uint64_t
sim_now_us(const sim_world *w)
{
	return w->now_us;
}

uint64_t
sim_now_ms(const sim_world *w)
{
	return w->now_us / 1000;
}

uint64_t
sim_events_run(const sim_world *w)
{
	return w->events_run;
}

uint64_t
sim_trace_hash(const sim_world *w)
{
	return w->hash;
}

void
sim_set_net(sim_world *w, const sim_net *net)
{
	w->net = *net;
}

const sim_net *
sim_get_net(const sim_world *w)
{
	return &w->net;
}

void
sim_cut(sim_world *w, int from, int to, bool cut)
{
	w->cut[from][to] = cut;
}

bool
sim_is_cut(const sim_world *w, int from, int to)
{
	return w->cut[from][to];
}

void
sim_heal(sim_world *w)
{
	memset(w->cut, 0, sizeof w->cut);
}

static uint64_t
draw_delay(sim_world *w)
{
	double u = (double)(sim_random(w) >> 11) * 0x1p-53; // [0, 1)
	return w->net.delay_min_us +
	       (uint64_t)(-(double)w->net.delay_mean_us * log1p(-u));
}

void
sim_send(sim_world *w, int from, int to, uint8_t kind, const void *body,
    size_t len)
{
	if (to < 0 || to >= w->nnodes || w->cut[from][to] ||
	    sim_chance(w, w->net.loss)) {
		return;
	}
	int copies = sim_chance(w, w->net.duplicate) ? 2 : 1;
	for (int c = 0; c < copies; c++) {
		event e = {.at = w->now_us + draw_delay(w),
		    .kind      = EV_FRAME,
		    .node      = to};
		e.u.frame.from             = from;
		e.u.frame.from_incarnation = w->node[from].incarnation;
		e.u.frame.kind             = kind;
		e.u.frame.len              = len;
		e.u.frame.body             = must(malloc(len ? len : 1));
		memcpy(e.u.frame.body, body, len);
		push(w, e);
	}
}

static void
arm(sim_world *w, int node, int timer, uint64_t at)
{
	event e = {.at = at, .kind = EV_TIMER, .node = node};
	e.u.timer.timer       = timer;
	e.u.timer.incarnation = w->node[node].incarnation;
	push(w, e);
}

void
sim_timer_every(sim_world *w, int node, int timer, uint64_t period_us)
{
	w->node[node].period[timer] = period_us;
	arm(w, node, timer, w->now_us + 1 + sim_below(w, period_us));
}

void
sim_at(sim_world *w, uint64_t at_us, sim_action fn, void *arg, uint64_t value)
{
	event e = {.at = at_us < w->now_us ? w->now_us : at_us,
	    .kind  = EV_ACTION,
	    .node  = -1};
	e.u.action.fn    = fn;
	e.u.action.arg   = arg;
	e.u.action.value = value;
	push(w, e);
}

void
sim_boot(sim_world *w, int node)
{
	sim_node *n = &w->node[node];
	if (n->alive) {
		return;
	}
	uint64_t inc = 0;
	while (inc == 0) {
		inc = sim_random(w);
	}
	n->alive       = true;
	n->paused      = false;
	n->incarnation = inc;
	n->due         = 0;
	memset(n->period, 0, sizeof n->period);
	w->hash = mix_u64(mix_u64(w->hash, 0xb007), (uint64_t)node);
	n->proc = w->ops->boot(w, node, inc, w->arg);
}

void
sim_crash(sim_world *w, int node)
{
	sim_node *n = &w->node[node];
	if (!n->alive) {
		return;
	}
	n->alive = false;
	n->paused = false;
	drop_held(n);
	void *proc = n->proc;
	n->proc    = NULL;
	w->hash    = mix_u64(mix_u64(w->hash, 0xdead), (uint64_t)node);
	w->ops->crash(proc);
}

void
sim_pause(sim_world *w, int node)
{
	if (w->node[node].alive) {
		w->node[node].paused = true;
	}
}

void
sim_resume(sim_world *w, int node)
{
	sim_node *n = &w->node[node];
	if (!n->alive || !n->paused) {
		return;
	}
	n->paused = false;
	// What waited arrives at once, in the order it came, then the
	// ticks that were due (a process's first moments after SIGCONT).
	for (size_t i = 0; i < n->nheld; i++) {
		event e = n->held[i];
		e.at    = w->now_us;
		push(w, e);
	}
	n->nheld = 0;
	for (int t = 0; t < SIM_MAX_TIMERS; t++) {
		if ((n->due >> t) & 1) {
			arm(w, node, t, w->now_us);
		}
	}
	n->due = 0;
}

bool
sim_alive(const sim_world *w, int node)
{
	return w->node[node].alive;
}

bool
sim_paused(const sim_world *w, int node)
{
	return w->node[node].paused;
}

uint64_t
sim_incarnation(const sim_world *w, int node)
{
	return w->node[node].incarnation;
}

void *
sim_process(const sim_world *w, int node)
{
	return w->node[node].alive ? w->node[node].proc : NULL;
}

static void
hold(sim_node *n, const event *e)
{
	if (n->nheld == n->held_cap) {
		n->held_cap = n->held_cap ? 2 * n->held_cap : 64;
		n->held = must(realloc(n->held, n->held_cap * sizeof(event)));
	}
	n->held[n->nheld++] = *e;
}

static int
run_frame(sim_world *w, event *e)
{
	sim_node *n = &w->node[e->node];
	if (!n->alive) {
		free(e->u.frame.body);
		return -1;
	}
	if (n->paused) {
		hold(n, e);
		return -1;
	}
	w->hash = mix_u64(w->hash, (uint64_t)e->u.frame.from);
	w->hash = mix_u64(w->hash, e->u.frame.kind);
	w->hash = mix(w->hash, e->u.frame.body, e->u.frame.len);
	w->ops->frame(n->proc, e->u.frame.from, e->u.frame.from_incarnation,
	    e->u.frame.kind, e->u.frame.body, e->u.frame.len);
	free(e->u.frame.body);
	return e->node;
}

static int
run_timer(sim_world *w, const event *e)
{
	sim_node *n = &w->node[e->node];
	int       t = e->u.timer.timer;
	if (!n->alive || n->incarnation != e->u.timer.incarnation) {
		return -1; // a timer of a run that is over
	}
	if (n->paused) {
		n->due |= 1u << t;
		return -1;
	}
	w->hash = mix_u64(w->hash, (uint64_t)t);
	arm(w, e->node, t, w->now_us + n->period[t]);
	w->ops->timer(n->proc, t);
	return e->node;
}

int
sim_step(sim_world *w, uint64_t limit_us)
{
	if (w->nheap == 0 || w->heap[0].at > limit_us) {
		if (limit_us > w->now_us) {
			w->now_us = limit_us;
		}
		return -2;
	}
	event e   = pop(w);
	w->now_us = e.at;
	w->events_run++;
	w->hash = mix_u64(mix_u64(w->hash, e.at), (uint64_t)e.kind);
	w->hash = mix_u64(w->hash, (uint64_t)e.node);
	switch (e.kind) {
	case EV_FRAME:
		return run_frame(w, &e);
	case EV_TIMER:
		return run_timer(w, &e);
	default:
		e.u.action.fn(w, e.u.action.arg, e.u.action.value);
		return -1;
	}
}
