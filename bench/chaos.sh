#!/usr/bin/env bash
# bench/chaos.sh: the times of the fault-injection scenarios
# (tests/chaos) and the simulator's speed, as medians of several runs.
#
#   bench/chaos.sh [-n RUNS] [-s core|long|all] [-o FILE]
#     -n   runs of each scenario (default 3)
#     -s   which scenarios: core (S1 S3 S5 S6 S7, default), long (S2 S4
#          S11 S12 S13) or all
#     -o   also write the report to FILE (it always goes to stdout)
#
# Needs root (network namespaces) and the build in build/ (tools/test.sh
# makes it). Each run of the chaos program appends its FIGURE lines (ms
# from the fault to what a node saw) to one file; the table gives, per
# scenario and figure, the median, the smallest and the largest. The
# simulator line is casty-sim over 1,000 seeds of 3 to 9 nodes, 60
# simulated seconds each. The times are what five casty-node processes
# with the default timings and keep-majority took on this machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline=$(printf '%q ' "bench/chaos.sh" "$@")
cmdline=${cmdline% }
runs=3
set_name=core
outfile=
while getopts 'n:s:o:h' opt; do
	case "$opt" in
	n) runs=$OPTARG ;;
	s) set_name=$OPTARG ;;
	o) outfile=$OPTARG ;;
	h)
		awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
		exit 0
		;;
	*) exit 2 ;;
	esac
done
case "$set_name" in
core) filter='chaos_core/*' ;;
long) filter='chaos_long/*' ;;
all) filter='chaos_*/*' ;;
*)
	echo "chaos.sh: -s takes core, long or all, not '$set_name'" >&2
	exit 2
	;;
esac
build=$root/build
for f in "$build/tests/chaos/chaos_test_chaos" "$build/tools/casty-node" \
	"$build/tests/sim/casty-sim"; do
	[ -x "$f" ] || {
		echo "chaos.sh: $f is missing: run tools/test.sh first" >&2
		exit 1
	}
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for ((r = 1; r <= runs; r++)); do
	echo "chaos.sh: run $r of $runs" >&2
	CASTY_NODE=$build/tools/casty-node CRITERION_JOBS=1 \
		CASTY_CHAOS_FIGURES=$work/figures CASTY_CHAOS_LOGS=$work \
		"$build/tests/chaos/chaos_test_chaos" --filter="$filter" \
		>"$work/run$r.log" 2>&1 || {
		echo "chaos.sh: run $r failed:" >&2
		grep -v '^\[RUN\|SKIP' "$work/run$r.log" | tail -20 >&2
		exit 1
	}
done
sim=$("$build/tests/sim/casty-sim" --seeds 1..1000 | grep 'seeds/s')

report() {
	echo "Fault-injection scenarios, $runs runs each (\`$cmdline\`);"
	echo "ms from the fault (or the heal) to what the nodes saw:"
	echo
	echo "| scenario | figure | median ms | min | max |"
	echo "|---|---|---:|---:|---:|"
	python3 - "$work/figures" <<'PY'
import collections, statistics, sys
seen = collections.OrderedDict()
for line in open(sys.argv[1]):
    scenario, name, ms = line.split()
    seen.setdefault((scenario, name), []).append(int(ms))
for (scenario, name), v in seen.items():
    print(f"| {scenario} | {name} | {statistics.median(v):.0f} | "
          f"{min(v)} | {max(v)} |")
PY
	echo
	echo "Simulator: $sim"
}
if [ -n "$outfile" ]; then
	report | tee "$outfile"
else
	report
fi
