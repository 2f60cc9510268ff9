// runtime/system.c: creating, stopping and destroying a system, and its
// list of root actors.
#include "runtime/system.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "runtime/actor.h"
#include "runtime/alloc.h"
#include "runtime/pool.h"

#define MAX_WORKERS    4096
#define MAX_THROUGHPUT 1000000

void
casty_system_config_init(casty_system_config *cfg)
{
	cfg->name = NULL;
	cfg->workers = 0;
	cfg->throughput = 64;
	cfg->drain_timeout_ms = 5000;
	cfg->config = NULL;
	cfg->no_sender_help = false;
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int
casty_system_create(const casty_system_config *cfg, casty_system **out)
{
	casty_system_config c;

	if (out == NULL) {
		return -EINVAL;
	}
	casty_system_config_init(&c);
	if (cfg != NULL) {
		c = *cfg;
	}
	if (c.name == NULL) {
		c.name = c.config != NULL && casty_config_system_name(c.config)
			? casty_config_system_name(c.config)
			: "casty-system";
	}
	if (c.name[0] == '\0' || strchr(c.name, '/') ||
	    c.workers > MAX_WORKERS || c.throughput > MAX_THROUGHPUT) {
		return -EINVAL;
	}
	if (c.workers == 0) {
		c.workers = online_cpus();
	}
	if (c.throughput == 0) {
		c.throughput = 64;
	}
	casty_system *sys = cst_calloc(sizeof(*sys));
	if (sys == NULL) {
		return -ENOMEM;
	}
	sys->name = cst_strdup(c.name);
	if (sys->name == NULL) {
		cst_free_sized(sys, sizeof(*sys));
		return -ENOMEM;
	}
	sys->drain_timeout_ms = c.drain_timeout_ms;
	sys->config = c.config;
	pthread_mutex_init(&sys->lock, NULL);
	pthread_cond_init(&sys->cond, NULL);
	atomic_init(&sys->state, CST_SYS_RUNNING);
	cst_cell_slab_init(&sys->slab);
	cst_events_init(&sys->events);
	cst_timers_init(&sys->timers);
	// The reactor first: without io_uring there is no system, and
	// nothing reaches the reactor before the system is returned.
	int rc = cst_reactor_create(sys, &sys->reactor);
	if (rc == 0) {
		rc = -cst_sched_start(&sys->sched, sys, c.workers,
			c.throughput, !c.no_sender_help);
		if (rc != 0) {
			cst_reactor_destroy(sys->reactor);
		}
	}
	if (rc != 0) {
		cst_events_fini(&sys->events);
		cst_cell_slab_fini(&sys->slab);
		pthread_cond_destroy(&sys->cond);
		pthread_mutex_destroy(&sys->lock);
		cst_free_sized(sys->name, strlen(sys->name) + 1);
		cst_free_sized(sys, sizeof(*sys));
		return rc;
	}
	*out = sys;
	return CASTY_OK;
}

const char *
casty_system_name(const casty_system *sys)
{
	return sys->name;
}

void
casty_system_stats_get(casty_system *sys, casty_system_stats *out)
{
	// Relaxed: statistics.
	out->dead_letters = atomic_load_explicit(
		&sys->dead_letters, memory_order_relaxed);
	out->unhandled =
		atomic_load_explicit(&sys->unhandled, memory_order_relaxed);
	int64_t live = atomic_load_explicit(&sys->live, memory_order_relaxed);
	out->live_actors = live > 0 ? (uint64_t)live : 0;
}

casty_cell *
cst_system_find_root(casty_system *sys, const char *name)
{
	return cst_names_find(&sys->roots_by_name, name);
}

void
cst_system_link_root(casty_system *sys, casty_cell *cell)
{
	// Appended, so that shutdown stops roots in spawn order.
	cell->next_sibling = NULL;
	cell->prev_sibling = sys->last_root;
	if (sys->last_root != NULL) {
		sys->last_root->next_sibling = cell;
	} else {
		sys->first_root = cell;
	}
	sys->last_root = cell;
	sys->nroots++;
	if (cell->name != NULL) {
		cst_names_insert(&sys->roots_by_name, cell);
	}
}

// Called with sys->lock held.
static void
terminate_if_done(casty_system *sys)
{
	if (sys->nroots == 0 &&
	    atomic_load_explicit(&sys->state, memory_order_relaxed) ==
		    CST_SYS_STOPPING) {
		atomic_store_explicit(
			&sys->state, CST_SYS_TERMINATED, memory_order_relaxed);
		pthread_cond_broadcast(&sys->cond);
	}
}

void
cst_system_root_stopped(casty_system *sys, casty_cell *cell)
{
	pthread_mutex_lock(&sys->lock);
	if (cell->prev_sibling != NULL) {
		cell->prev_sibling->next_sibling = cell->next_sibling;
	} else {
		sys->first_root = cell->next_sibling;
	}
	if (cell->next_sibling != NULL) {
		cell->next_sibling->prev_sibling = cell->prev_sibling;
	} else {
		sys->last_root = cell->prev_sibling;
	}
	cell->next_sibling = cell->prev_sibling = NULL;
	sys->nroots--;
	if (cell->name != NULL) {
		cst_names_remove(&sys->roots_by_name, cell);
	}
	cst_cell_free_name(cell);
	cst_cell_release(cell);
	terminate_if_done(sys);
	pthread_mutex_unlock(&sys->lock);
}

void
casty_system_stop(casty_system *sys)
{
	pthread_mutex_lock(&sys->lock);
	if (atomic_load_explicit(&sys->state, memory_order_relaxed) ==
	    CST_SYS_RUNNING) {
		atomic_store_explicit(
			&sys->state, CST_SYS_STOPPING, memory_order_relaxed);
		for (casty_cell *c = sys->first_root; c; c = c->next_sibling) {
			cst_actor_stop(cst_cell_ref(c));
		}
		terminate_if_done(sys);
	}
	pthread_mutex_unlock(&sys->lock);
}

void
casty_system_wait(casty_system *sys)
{
	pthread_mutex_lock(&sys->lock);
	while (atomic_load_explicit(&sys->state, memory_order_relaxed) !=
	       CST_SYS_TERMINATED) {
		pthread_cond_wait(&sys->cond, &sys->lock);
	}
	pthread_mutex_unlock(&sys->lock);
}

void
casty_system_destroy(casty_system *sys)
{
	if (sys == NULL) {
		return;
	}
	if (sys->drain_timeout_ms > 0) {
		cst_sched_wait_quiescent(
			&sys->sched, (int64_t)sys->drain_timeout_ms * 1000000);
	}
	casty_system_stop(sys);
	casty_system_wait(sys);
	// Every actor has stopped, so nothing submits any more; the
	// workers still run, to take what the reactor delivered last.
	cst_reactor_destroy(sys->reactor);
	cst_timers_fini(&sys->timers); // pending timers: dropped, not fired
	cst_sched_stop(&sys->sched);
	cst_sched_fini(&sys->sched);
	cst_cell_slab_fini(&sys->slab);
	cst_events_fini(&sys->events);
	cst_pool_depot_drain();
	cst_names_fini(&sys->roots_by_name);
	pthread_cond_destroy(&sys->cond);
	pthread_mutex_destroy(&sys->lock);
	cst_free_sized(sys->name, strlen(sys->name) + 1);
	cst_free_sized(sys, sizeof(*sys));
}
