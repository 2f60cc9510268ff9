// runtime/actor.h: running an actor: its message loop, lifecycle (start,
// stop, children) and death watch.
#ifndef CASTY_RUNTIME_ACTOR_H
#define CASTY_RUNTIME_ACTOR_H

#include <stdbool.h>

#include "runtime/cell.h"

/** Names of actors: at most this many bytes, no '/'. */
#define CST_ACTOR_NAME_MAX 255

enum cst_run_result {
	CST_RUN_EMPTY, // the mailbox was found empty (and is not marked yet)
	CST_RUN_AGAIN, // a full batch: run it again after the others
};

/**
 * cst_actor_run handles up to budget messages of cell, whose mailbox the
 * caller has claimed (cst_claim). The caller still owns the cell's
 * schedule afterwards: after CST_RUN_EMPTY it marks the mailbox empty or
 * keeps the cell (see sched.c). Thread: worker.
 */
enum cst_run_result cst_actor_run(
	cst_worker *w, casty_cell *cell, unsigned budget);

/**
 * cst_actor_stop asks the actor ref names to stop after the messages
 * already queued (a system message). Thread: any.
 */
void cst_actor_stop(casty_ref ref);

/**
 * cst_actor_set_ext attaches a layer's state to the running incarnation
 * (event sourcing keeps its journal state there): fini(cell, ext,
 * restarting) runs when the actor stops or restarts, on its worker.
 * Replaces (and finishes) any previous one. Thread: self.
 */
void cst_actor_set_ext(casty_cell *cell, void *ext,
	void (*fini)(casty_cell *cell, void *ext, bool restarting));

/**
 * cst_actor_stash_front hands back, during a restart, user messages a
 * layer held (the chain first..last, linked through their envelopes):
 * they are handled after the restart, before anything that arrived
 * during it. Thread: self, from an ext's fini.
 */
void cst_actor_stash_front(casty_cell *cell, casty_msg *first,
	casty_msg *last);

/** cst_actor_ext returns what cst_actor_set_ext attached, or NULL. */
void *cst_actor_ext(casty_cell *cell);

/**
 * cst_actor_unhandled counts msg as unhandled by cell and publishes it,
 * as returning casty_unhandled() for it would. Thread: self.
 */
void cst_actor_unhandled(casty_cell *cell, const casty_msg *msg);

/** cst_cell_free_name frees the cell's name, if it has one. */
void cst_cell_free_name(casty_cell *cell);

#endif // CASTY_RUNTIME_ACTOR_H
