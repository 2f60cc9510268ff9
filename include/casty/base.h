/** include/casty/base.h: export macro, version, error codes and refs. */
#ifndef CASTY_BASE_H
#define CASTY_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CASTY_API __attribute__((visibility("default")))
#else
#define CASTY_API
#endif

#define CASTY_VERSION_MAJOR 0
#define CASTY_VERSION_MINOR 1
#define CASTY_VERSION_PATCH 0
#define CASTY_VERSION_STRING "0.1.0"

/**
 * Error codes. Functions that can fail return int: CASTY_OK, a negated
 * errno (-1 .. -4095, e.g. -EINVAL for a bad argument, -ETIMEDOUT for an
 * ask that got no reply in time, -EEXIST for a duplicate actor name), or
 * one of the casty codes below.
 */
enum {
	CASTY_OK       = 0,
	CASTY_ESTOPPED = -5001, // the system or the target is shutting down
	CASTY_ENOREF   = -5002, // the ref is empty or was never valid
	CASTY_EFULL    = -5003, // bounded mailbox or submission ring is full
	CASTY_ECORRUPT = -5004, // a journal record failed its checksum
	CASTY_ETYPE    = -5005, // a message type outside the expected ones
	// The address names no current member of the cluster: another
	// system name, a host:port no member has, or a run of a node
	// (its incarnation) that is gone (cluster.h).
	CASTY_ENOTMEMBER = -5006,
};

/**
 * casty_strerror describes an error code of either range. Never NULL.
 * Thread: any.
 */
CASTY_API const char *casty_strerror(int err);

/** casty_system is one actor system: workers, actors, the reactor. */
typedef struct casty_system casty_system;

/**
 * casty_ctx is the context of the actor whose handler is running. It is
 * valid only inside that handler (and in setup), on that worker.
 */
typedef struct casty_cell casty_ctx;

/**
 * casty_ref names one incarnation of an actor. It is a value: copy it
 * freely, put it in messages. It never dangles: once the actor has
 * stopped, messages to it become dead letters. Do not read the fields.
 */
typedef struct casty_ref {
	struct casty_cell *cell;
	uint32_t           gen;  // incarnation of the cell
	uint32_t           node; // 0: this process
} casty_ref;

/** CASTY_REF_NONE is the empty ref: telling it returns CASTY_ENOREF. */
#define CASTY_REF_NONE ((casty_ref){NULL, 0, 0})

/** casty_ref_eq tells whether two refs name the same incarnation. */
static inline bool
casty_ref_eq(casty_ref a, casty_ref b)
{
	return a.cell == b.cell && a.gen == b.gen && a.node == b.node;
}

/** casty_ref_is_none tells whether ref is the empty ref. */
static inline bool
casty_ref_is_none(casty_ref ref)
{
	return ref.cell == NULL;
}

#endif // CASTY_BASE_H
