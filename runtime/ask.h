// runtime/ask.h: promises, the temporary reply targets of casty_ask.
#ifndef CASTY_RUNTIME_ASK_H
#define CASTY_RUNTIME_ASK_H

#include "runtime/cell.h"

/**
 * cst_promise_complete offers msg as the reply to the promise cell: the
 * first reply for the current incarnation wins; any other becomes a dead
 * letter. Consumes msg. Thread: any.
 */
void cst_promise_complete(casty_cell *cell, casty_msg *msg);

#endif // CASTY_RUNTIME_ASK_H
