// runtime/timers.h: the reactor's side of the timers: every live timer of
// a system, by key (system timers) or by id (actor timers), armed on the
// reactor's deadline heap. The public system-level calls live here; the
// actor's side of actor timers is in actor_timers.c.
#ifndef CASTY_RUNTIME_TIMERS_H
#define CASTY_RUNTIME_TIMERS_H

#include <stdatomic.h>
#include <stdint.h>

#include <casty/casty.h>

typedef struct cst_timer cst_timer;

typedef struct cst_timers {
	// Reactor thread only: an open-addressing table of every live
	// timer (see timers.c).
	cst_timer **slots;
	uint32_t    cap, len;
	// Any thread.
	_Atomic uint64_t next_id; // actor timer ids, never 0 or reused
	_Atomic uint64_t live;    // == len, for tests (cst_timers_live)
} cst_timers;

/** cst_timers_init makes an empty table. Thread: single. */
void cst_timers_init(cst_timers *t);

/**
 * cst_timers_fini frees every timer still live, without firing it.
 * Thread: single, after the reactor is destroyed.
 */
void cst_timers_fini(cst_timers *t);

/**
 * cst_timers_live returns how many timers the reactor holds. Call
 * cst_timers_sync first to count every request made before. Thread: any.
 */
uint64_t cst_timers_live(casty_system *sys);

/**
 * cst_timers_sync returns once the reactor has applied every timer
 * request made before it (a reactor barrier). Thread: any but the
 * reactor and the workers. Blocks: yes.
 */
void cst_timers_sync(casty_system *sys);

/** cst_timers_new_id returns a fresh actor timer id. Thread: any. */
uint64_t cst_timers_new_id(casty_system *sys);

/**
 * cst_timers_start_actor arms actor timer id on the reactor: after
 * delay_ms (then every interval_ms when > 0) it sends owner a
 * cst_sys_timer carrying id. Aborts on out-of-memory. Thread: any.
 */
void cst_timers_start_actor(casty_system *sys, casty_ref owner, uint64_t id,
	int64_t delay_ms, int64_t interval_ms);

/**
 * cst_timers_cancel_actor forgets the n actor timers ids on the reactor
 * (unknown ids are skipped: a once-timer that fired is gone already).
 * Aborts on out-of-memory. Thread: any.
 */
void cst_timers_cancel_actor(
	casty_system *sys, const uint64_t *ids, uint32_t n);

/**
 * cst_timers_check checks what casty_schedule_msg and casty_ctx_timer_msg
 * share: key, type, payload, delays. Returns CASTY_OK or -EINVAL.
 */
int cst_timers_check(const char *key, const casty_msg_type *type,
	const void *payload, int64_t delay_ms, int64_t interval_ms);

#endif // CASTY_RUNTIME_TIMERS_H
