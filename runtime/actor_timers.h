// runtime/actor_timers.h: the actor's side of actor timers (Akka's
// TimerScheduler): the table of its live timers, and what a firing means.
#ifndef CASTY_RUNTIME_ACTOR_TIMERS_H
#define CASTY_RUNTIME_ACTOR_TIMERS_H

#include "runtime/cell.h"

/**
 * cst_actor_timer_fired is called by the actor's own worker when a
 * cst_sys_timer arrives. Returns a new user envelope to dispatch (the
 * caller dispatches then frees it), or NULL when the timer is stale:
 * cancelled, replaced, or from before a stop. Thread: the cell's worker.
 */
casty_msg *cst_actor_timer_fired(
	casty_cell *cell, const casty_msg *sys_timer_msg);

/**
 * cst_actor_timers_cancel_all cancels every timer of the actor and frees
 * its table: called when the actor stops or restarts. Safe to call again.
 * Thread: the cell's worker.
 */
void cst_actor_timers_cancel_all(casty_cell *cell);

/**
 * cst_actor_timers_count returns how many timers the actor has set, for
 * tests. Thread: the cell's worker.
 */
uint32_t cst_actor_timers_count(casty_cell *cell);

#endif // CASTY_RUNTIME_ACTOR_TIMERS_H
