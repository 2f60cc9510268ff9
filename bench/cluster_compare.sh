#!/usr/bin/env bash
# bench/cluster_compare.sh: casty's remote messaging against Erlang/OTP's
# distribution on this machine, in alternated runs of one sitting, and
# casty's membership timings.
#
#   bench/cluster_compare.sh [-n RUNS] [-o FILE]
#     -n   rounds (default 5): each runs build/bench/cluster_remote, then
#          bench/peers/remote_bench.erl on two Erlang nodes, then
#          build/bench/cluster_membership
#     -o   also write the report to FILE (the report always goes to stdout)
#
# Both sides send 2,000,000 messages from one sender to a counting actor
# on another process (windows of 100,000 closed by a request-reply), then
# time 20,000 request-reply round trips. The table gives each side's
# median and, for casty/Erlang, the median and range of the per-round
# ratios. Needs erl and erlc (Debian erlang-base, erlang-nox; the peers'
# Makefile installs them). epmd is started by the first Erlang node when
# it is not running, and stopped at the end in that case.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline=$(printf '%q ' "bench/cluster_compare.sh" "$@")
cmdline=${cmdline% }
runs=5
outfile=
while getopts 'n:o:h' opt; do
	case "$opt" in
	n) runs=$OPTARG ;;
	o) outfile=$OPTARG ;;
	h)
		awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
		exit 0
		;;
	*) exit 2 ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "cluster_compare.sh: -n wants a positive count" >&2; exit 2; }
if [ -n "$outfile" ]; then
	case "$outfile" in
	/*) ;;
	*) outfile=$PWD/$outfile ;;
	esac
fi
cd "$root"
command -v erlc >/dev/null || { echo "cluster_compare.sh: erlc not found (apt-get install erlang-nox)" >&2; exit 1; }

bash tools/bench.sh cluster_remote >/dev/null # builds build/ as a release
ebin=build/peers-remote
mkdir -p "$ebin"
erlc -o "$ebin" bench/peers/remote_bench.erl

epmd_was_running=false
epmd -names >/dev/null 2>&1 && epmd_was_running=true
cookie=casty-bench-$$
results=$(mktemp)
b_pid=
cleanup() {
	[ -n "$b_pid" ] && kill "$b_pid" 2>/dev/null
	rm -f "$results"
	$epmd_was_running || epmd -kill >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Appends "impl metric value" lines for one program's output.
collect() {
	awk -v impl="$1" '
		/^BENCH remote-tell/ { sub("msgs_per_sec=", "", $5); print impl, "tell", $5 }
		/^remote_ask_p50_us/ { print impl, "p50", $2 }
		/^remote_ask_p99_us/ { print impl, "p99", $2 }
		/^cluster_/ { print impl, $1, $2 }' >>"$results"
}

for ((i = 1; i <= runs; i++)); do
	echo "round $i of $runs" >&2
	build/bench/cluster_remote 2>/dev/null | collect casty
	erl -noshell -name "b$$@127.0.0.1" -setcookie "$cookie" -pa "$ebin" \
		-run remote_bench serve &
	b_pid=$!
	erl -noshell -name "a$$@127.0.0.1" -setcookie "$cookie" -pa "$ebin" \
		-run remote_bench main "b$$@127.0.0.1" | collect erlang
	# Node a has asked node b to stop; should that not arrive, stop it.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$b_pid" 2>/dev/null || break
		sleep 1
	done
	kill "$b_pid" 2>/dev/null || true
	wait "$b_pid" || true
	b_pid=
	build/bench/cluster_membership 2>/dev/null | collect casty
done

report() {
	echo "## Cluster: remote messaging against Erlang/OTP distribution"
	echo
	echo "Machine: $(nproc) cores, $(uname -srm); $(erl -noshell -eval 'io:format("Erlang/OTP ~s", [erlang:system_info(otp_release)]), halt().')"
	echo "Command: \`$cmdline\` at $(git rev-parse --short HEAD), $runs rounds"
	echo
	awk '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ n[$1 SUBSEP $2]++; v[$1 SUBSEP $2 SUBSEP n[$1 SUBSEP $2]] = $3 }
	END {
		print "| metric | casty | Erlang | casty/Erlang median (range) |"
		print "| --- | --- | --- | --- |"
		split("tell p50 p99", ms, " ")
		split("remote tell (msgs/s)|ask round trip p50 (us)|ask round trip p99 (us)", names, "|")
		for (k = 1; k <= 3; k++) {
			m = ms[k]; c = n["casty" SUBSEP m]; e = n["erlang" SUBSEP m]
			for (i = 1; i <= c; i++) ca[i] = v["casty" SUBSEP m SUBSEP i]
			for (i = 1; i <= e; i++) ea[i] = v["erlang" SUBSEP m SUBSEP i]
			r = c < e ? c : e; lo = ""; hi = ""
			for (i = 1; i <= r; i++) {
				# Higher is better for a rate, lower for a latency.
				x = m == "tell" ? ca[i] / ea[i] : ea[i] / ca[i]
				ra[i] = x; lo = lo == "" || x < lo ? x : lo; hi = hi == "" || x > hi ? x : hi
			}
			printf "| %s | %.0f | %.0f | %.2fx (%.2f-%.2f) |\n", names[k], median(ca, c), median(ea, e), median(ra, r), lo, hi
		}
		print ""
		print "Ratios are better-is-higher: the rate ratio for tell, Erlang/casty for the latencies."
		print ""
		print "| casty membership, default settings (3 and 5 processes) | median (ms) | range |"
		print "| --- | --- | --- |"
		for (key in n) {
			split(key, kk, SUBSEP)
			if (kk[1] != "casty" || kk[2] !~ /^cluster_/) continue
			c = n[key]; lo = ""; hi = ""
			for (i = 1; i <= c; i++) { x = v[key SUBSEP i]; a[i] = x; lo = lo == "" || x < lo ? x : lo; hi = hi == "" || x > hi ? x : hi }
			rows[kk[2]] = sprintf("| %s | %.0f | %.0f-%.0f |", kk[2], median(a, c), lo, hi)
		}
		k = 0
		for (r in rows) order[++k] = r
		for (i = 2; i <= k; i++) { t = order[i]; for (j = i - 1; j >= 1 && order[j] > t; j--) order[j + 1] = order[j]; order[j + 1] = t }
		for (i = 1; i <= k; i++) print rows[order[i]]
	}' "$results"
}

if [ -n "$outfile" ]; then
	report | tee "$outfile"
else
	report
fi
