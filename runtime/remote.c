// runtime/remote.c: the installed remote operations (see remote.h).
#include "runtime/remote.h"

#include <stdatomic.h>

// Release on install, acquire on use: a caller that sees the pointer
// sees the operations it points to.
static _Atomic(const cst_remote_ops *) installed;

void
cst_remote_install(const cst_remote_ops *ops)
{
	atomic_store_explicit(&installed, ops, memory_order_release);
}

int
cst_remote_tell(casty_ref to, const casty_msg_type *type, const void *payload)
{
	const cst_remote_ops *ops =
		atomic_load_explicit(&installed, memory_order_acquire);
	return ops != NULL ? ops->tell(to, type, payload) : CASTY_ENOREF;
}

int
cst_remote_watch(casty_ref watcher, casty_ref watched, bool on)
{
	const cst_remote_ops *ops =
		atomic_load_explicit(&installed, memory_order_acquire);
	return ops != NULL ? ops->watch(watcher, watched, on) : CASTY_ENOREF;
}

int
cst_remote_check(casty_ref to)
{
	const cst_remote_ops *ops =
		atomic_load_explicit(&installed, memory_order_acquire);
	return ops != NULL ? ops->check(to) : CASTY_ENOREF;
}

void
cst_remote_spawned(casty_system *sys, const casty_protocol *proto)
{
	const cst_remote_ops *ops =
		atomic_load_explicit(&installed, memory_order_acquire);
	if (ops != NULL) {
		ops->spawned(sys, proto);
	}
}
