// runtime/actor.h: running an actor: its message loop, lifecycle (start,
// stop, children) and death watch.
#ifndef CASTY_RUNTIME_ACTOR_H
#define CASTY_RUNTIME_ACTOR_H

#include <stdbool.h>

#include "runtime/cell.h"

/**
 * cst_actor_run handles up to the system's throughput of messages of
 * cell, then returns true when the cell must run again (a full batch, or
 * a push in flight) and false when it went idle. Thread: worker.
 */
bool cst_actor_run(cst_worker *w, casty_cell *cell);

/**
 * cst_actor_stop asks the actor ref names to stop after the messages
 * already queued (a system message). Thread: any.
 */
void cst_actor_stop(casty_ref ref);

/** cst_cell_free_name frees the cell's name, if it has one. */
void cst_cell_free_name(casty_cell *cell);

#endif // CASTY_RUNTIME_ACTOR_H
