// runtime/park.h: futex wait and wake on a 32-bit word.
#ifndef CASTY_RUNTIME_PARK_H
#define CASTY_RUNTIME_PARK_H

#include <stdatomic.h>
#include <stdint.h>

/**
 * cst_futex_wait sleeps while *word == expected, until woken, a signal,
 * or timeout_ns (< 0: no timeout) pass. Spurious returns are allowed: the
 * caller re-checks its condition in a loop. Thread: any.
 */
void cst_futex_wait(_Atomic uint32_t *word, uint32_t expected,
	int64_t timeout_ns);

/** cst_futex_wake wakes up to n threads waiting on word. Thread: any. */
void cst_futex_wake(_Atomic uint32_t *word, int n);

/** cst_now_ns returns CLOCK_MONOTONIC in nanoseconds. */
int64_t cst_now_ns(void);

/** cst_cpu_relax hints a spin-wait iteration to the CPU. */
static inline void
cst_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif // CASTY_RUNTIME_PARK_H
