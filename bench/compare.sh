#!/usr/bin/env bash
# bench/compare.sh: casty against its peers (CAF, Erlang/OTP) on this
# machine, in alternated runs of one sitting.
#
#   bench/compare.sh [-n RUNS] [-p PEERS] [-t SECONDS] [-o FILE] [BENCH...]
#     BENCH  benchmarks of ../shared/peers/README.md     (default: pingpong)
#     -n     timed runs of each program per benchmark    (default 5)
#     -p     comma-separated peers: caf,erlang           (default caf,erlang)
#     -t     time limit of one run, in seconds           (default 600)
#     -o     also write the report (tables, machine, versions, command) to
#            FILE, and its chart (bench/chart.sh) to FILE less .md plus
#            .png; the report always goes to stdout
#
# Per benchmark: one untimed warm-up of each program, then RUNS rounds of
# casty, caf, erlang, casty, caf, erlang, ... Each run is timed as a whole
# process with GNU time (wall seconds, peak RSS) and must exit 0 and print
# `BENCH <name> msgs=<N> seconds=<S> msgs_per_sec=<R>`; msgs_per_sec is
# timed inside the process. The table gives the median in-process rate of
# each program and, for casty/peer, the median and the range of the
# per-round ratios (round i: casty run i against peer run i), so drift
# during the sitting cancels out. A failed run makes the script fail.
#
# Environment:
#   PEERS_DIR        the peers' sources (default: ../shared/peers beside
#                    the repository)
#   PEERS_BUILD      where the peers are built (default: build/peers)
#   CASTY_BENCH_DIR  casty's bench programs; when set, casty is not built
#                    (default: build/bench, built as tools/bench.sh does)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline=$(printf '%q ' "bench/compare.sh" "$@")
cmdline=${cmdline% }

runs=5
peers_opt=caf,erlang
limit=600
outfile=
while getopts 'n:p:t:o:h' opt; do
	case "$opt" in
	n) runs=$OPTARG ;;
	p) peers_opt=$OPTARG ;;
	t) limit=$OPTARG ;;
	o) outfile=$OPTARG ;;
	h)
		awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
		exit 0
		;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(pingpong)
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: -n wants a positive count" >&2; exit 2; }
IFS=, read -r -a peers <<<"$peers_opt"
for p in "${peers[@]}"; do
	case "$p" in
	caf | erlang) ;;
	*)
		echo "compare.sh: unknown peer '$p' (caf, erlang)" >&2
		exit 2
		;;
	esac
done
impls=(casty "${peers[@]}")
# An -o path is taken from where the script was started.
if [ -n "$outfile" ]; then
	case "$outfile" in
	/*) ;;
	*) outfile=$PWD/$outfile ;;
	esac
fi

cd "$root"
peers_dir=${PEERS_DIR:-$(dirname "$root")/shared/peers}
peers_build=${PEERS_BUILD:-$root/build/peers}
case "$peers_build" in
/*) ;;
*) peers_build=$root/$peers_build ;;
esac
TIME=/usr/bin/time

bash tools/setup.sh bench

# casty: a release build of build/, as tools/bench.sh makes it.
if [ -z "${CASTY_BENCH_DIR:-}" ]; then
	opts=(-Doptimization=2 -Ddebug=false -Db_sanitize=none -Dbench=true)
	if [ -f build/build.ninja ]; then
		meson configure "${opts[@]}" build >/dev/null ||
			meson setup --wipe "${opts[@]}" build >/dev/null
	else
		meson setup "${opts[@]}" build >/dev/null
	fi
	ninja -C build >/dev/null
	casty_dir=$root/build/bench
else
	casty_dir=$(cd "$CASTY_BENCH_DIR" && pwd)
fi

# The peers, built outside their (possibly read-only) folder.
[ -f "$peers_dir/Makefile" ] || {
	echo "compare.sh: no peers in $peers_dir (set PEERS_DIR)" >&2
	exit 1
}
mkdir -p "$peers_build"
make -s -C "$peers_dir" BUILD="$peers_build" >&2

# cmd_of IMPL BENCH: prints the command line of one run.
cmd_of() {
	case "$1" in
	casty)
		local exe=$casty_dir/$2
		[ -x "$exe" ] || exe=$casty_dir/${2//-/_}
		[ -x "$exe" ] || {
			echo "compare.sh: no casty program for $2 in $casty_dir" >&2
			return 1
		}
		echo "$exe"
		;;
	caf) echo "$peers_build/caf_bench $2" ;;
	erlang)
		# skynet keeps 1,111,111 processes alive; the default limit is
		# 262,144 (see the peers' README).
		if [ "$2" = skynet ]; then
			echo "erl +P 2000000 -noshell -pa $peers_build/ebin -run peers_bench main $2"
		else
			echo "erl -noshell -pa $peers_build/ebin -run peers_bench main $2"
		fi
		;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results # bench impl round rate wall_s rss_kb
: >"$results"

# run_one IMPL BENCH ROUND: one timed run (ROUND 0 is the warm-up). Appends
# to $results; prints why and returns 1 when the run fails its validation.
run_one() {
	local impl=$1 bench=$2 round=$3 cmd rc=0 line rate wall rss
	cmd=$(cmd_of "$impl" "$bench") || return 1
	# shellcheck disable=SC2086
	$TIME -f '%e %M' -o "$tmp/time" timeout -k 10 "$limit" $cmd \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	line=$(grep -m1 "^BENCH $bench " "$tmp/out" || true)
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		local why="exit $rc"
		[ -n "$line" ] || why="$why, no BENCH line"
		echo "FAILED $impl $bench run $round ($why): $cmd" >&2
		tail -5 "$tmp/err" >&2
		return 1
	fi
	rate=$(sed -n 's/.* msgs_per_sec=\([0-9.e+]*\).*/\1/p' <<<"$line")
	[ -n "$rate" ] || {
		echo "FAILED $impl $bench run $round: no msgs_per_sec in '$line'" >&2
		return 1
	}
	read -r wall rss < <(tail -1 "$tmp/time")
	echo "  $impl run $round: $line wall_s=$wall peak_rss_kb=$rss" >&2
	[ "$round" -eq 0 ] || echo "$bench $impl $round $rate $wall $rss" >>"$results"
}

