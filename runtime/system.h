// runtime/system.h: the system object, shared by the runtime's files.
#ifndef CASTY_RUNTIME_SYSTEM_H
#define CASTY_RUNTIME_SYSTEM_H

#include <pthread.h>
#include <stdatomic.h>

#include <casty/casty.h>

#include "runtime/cell.h"
#include "runtime/events.h"
#include "runtime/reactor.h"
#include "runtime/sched.h"
#include "runtime/timers.h"

enum cst_system_state {
	CST_SYS_RUNNING,
	CST_SYS_STOPPING,   // roots asked to stop; spawns of roots refused
	CST_SYS_TERMINATED, // every root has stopped; tells refused
};

struct casty_system {
	char         *name;
	unsigned      drain_timeout_ms;
	const casty_config *config; // borrowed; NULL: every default
	cst_sched        sched;
	cst_cell_slab    slab;
	cst_event_stream events;
	cst_reactor     *reactor; // timers and I/O; stopped after the actors
	cst_timers       timers;  // the reactor's (see timers.c)

	// Root actors and the system state, under lock; cond signals
	// termination.
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	casty_cell     *first_root, *last_root;
	uint64_t        nroots;
	cst_names       roots_by_name;
	_Atomic uint32_t state; // cst_system_state

	// Counters; relaxed: statistics only.
	_Atomic uint64_t dead_letters;
	_Atomic uint64_t unhandled;
	_Atomic int64_t  live;
};

/** cst_system_find_root finds a root by name. Call with sys->lock held. */
casty_cell *cst_system_find_root(casty_system *sys, const char *name);

/** cst_system_link_root adds a root actor. Call with sys->lock held. */
void cst_system_link_root(casty_system *sys, casty_cell *cell);

/**
 * cst_system_root_stopped unlinks a stopped root actor and releases its
 * cell; the last one of a stopping system terminates it. Thread: worker.
 */
void cst_system_root_stopped(casty_system *sys, casty_cell *cell);

#endif // CASTY_RUNTIME_SYSTEM_H
