// runtime/park.c: futex wait and wake. The kernel compares *word with
// the expected value atomically against a wake, so a waker that changes
// the word before calling wake can never be missed.
#include "runtime/park.h"

#include "runtime/fence.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void
cst_futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;

	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	// EAGAIN (the word changed), EINTR and ETIMEDOUT all return: the
	// caller's loop decides.
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, tsp,
		NULL, 0);
}

void
cst_futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL,
		0);
}

int64_t
cst_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifdef CST_TSAN
_Atomic int cst_fence_word;
#endif
