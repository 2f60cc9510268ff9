#!/usr/bin/env bash
# tools/test.sh: runs every test. Installs what is missing (tools/setup.sh
# test), configures, builds, then runs `meson test`.
#
#   tools/test.sh [--sanitize asan|tsan] [-- MESON_TEST_ARGS...]
#     (none)           build dir build/
#     --sanitize asan  build-asan/: AddressSanitizer, LeakSanitizer and
#                      UndefinedBehaviorSanitizer, debugoptimized
#     --sanitize tsan  build-tsan/: ThreadSanitizer, debugoptimized; the
#                      tests run with tools/criterion_tsan_shim.c preloaded,
#                      and under `setarch -R` when TSan needs it
#     -- ARGS          passed to meson test (e.g. -- --suite runtime);
#                      without them every suite runs but chaos-long, the
#                      long fault-injection scenarios (-- --suite
#                      chaos-long runs those)
#
# Environment: CI=true adds -Dwerror=true; BUILD_DIR overrides the build
# directory; ASAN_OPTIONS, LSAN_OPTIONS, UBSAN_OPTIONS and TSAN_OPTIONS, when set, replace
# the defaults below. Exits non-zero when anything fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

sanitize=none
test_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--sanitize)
		[ $# -ge 2 ] || { echo "test.sh: --sanitize needs asan or tsan" >&2; exit 2; }
		sanitize=$2
		shift 2
		;;
	--sanitize=*)
		sanitize=${1#--sanitize=}
		shift
		;;
	--)
		shift
		test_args=("$@")
		break
		;;
	-h | --help)
		awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
		exit 0
		;;
	*)
		echo "test.sh: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
done

bash tools/setup.sh test

# Criterion 2.4.1 (Debian 12) compiles the typed gt(T, a, b) of its C API
# to !(a < b), which also holds when a == b: an assertion of "more than
# zero" passes on zero. The tests write lt(T, b, a) instead; keep it so.
if grep -rnE '(^|[^_[:alnum:]])gt\(' tests --include='*.[ch]'; then
	echo "test.sh: Criterion's gt(T, a, b) passes when a == b;" \
		"write lt(T, b, a) (the lines above)" >&2
	exit 1
fi

opts=()
if [ "${CI:-}" = true ]; then
	opts+=(-Dwerror=true)
else
	opts+=(-Dwerror=false)
fi
wrap="" # a command that meson test runs each test under

case "$sanitize" in
none)
	dir=${BUILD_DIR:-build}
	opts+=(-Db_sanitize=none)
	;;
asan)
	dir=${BUILD_DIR:-build-asan}
	# shellcheck disable=SC2054 # the comma belongs to the option
	opts+=(-Db_sanitize=address,undefined -Db_lundef=false
		-Dbuildtype=debugoptimized)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	;;
tsan)
	dir=${BUILD_DIR:-build-tsan}
	# runtime/fence.h keeps atomic_thread_fence (which gcc's -Wtsan flags)
	# out of TSan builds, so -Werror holds here too.
	opts+=(-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized
		-Dc_args=)
	export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
	;;
*)
	echo "test.sh: --sanitize takes asan or tsan, not '$sanitize'" >&2
	exit 2
	;;
esac

