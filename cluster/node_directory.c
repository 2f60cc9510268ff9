// cluster/node_directory.c: the process's directory of remote nodes
// (node_directory.h). Pages of entries come as the directory grows and
// are published with release stores, so that cst_node_dir_get reads
// without a lock; adding and searching take the lock. A search is a scan:
// a process knows tens of nodes (each restart of a peer adds one).
#include "cluster/node_directory.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "runtime/alloc.h"

#define PAGE_ENTRIES 256
#define PAGES 256 // 65,535 nodes at most (index 0 is no node)

static pthread_mutex_t              lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(cst_node_entry *)    pages[PAGES];
static uint32_t                     nentries = 1; // under lock; 0 unused

cst_node_entry *
cst_node_dir_get(uint32_t index)
{
	if (index == 0 || index >= (uint32_t)PAGES * PAGE_ENTRIES) {
		return NULL;
	}
	// Acquire: pairs with the release store that published the page;
	// an entry is written before its index is handed out (under the
	// lock) and never changes but for its atomics.
	cst_node_entry *page = atomic_load_explicit(
		&pages[index / PAGE_ENTRIES], memory_order_acquire);
	return page != NULL ? &page[index % PAGE_ENTRIES] : NULL;
}

// The index of c's entry for address, or 0. Called with the lock held.
static uint32_t
find_locked(casty_cluster *c, const cst_address *address)
{
	for (uint32_t i = 1; i < nentries; i++) {
		cst_node_entry *e = cst_node_dir_get(i);
		if (atomic_load_explicit(&e->cluster, memory_order_relaxed) ==
			c &&
		    cst_address_equal(&e->address, address)) {
			return i;
		}
	}
	return 0;
}

uint32_t
cst_node_dir_intern(casty_cluster *c, const cst_address *address)
{
	pthread_mutex_lock(&lock);
	uint32_t index = find_locked(c, address);
	if (index != 0) {
		pthread_mutex_unlock(&lock);
		return index;
	}
	index = nentries;
	if (index >= (uint32_t)PAGES * PAGE_ENTRIES) {
		pthread_mutex_unlock(&lock);
		casty_log_error(NULL, "cluster: more than %u remote nodes known",
			PAGES * PAGE_ENTRIES - 1);
		return 0;
	}
	cst_node_entry *page = atomic_load_explicit(
		&pages[index / PAGE_ENTRIES], memory_order_relaxed);
	if (page == NULL) {
		page = cst_calloc(PAGE_ENTRIES * sizeof(*page));
		if (page == NULL) {
			pthread_mutex_unlock(&lock);
			casty_log_error(NULL, "cluster: out of memory for a node");
			return 0;
		}
		atomic_store_explicit(&pages[index / PAGE_ENTRIES], page,
			memory_order_release);
	}
	cst_node_entry *e = &page[index % PAGE_ENTRIES];
	e->owner = c;
	e->address = *address;
	cst_address_format(address, e->text, sizeof e->text);
	atomic_store_explicit(&e->cluster, c, memory_order_release);
	nentries++;
	pthread_mutex_unlock(&lock);
	return index;
}

uint32_t
cst_node_dir_find(casty_cluster *c, const cst_address *address)
{
	pthread_mutex_lock(&lock);
	uint32_t index = find_locked(c, address);
	pthread_mutex_unlock(&lock);
	return index;
}

void
cst_node_dir_mark_gone(casty_cluster *c, const cst_address *address)
{
	pthread_mutex_lock(&lock);
	uint32_t index = find_locked(c, address);
	if (index != 0) {
		atomic_store_explicit(&cst_node_dir_get(index)->gone, true,
			memory_order_relaxed);
	}
	pthread_mutex_unlock(&lock);
}

casty_cluster *
cst_node_dir_enter(cst_node_entry *e)
{
	// seq_cst, both: the count goes up before the cluster is read (see
	// the header); detach stores NULL before it reads the count.
	atomic_fetch_add_explicit(&e->senders, 1, memory_order_seq_cst);
	casty_cluster *c = atomic_load_explicit(&e->cluster, memory_order_seq_cst);
	if (c == NULL) {
		cst_node_dir_leave(e);
	}
	return c;
}

void
cst_node_dir_leave(cst_node_entry *e)
{
	// Release: what the send did with the cluster happens before a
	// detach that reads the count as 0.
	atomic_fetch_sub_explicit(&e->senders, 1, memory_order_release);
}

void
cst_node_dir_detach(casty_cluster *c)
{
	pthread_mutex_lock(&lock);
	uint32_t n = nentries;
	for (uint32_t i = 1; i < n; i++) {
		cst_node_entry *e = cst_node_dir_get(i);
		if (atomic_load_explicit(&e->cluster, memory_order_relaxed) == c) {
			atomic_store_explicit(&e->cluster, NULL,
				memory_order_seq_cst);
		}
	}
	pthread_mutex_unlock(&lock);
	// A sender that entered before the store above is counted; one that
	// enters after it reads NULL and leaves. (An owner that matches by
	// an address reused from a cluster stopped long ago has no senders
	// left; waiting on it costs nothing.)
	for (uint32_t i = 1; i < n; i++) {
		cst_node_entry *e = cst_node_dir_get(i);
		while (e->owner == c &&
		       atomic_load_explicit(&e->senders, memory_order_seq_cst) !=
			       0) {
			sched_yield();
		}
	}
}
