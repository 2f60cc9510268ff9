// tests/runtime/test_park.c: futex wait and wake (runtime/park.c).
//
// A lost wake-up shows as a hang, which the tests' .timeout turns into a
// failure. No test measures time.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "runtime/park.h"

TestSuite(park, .timeout = 30);
TestSuite(park_stress, .timeout = 120);

Test(park, wait_returns_at_once_when_the_word_differs)
{
	_Atomic uint32_t word = 1;

	// No timeout: if the kernel did not compare the word, this would
	// sleep until the test's timeout.
	cst_futex_wait(&word, 0, -1);
	cr_assert(eq(u32, atomic_load(&word), 1));
}

Test(park, wait_returns_on_timeout_when_nobody_wakes)
{
	_Atomic uint32_t word = 7;

	cst_futex_wait(&word, 7, 1000000); // 1 ms
	cr_assert(eq(u32, atomic_load(&word), 7));
}

Test(park, wake_with_no_waiter_is_harmless)
{
	_Atomic uint32_t word = 0;

	cst_futex_wake(&word, 1);
	cst_futex_wake(&word, INT_MAX);
	cr_assert(eq(u32, atomic_load(&word), 0));
}

#define WAITERS 4

static _Atomic uint32_t gate;
static _Atomic uint32_t passed;

static void *
wait_for_gate(void *arg)
{
	(void)arg;
	while (atomic_load_explicit(&gate, memory_order_acquire) == 0) {
		cst_futex_wait(&gate, 0, -1);
	}
	atomic_fetch_add_explicit(&passed, 1, memory_order_relaxed);
	return NULL;
}

Test(park, wake_all_releases_every_waiter)
{
	pthread_t t[WAITERS];

	for (int i = 0; i < WAITERS; i++) {
		cr_assert(eq(int,
			pthread_create(&t[i], NULL, wait_for_gate, NULL), 0));
	}
	// Whether the waiters sleep yet or not, the store comes first: a
	// waiter that has not called wait sees it, one that has is woken.
	atomic_store_explicit(&gate, 1, memory_order_release);
	cst_futex_wake(&gate, INT_MAX);
	for (int i = 0; i < WAITERS; i++) {
		pthread_join(t[i], NULL);
	}
	cr_assert(eq(u32, atomic_load(&passed), WAITERS));
}

// Ping-pong: each side publishes round r in its own word, wakes the
// other, and sleeps until the other's word reaches r. Waiting goes
// straight to the futex (no spinning first) so the wait and the wake race
// as often as possible.

#define ROUNDS 100000

static _Atomic uint32_t ping, pong;

static void
wait_while(_Atomic uint32_t *word, uint32_t old)
{
	while (atomic_load_explicit(word, memory_order_acquire) == old) {
		cst_futex_wait(word, old, -1);
	}
}

static void *
ponger(void *arg)
{
	uint64_t *mismatches = arg;

	for (uint32_t r = 1; r <= ROUNDS; r++) {
		wait_while(&ping, r - 1);
		if (atomic_load_explicit(&ping, memory_order_acquire) != r) {
			(*mismatches)++;
		}
		atomic_store_explicit(&pong, r, memory_order_release);
		cst_futex_wake(&pong, 1);
	}
	return NULL;
}

Test(park_stress, ping_pong_loses_no_wake_up_in_100000_rounds)
{
	pthread_t t;
	uint64_t  ponger_mismatches = 0, mismatches = 0;

	cr_assert(eq(int, pthread_create(&t, NULL, ponger, &ponger_mismatches),
		0));
	for (uint32_t r = 1; r <= ROUNDS; r++) {
		atomic_store_explicit(&ping, r, memory_order_release);
		cst_futex_wake(&ping, 1);
		wait_while(&pong, r - 1);
		if (atomic_load_explicit(&pong, memory_order_acquire) != r) {
			mismatches++;
		}
	}
	pthread_join(t, NULL);

	cr_assert(eq(u64, mismatches, 0));
	cr_assert(eq(u64, ponger_mismatches, 0));
	cr_assert(eq(u32, atomic_load(&ping), ROUNDS));
	cr_assert(eq(u32, atomic_load(&pong), ROUNDS));
}