# gcc 12's TSan runtime aborts with "FATAL: ThreadSanitizer: unexpected
# memory mapping" when the kernel randomises mmap with more entropy than it
# expects (vm.mmap_rnd_bits above 28). Probe with a tiny program; when it
# fails, run the tests with ASLR off for the test processes only
# (`setarch -R`), which changes nothing on the machine.
tsan_probe() {
	local probe=$1 arch
	cat >"$probe/p.c" <<-'EOF'
		#include <pthread.h>
		static int x;
		static void *run(void *a) { (void)a; x = 1; return 0; }
		int main(void) { pthread_t t; pthread_create(&t, 0, run, 0);
			pthread_join(t, 0); return x - 1; }
	EOF
	"${CC:-cc}" -fsanitize=thread -pthread -o "$probe/p" "$probe/p.c" || {
		echo "test.sh: cannot build a ThreadSanitizer program" >&2
		return 1
	}
	if "$probe/p" >"$probe/log" 2>&1; then
		return 0
	fi
	arch=$(uname -m)
	if setarch "$arch" -R "$probe/p" >/dev/null 2>&1; then
		echo "test.sh: TSan fails with ASLR on ($(grep -m1 . "$probe/log"));" \
			"running the tests under setarch $arch -R"
		wrap="setarch $arch -R"
		return 0
	fi
	echo "test.sh: ThreadSanitizer does not run on this machine:" >&2
	cat "$probe/log" >&2
	return 1
}
if [ "$sanitize" = tsan ]; then
	probe=$(mktemp -d)
	status=0
	tsan_probe "$probe" || status=$?
	rm -rf "$probe"
	[ $status -eq 0 ] || exit $status
fi

if [ -f "$dir/build.ninja" ]; then
	# meson 1.0's `setup --reconfigure` drops -Dc_args; `configure` keeps
	# it (ninja regenerates). A directory of another meson is remade.
	meson configure "${opts[@]}" "$dir" >/dev/null ||
		meson setup --wipe "${opts[@]}" "$dir"
else
	# A directory left half-made by an interrupted setup.
	[ -d "$dir/meson-private" ] && rm -rf "$dir"
	meson setup "${opts[@]}" "$dir"
fi
ninja -C "$dir"

# Criterion's BoxFort places its shared arena where TSan keeps its shadow
# memory, so Criterion programs crash at start under TSan; the shim steers
# the arena into application memory (see tools/criterion_tsan_shim.c).
if [ "$sanitize" = tsan ] && [ "$(uname -m)" = x86_64 ]; then
	shim=$(cd "$dir" && pwd)/criterion-tsan-shim.so
	"${CC:-cc}" -O2 -Wall -fPIC -shared -o "$shim" tools/criterion_tsan_shim.c
	wrap="${wrap:+$wrap }env LD_PRELOAD=$shim"
fi

# Sanitizer reports go to files, so that a report fails the run even where
# the process that printed it exits 0 (LeakSanitizer in Criterion's
# workers, say): any file here after the tests is a failure.
sanlog=$(cd "$dir" && pwd)/sanitizer-reports
rm -rf "$sanlog"
mkdir -p "$sanlog"
case "$sanitize" in
asan)
	export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$sanlog/asan"
	export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$sanlog/ubsan"
	;;
tsan)
	export TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$sanlog/tsan"
	;;
esac

wrapper=()
[ -z "$wrap" ] || wrapper=(--wrapper "$wrap")
# The long fault-injection scenarios (tests/chaos) run only when asked
# for: tools/test.sh -- --suite chaos-long.
[ ${#test_args[@]} -gt 0 ] || test_args=(--no-suite chaos-long)
rc=0
meson test -C "$dir" --print-errorlogs --logbase testlog "${wrapper[@]}" \
	"${test_args[@]}" || rc=$?
if [ -n "$(ls -A "$sanlog")" ]; then
	echo "test.sh: sanitizer reports:" >&2
	cat "$sanlog"/* >&2
	rc=1
fi

# One closing line over every meson test of this run. meson test names its
# log after the wrapper's command when there is one.
log=$dir/meson-logs/testlog
[ -z "$wrap" ] || log=$log-$(basename "${wrap%% *}")
python3 - "$log.json" "$sanitize" <<'EOF' || true
import json, sys
n = {"passed": 0, "failed": 0, "skipped": 0}
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        n["passed"] += 1
    elif r == "SKIP":
        n["skipped"] += 1
    else:
        n["failed"] += 1
label = "tests" if sys.argv[2] == "none" else sys.argv[2]
print(f"{label}: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped")
EOF
exit $rc
