/*
 * tools/criterion_tsan_shim.c: lets Criterion 2.4 test programs run under
 * ThreadSanitizer (x86_64). tools/test.sh --sanitize tsan builds it and
 * LD_PRELOADs it into every test; nothing else uses it.
 *
 * Why: Criterion's BoxFort maps its shared "inheritable arena" at
 * 0x200000000000 + (rand_r() & 0x3fffff) * 16 MiB, probing a few random
 * bases with msync(). Under TSan nearly all of that range is TSan's shadow,
 * meta or protected memory; the only application memory it covers is the
 * PIE window 0x550000000000-0x568000000000. So most runs die with
 * "Could not initialize inheritable arena: Resource temporarily
 * unavailable" or a SEGV inside libcriterion (Criterion issue #274).
 *
 * What: this rand_r still returns a pseudo-random sequence driven by the
 * caller's seed, but only values whose low 22 bits land the arena inside
 * that window (with 16 GiB to spare below its end). The test programs
 * call no rand_r of their own; BoxFort still checks with msync() that the
 * chosen pages are free, so the binary mapped there is stepped over.
 */
#include <stdlib.h>

#define WINDOW_FIRST 0x350000u // (0x550000000000 - 0x200000000000) >> 24
#define WINDOW_SLOTS 0x17000u  // up to 0x567000000000

int
rand_r(unsigned int *seed)
{
	// The LCG of POSIX.1's example rand(), on the caller's seed.
	*seed = *seed * 1103515245u + 12345u;
	return (int)(WINDOW_FIRST + (*seed >> 8) % WINDOW_SLOTS);
}
