// runtime/oneshot.h: a one-shot wake-up for a thread that hands work to
// the reactor and blocks until the reactor says it is done (a barrier, a
// close, a query). The waiter owns the memory, usually on its stack.
#ifndef CASTY_RUNTIME_ONESHOT_H
#define CASTY_RUNTIME_ONESHOT_H

#include <pthread.h>
#include <stdbool.h>

typedef struct cst_oneshot {
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	bool            done;
} cst_oneshot;

static inline void
cst_oneshot_init(cst_oneshot *o)
{
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	o->done = false;
}

/**
 * cst_oneshot_signal wakes the waiter. The waiter may free o (and what
 * contains it) as soon as the unlock is done: the caller must not touch
 * either afterwards.
 */
static inline void
cst_oneshot_signal(cst_oneshot *o)
{
	pthread_mutex_lock(&o->lock);
	o->done = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

/** cst_oneshot_wait blocks until signalled, then releases o. */
static inline void
cst_oneshot_wait(cst_oneshot *o)
{
	pthread_mutex_lock(&o->lock);
	while (!o->done) {
		pthread_cond_wait(&o->cond, &o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
}

#endif // CASTY_RUNTIME_ONESHOT_H
