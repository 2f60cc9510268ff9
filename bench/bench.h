// bench/bench.h: timing, validation and the BENCH line shared by the
// benchmark programs (the format of ../shared/peers/README.md).
#ifndef CASTY_BENCH_BENCH_H
#define CASTY_BENCH_BENCH_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

// Prints one `name value unit` line, the microbenchmarks' format.
static inline void
bench_metric(const char *name, double value, const char *unit)
{
	printf("%s %.2f %s\n", name, value, unit);
	fflush(stdout);
}

// The resident set now, in bytes, from /proc/self/statm (0 when it cannot
// be read): unlike ru_maxrss it can go down, so a before/after pair gives
// the memory that a set of live objects holds.
static inline int64_t
bench_rss_bytes(void)
{
	FILE     *f = fopen("/proc/self/statm", "r");
	long long size = 0, resident = 0;

	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%lld %lld", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

// The peak resident set of the process so far, in bytes.
static inline int64_t
bench_peak_rss_bytes(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		return 0;
	}
	return (int64_t)ru.ru_maxrss * 1024; // Linux reports kilobytes
}

#endif // CASTY_BENCH_BENCH_H
