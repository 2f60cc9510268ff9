// bench/bench.h: timing, validation and the BENCH line shared by the
// benchmark programs (the format of ../shared/peers/README.md).
#ifndef CASTY_BENCH_BENCH_H
#define CASTY_BENCH_BENCH_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double
bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Fails the run, as the peers do, when a result is wrong.
static inline void
bench_check(const char *bench, const char *what, int64_t got, int64_t want)
{
	if (got != want) {
		fprintf(stderr, "CHECK FAILED %s: %s got=%" PRId64
				" want=%" PRId64 "\n",
			bench, what, got, want);
		exit(1);
	}
}

static inline void
bench_report(const char *name, int64_t msgs, double seconds)
{
	printf("BENCH %s msgs=%" PRId64 " seconds=%.6f msgs_per_sec=%.0f\n",
		name, msgs, seconds, seconds > 0 ? (double)msgs / seconds : 0);
	fflush(stdout);
}

#endif // CASTY_BENCH_BENCH_H
