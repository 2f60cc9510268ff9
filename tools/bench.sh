#!/usr/bin/env bash
# tools/bench.sh: runs the bench suite. Installs what is missing
# (tools/setup.sh bench), builds build/ as a release build (-O2), then runs every
# program of bench/ and prints what it prints.
#
#   tools/bench.sh [NAME...]     NAME: a bench program (default: all)
#
# The programs are the executables that bench/meson.build defines, found
# with `meson introspect --targets`. Environment: BUILD_DIR overrides the
# build directory. Exits non-zero when a program fails. To compare with CAF
# and Erlang on the same machine, use bench/compare.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dir=${BUILD_DIR:-build}

case "${1:-}" in
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
	exit 0
	;;
esac

bash tools/setup.sh bench

opts=(-Doptimization=2 -Ddebug=false -Db_sanitize=none -Dbench=true)
if [ -f "$dir/build.ninja" ]; then
	# meson 1.0's `setup --reconfigure` drops -Dc_args; `configure` keeps
	# it (ninja regenerates). A directory of another meson is remade.
	meson configure "${opts[@]}" "$dir" >/dev/null ||
		meson setup --wipe "${opts[@]}" "$dir"
else
	[ -d "$dir/meson-private" ] && rm -rf "$dir"
	meson setup "${opts[@]}" "$dir"
fi
ninja -C "$dir"

# Every executable defined in bench/meson.build, as a path under $dir.
mapfile -t all < <(meson introspect --targets "$dir" | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and \
            os.path.basename(os.path.dirname(t["defined_in"])) == "bench":
        for f in t["filename"]:
            print(f)
' | sort)
[ ${#all[@]} -gt 0 ] || { echo "bench.sh: no bench program in $dir" >&2; exit 1; }

if [ $# -gt 0 ]; then
	progs=()
	for name in "$@"; do
		found=
		for p in "${all[@]}"; do
			[ "$(basename "$p")" = "$name" ] && found=$p
		done
		[ -n "$found" ] || {
			echo "bench.sh: no bench program '$name'" >&2
			exit 2
		}
		progs+=("$found")
	done
else
	progs=("${all[@]}")
fi

echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- |
	sed 's/^ *//'), $(uname -sr), $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
status=0
run() {
	echo "# $(basename "$1")${2:+ $2}"
	"$@" || {
		rc=$?
		echo "bench.sh: $(basename "$1") failed (exit $rc)" >&2
		status=1
	}
}
for p in "${progs[@]}"; do
	run "$p"
	# skynet's second figure: the memory of one idle actor.
	[ "$(basename "$p")" != skynet ] || run "$p" --idle
done
exit $status
