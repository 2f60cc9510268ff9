/** include/casty/casty.h: the umbrella header of libcasty. */
#ifndef CASTY_CASTY_H
#define CASTY_CASTY_H

#include <casty/base.h>     // errors, refs
#include <casty/msg.h>      // messages, protocols, tell
#include <casty/behavior.h> // behaviors as values
#include <casty/system.h>   // the system, spawn, ask
#include <casty/actor.h>    // the context of a running actor
#include <casty/timer.h>    // scheduled messages

#endif // CASTY_CASTY_H