status=0
failed=()
for bench in "${benches[@]}"; do
	echo "# $bench: warm-up, then $runs rounds of ${impls[*]}" >&2
	ok=1
	for impl in "${impls[@]}"; do
		run_one "$impl" "$bench" 0 || { ok=0; break; }
	done
	for ((i = 1; ok && i <= runs; i++)); do
		for impl in "${impls[@]}"; do
			run_one "$impl" "$bench" "$i" || { ok=0; break; }
		done
	done
	if [ $ok -eq 0 ]; then
		status=1
		failed+=("$bench")
	fi
done

# The report. awk computes medians and per-round ratios from $results.
report() {
	local cpu
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	echo "## casty against its peers"
	echo
	awk -v benches="${benches[*]}" -v impls="${impls[*]}" -v runs="$runs" '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function human(r) {
		if (r >= 1e6) return sprintf("%.2fM", r / 1e6)
		if (r >= 1e3) return sprintf("%.0fk", r / 1e3)
		return sprintf("%.0f", r)
	}
	function label(p) { return p == "caf" ? "CAF" : p == "erlang" ? "Erlang" : p }
	{ rate[$1, $2, $3] = $4; wall[$1, $2, $3] = $5; rss[$1, $2, $3] = $6 }
	END {
		nb = split(benches, B, " "); ni = split(impls, I, " ")
		hdr = "| benchmark |"; sep = "|---|"
		for (k = 1; k <= ni; k++) { hdr = hdr " " label(I[k]) " msgs/s |"; sep = sep "---:|" }
		for (k = 2; k <= ni; k++) { hdr = hdr " casty/" label(I[k]) " |"; sep = sep "---:|" }
		print hdr; print sep
		for (b = 1; b <= nb; b++) {
			row = "| " B[b] " |"
			for (k = 1; k <= ni; k++) {
				n = 0; delete v
				for (r = 1; r <= runs; r++)
					if ((B[b], I[k], r) in rate) v[++n] = rate[B[b], I[k], r]
				row = row " " (n ? human(median(v, n)) : "FAILED") " |"
			}
			for (k = 2; k <= ni; k++) {
				n = 0; delete v; lo = ""; hi = ""
				for (r = 1; r <= runs; r++)
					if ((B[b], "casty", r) in rate && (B[b], I[k], r) in rate && rate[B[b], I[k], r] > 0) {
						x = rate[B[b], "casty", r] / rate[B[b], I[k], r]
						v[++n] = x
						if (lo == "" || x < lo) lo = x
						if (hi == "" || x > hi) hi = x
					}
				row = row " " (n ? sprintf("%.2fx (%.2f–%.2f)", median(v, n), lo, hi) : "-") " |"
			}
			print row
		}
		print ""
		print "Whole process (GNU time): median wall seconds and largest peak RSS."
		print ""
		hdr = "| benchmark |"; sep = "|---|"
		for (k = 1; k <= ni; k++) { hdr = hdr " " label(I[k]) " wall s | " label(I[k]) " RSS MB |"; sep = sep "---:|---:|" }
		print hdr; print sep
		for (b = 1; b <= nb; b++) {
			row = "| " B[b] " |"
			for (k = 1; k <= ni; k++) {
				n = 0; delete v; m = 0
				for (r = 1; r <= runs; r++)
					if ((B[b], I[k], r) in wall) {
						v[++n] = wall[B[b], I[k], r]
						if (rss[B[b], I[k], r] > m) m = rss[B[b], I[k], r]
					}
				row = row (n ? sprintf(" %.2f | %.1f |", median(v, n), m / 1024) : " FAILED | - |")
			}
			print row
		}
	}' "$results"
	echo
	echo "Ratios are the median of the per-round ratios of in-process msgs/s"
	echo "(round i: casty run i against the peer's run i), with their range;"
	echo "$runs round$([ "$runs" -eq 1 ] || echo s) after one warm-up each, runs alternated."
	echo
	echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r)"
	echo "- casty: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (modified)'), $(gcc --version | head -1)"
	case " ${impls[*]} " in *" caf "*)
		echo "- CAF: libcaf-dev $(dpkg-query -W -f='${Version}' libcaf-dev 2>/dev/null || echo unknown), $(g++ --version | head -1)" ;;
	esac
	case " ${impls[*]} " in *" erlang "*)
		echo "- Erlang/OTP: $(erl -noshell -eval 'io:format("~s (erts ~s)", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().' 2>/dev/null || echo unknown)" ;;
	esac
	echo "- command: \`$cmdline\`"
	if [ ${#failed[@]} -gt 0 ]; then
		echo
		echo "FAILED: ${failed[*]}"
	fi
}

report >"$tmp/report"
cat "$tmp/report"
if [ -n "$outfile" ]; then
	cp "$tmp/report" "$outfile"
	echo "report written to $outfile" >&2
	# The chart beside it: report.md -> report.png.
	bash "$root/bench/chart.sh" "$outfile" "${outfile%.md}.png" >&2 ||
		status=1
fi
exit $status
