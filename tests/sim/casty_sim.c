// tests/sim/casty_sim.c: casty-sim, the membership simulator from the
// command line: a range of seeds (each a cluster, a fault schedule and a
// heal), the first failures with the command that replays them, and the
// figures (seeds per second, convergence after the heal).
//
//   casty-sim --seeds 1..1000
//   casty-sim --seed 42 --trace            (one run, every event)
//   casty-sim --nodes 100 --seeds 1..3 --duration-ms 120000 --heal-at-ms 60000
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/downing.h"
#include "tests/sim/sim_membership.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: casty-sim [--seed N | --seeds A..B] [--nodes N]\n"
	    "                 [--min-nodes N] [--max-nodes N]\n"
	    "                 [--duration-ms MS] [--heal-at-ms MS]\n"
	    "                 [--bound-ms MS] [--downing STRATEGY]\n"
	    "                 [--no-faults] [--trace]\n"
	    "Runs the membership simulator for each seed; prints each failure\n"
	    "with the command that replays it, then the figures. Exit status:\n"
	    "0 every seed passed, 1 some failed, 2 bad arguments.\n");
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	errno     = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		return -1;
	}
	*out = v;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	sim_membership_options o = {0};
	uint64_t               first = 1, last = 100, v = 0;
	bool                   trace = false;
	char                   replay[256] = "";
	size_t                 at = 0;
	for (int i = 1; i < argc; i++) {
		const char *a   = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool        takes_value = strcmp(a, "--trace") != 0 &&
		                   strcmp(a, "--no-faults") != 0 &&
		                   strcmp(a, "--help") != 0;
		if (takes_value && val == NULL) {
			fprintf(stderr, "casty-sim: %s needs a value\n", a);
			usage(stderr);
			return 2;
		}
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--trace") == 0) {
			trace = true;
			continue;
		} else if (strcmp(a, "--no-faults") == 0) {
			o.no_faults = true;
		} else if (strcmp(a, "--seed") == 0 && parse_u64(val, &v) == 0) {
			first = last = v;
		} else if (strcmp(a, "--seeds") == 0) {
			char        lo[32];
			const char *dots = strstr(val, "..");
			size_t      n    = dots ? (size_t)(dots - val) : 0;
			if (dots == NULL || n >= sizeof lo) {
				goto bad;
			}
			memcpy(lo, val, n);
			lo[n] = '\0';
			if (parse_u64(lo, &first) != 0 ||
			    parse_u64(dots + 2, &last) != 0 || last < first) {
				goto bad;
			}
		} else if (strcmp(a, "--nodes") == 0 && parse_u64(val, &v) == 0 &&
		           v >= 1 && v <= 128) {
			o.min_nodes = o.max_nodes = (int)v;
		} else if (strcmp(a, "--min-nodes") == 0 &&
		           parse_u64(val, &v) == 0 && v >= 1 && v <= 128) {
			o.min_nodes = (int)v;
		} else if (strcmp(a, "--max-nodes") == 0 &&
		           parse_u64(val, &v) == 0 && v >= 1 && v <= 128) {
			o.max_nodes = (int)v;
		} else if (strcmp(a, "--duration-ms") == 0 &&
		           parse_u64(val, &v) == 0 && v > 0) {
			o.duration_ms = v;
		} else if (strcmp(a, "--heal-at-ms") == 0 &&
		           parse_u64(val, &v) == 0 && v > 0) {
			o.heal_at_ms = v;
		} else if (strcmp(a, "--bound-ms") == 0 &&
		           parse_u64(val, &v) == 0 && v > 0) {
			o.converge_bound_ms = v;
		} else if (strcmp(a, "--downing") == 0) {
			casty_downing_strategy s;
			if (casty_downing_strategy_parse(val, &s) != 0) {
				goto bad;
			}
			o.fixed_strategy                  = true;
			o.downing                         = (casty_downing_config){
				.strategy               = s,
				.down_all_when_unstable = true,
				.down_if_alone          = true,
			};
		} else {
			goto bad;
		}
		// Every option but the seeds goes into the replay command.
		if (strcmp(a, "--seed") != 0 && strcmp(a, "--seeds") != 0) {
			at += (size_t)snprintf(replay + at,
			    at < sizeof replay ? sizeof replay - at : 0, " %s", a);
			if (takes_value) {
				at += (size_t)snprintf(replay + at,
				    at < sizeof replay ? sizeof replay - at : 0,
				    " %s", val);
				i++;
			}
		} else {
			i++;
		}
		continue;
	bad:
		fprintf(stderr, "casty-sim: bad %s%s%s\n", a, val ? " " : "",
		    val && takes_value ? val : "");
		usage(stderr);
		return 2;
	}
	if (o.min_nodes > 0 && o.max_nodes > 0 && o.min_nodes > o.max_nodes) {
		fprintf(stderr, "casty-sim: --min-nodes is above --max-nodes\n");
		return 2;
	}
	if (trace) {
		o.trace = stdout;
	}

	uint64_t  nseeds = last - first + 1;
	uint64_t *conv   = calloc(nseeds, sizeof(uint64_t));
	if (conv == NULL) {
		return 2;
	}
	uint64_t nconv = 0, failed = 0, events = 0;
	uint32_t decisions[5] = {0}, self_downed = 0;
	double   t0 = now_s();
	for (uint64_t seed = first; seed <= last; seed++) {
		sim_membership_result r;
		o.seed = seed;
		if (!sim_membership_run(&o, &r)) {
			failed++;
			printf("FAIL seed %" PRIu64 " at %" PRIu64 " ms: %s\n"
			       "  %s\n  replay: casty-sim --seed %" PRIu64
			       "%s --trace\n",
			    seed, r.failed_at_ms, r.failure, r.setup, seed, replay);
		} else if (trace) {
			printf("ok: %s, converged %" PRIu64 " ms after the heal, "
			       "trace %016" PRIx64 "\n",
			    r.setup, r.converged_ms, r.trace_hash);
		}
		if (r.converged_ms != UINT64_MAX) {
			conv[nconv++] = r.converged_ms;
		}
		events += r.events;
		for (int d = 0; d < 5; d++) {
			decisions[d] += r.decisions[d];
		}
		self_downed += r.self_downed;
		if (seed == UINT64_MAX) {
			break;
		}
	}
	double secs = now_s() - t0;
	qsort(conv, nconv, sizeof(uint64_t), cmp_u64);
	printf("%" PRIu64 " seeds, %" PRIu64 " failed, %.1f seeds/s, %.2f M "
	       "events/s\n",
	    nseeds, failed, (double)nseeds / secs, (double)events / secs / 1e6);
	if (nconv > 0) {
		printf("converged after the heal: median %" PRIu64 " ms, p99 "
		       "%" PRIu64 " ms, max %" PRIu64 " ms\n",
		    conv[nconv / 2], conv[nconv * 99 / 100], conv[nconv - 1]);
	}
	printf("decisions:");
	for (int d = 0; d < 5; d++) {
		printf(" %s %u", cst_downing_decision_name((cst_downing_decision)d),
		    decisions[d]);
	}
	printf("; nodes that found themselves downed: %u\n", self_downed);
	free(conv);
	return failed ? 1 : 0;
}
