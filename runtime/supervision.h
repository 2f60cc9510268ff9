// runtime/supervision.h: failures inside the runtime, and the one-for-one
// strategy's decision.
#ifndef CASTY_RUNTIME_SUPERVISION_H
#define CASTY_RUNTIME_SUPERVISION_H

#include <stdint.h>

#include <casty/casty.h>

#include "runtime/cell.h"

#define CST_REASON_MAX 256

/** cst_failure is a failure as the runtime carries it: by value. */
typedef struct cst_failure {
	int32_t code;
	char    reason[CST_REASON_MAX];
} cst_failure;

/** cst_failure_set fills f with code and a printf-formatted reason. */
void cst_failure_set(cst_failure *f, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** cst_failure_of reads a CST_BEH_FAILED behavior into f. */
void cst_failure_of(cst_failure *f, const casty_behavior *failed);

/**
 * cst_supervision_decide applies the one-for-one strategy in c to a
 * failure at now_ns (monotonic): the decider first (not counted), then
 * the sliding window of restarts, which a granted restart joins. Returns
 * CASTY_RESTART, CASTY_STOP or CASTY_ESCALATE. Thread: the actor's.
 */
casty_directive cst_supervision_decide(
	cst_cell_cold *c, const cst_failure *f, int64_t now_ns);

/** cst_supervision_fini frees the window of c. */
void cst_supervision_fini(cst_cell_cold *c);

#endif // CASTY_RUNTIME_SUPERVISION_H
