/** include/casty/casty.h: the umbrella header of libcasty. */
#ifndef CASTY_CASTY_H
#define CASTY_CASTY_H

#include <casty/base.h>     // errors, refs
#include <casty/msg.h>      // messages, protocols, tell
#include <casty/behavior.h> // behaviors as values
#include <casty/system.h>   // the system, spawn, ask
#include <casty/actor.h>    // the context of a running actor
#include <casty/supervision.h> // failing, restarting, strategies
#include <casty/lifecycle.h> // hooks around start, stop, restart
#include <casty/events.h>   // the event stream
#include <casty/mailbox.h>  // bounded mailboxes
#include <casty/log.h>      // logging with the actor's path
#include <casty/config.h>   // casty.toml
#include <casty/journal.h>  // journals of events and snapshots
#include <casty/persistence.h> // event-sourced actors
#include <casty/timer.h>    // scheduled messages
#include <casty/cluster.h>  // cluster membership

#endif // CASTY_CASTY_H
