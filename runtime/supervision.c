// runtime/supervision.c: the one-for-one strategy. Its restart window is
// kept per actor (in the cold part of the cell), as the times of the
// restarts granted within the window, oldest first, in a ring of
// max_restarts entries: a decision drops what fell out of the window and
// grants a restart only while the ring has room.
#include "runtime/supervision.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/behavior.h"

void
cst_failure_set(cst_failure *f, int code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof f->reason, fmt, ap);
	va_end(ap);
}

void
cst_failure_of(cst_failure *f, const casty_behavior *failed)
{
	const cst_failed_state *s = cst_behavior_state(failed);
	size_t room = failed->size - sizeof *s; // the reason and its NUL

	f->code = s->code;
	if (room > sizeof f->reason) {
		room = sizeof f->reason;
	}
	memcpy(f->reason, s->reason, room);
	f->reason[room - 1] = '\0';
}

static bool
window_grants(cst_cell_cold *c, int64_t now_ns)
{
	uint32_t max = c->strategy.max_restarts;
	int64_t  within = (int64_t)c->strategy.within_ms * 1000000;

	if (max == 0) {
		return false;
	}
	if (c->caprestarts != max) {
		// First decision, or a strategy that changed across a restart:
		// start a fresh window.
		cst_free_sized(c->restarts, c->caprestarts * sizeof(int64_t));
		c->restarts = cst_alloc(max * sizeof(int64_t));
		if (c->restarts == NULL) {
			cst_oom("restart window");
		}
		c->caprestarts = max;
		c->nrestarts = c->restart_head = 0;
	}
	while (within > 0 && c->nrestarts > 0 &&
	       c->restarts[c->restart_head] <= now_ns - within) {
		c->restart_head = (c->restart_head + 1) % max;
		c->nrestarts--;
	}
	if (c->nrestarts >= max) {
		return false;
	}
	c->restarts[(c->restart_head + c->nrestarts) % max] = now_ns;
	c->nrestarts++;
	return true;
}

casty_directive
cst_supervision_decide(cst_cell_cold *c, const cst_failure *f, int64_t now_ns)
{
	casty_failure   pub = {f->code, f->reason};
	casty_directive d = c->strategy.decider != NULL
		? c->strategy.decider(&pub) : CASTY_RESTART;

	switch (d) {
	case CASTY_RESTART:
		return window_grants(c, now_ns) ? CASTY_RESTART : CASTY_STOP;
	case CASTY_ESCALATE:
		return CASTY_ESCALATE;
	case CASTY_STOP:
		break;
	}
	return CASTY_STOP; // also for a value outside the enum
}

void
cst_supervision_fini(cst_cell_cold *c)
{
	cst_free_sized(c->restarts, c->caprestarts * sizeof(int64_t));
	c->restarts = NULL;
	c->caprestarts = c->nrestarts = c->restart_head = 0;
}
