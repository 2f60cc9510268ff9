// runtime/remote.h: the runtime's door to actors of other processes.
//
// A ref whose node is not 0 names an actor of another node (cluster/):
// its cell field is not a pointer but the remote cell's id, and only the
// layer that knows the node can deliver to it. That layer installs its
// operations here once per process; the runtime calls them for remote
// refs and, on systems a cluster has joined, at each spawn. Without a
// cluster nothing is installed and a remote ref cannot exist.
#ifndef CASTY_RUNTIME_REMOTE_H
#define CASTY_RUNTIME_REMOTE_H

#include <casty/casty.h>

typedef struct cst_remote_ops {
	/**
	 * tell sends a copy of payload (type->size bytes) to the remote
	 * actor `to`. Returns as casty_tell_msg. Thread: any.
	 */
	int (*tell)(casty_ref to, const casty_msg_type *type,
		const void *payload);
	/**
	 * spawned learns the protocol of an actor spawned on sys, whose
	 * types then travel to it from other nodes. Thread: any.
	 */
	void (*spawned)(casty_system *sys, const casty_protocol *proto);
	/**
	 * watch starts (on) or ends (!on) the death watch of the remote
	 * actor `watched` by the local actor `watcher`: a casty_terminated
	 * for watched reaches watcher once it stops or its node leaves the
	 * cluster. The caller keeps watcher's list of watched refs (and so
	 * asks once per pair). Returns CASTY_OK, CASTY_ENOREF or
	 * CASTY_ESTOPPED. Thread: the watcher's worker.
	 */
	int (*watch)(casty_ref watcher, casty_ref watched, bool on);
	/**
	 * check says whether a message to `to` can be sent now: CASTY_OK,
	 * CASTY_ENOTMEMBER (its node is no member of the cluster),
	 * CASTY_ENOREF or CASTY_ESTOPPED. Thread: any.
	 */
	int (*check)(casty_ref to);
} cst_remote_ops;

/**
 * cst_remote_install makes ops the process's remote operations (the same
 * ops every time; they stay valid for the life of the process).
 * Thread: any.
 */
void cst_remote_install(const cst_remote_ops *ops);

/**
 * cst_remote_tell sends to the remote ref `to` (to.node != 0). Returns
 * CASTY_ENOREF when no remote layer is installed. Thread: any.
 */
int cst_remote_tell(casty_ref to, const casty_msg_type *type,
	const void *payload);

/**
 * cst_remote_watch starts or ends a death watch of the remote ref
 * watched (watched.node != 0) by watcher, as cst_remote_ops.watch.
 * Returns CASTY_ENOREF when no remote layer is installed.
 * Thread: the watcher's worker.
 */
int cst_remote_watch(casty_ref watcher, casty_ref watched, bool on);

/**
 * cst_remote_check checks the remote ref `to` as cst_remote_ops.check
 * does; CASTY_ENOREF when no remote layer is installed. Thread: any.
 */
int cst_remote_check(casty_ref to);

/**
 * cst_remote_spawned tells the remote layer of a spawn on a system a
 * cluster has joined (sys->remote set). Thread: any.
 */
void cst_remote_spawned(casty_system *sys, const casty_protocol *proto);

#endif // CASTY_RUNTIME_REMOTE_H
