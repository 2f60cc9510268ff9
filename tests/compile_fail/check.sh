#!/usr/bin/env bash
# tests/compile_fail/check.sh: proves that typed protocols turn mistakes
# into compile errors. Compiles tests/compile_fail/protocol.c once per case
# with -fsyntax-only -Wall -Wextra -Werror against the source tree's
# include/: the control must compile, each bad case must fail with an error
# that names the culprit.
#
#   check.sh SOURCE_ROOT        (CC: the project's C compiler, default cc)
set -euo pipefail

src=$1
cc=${CC:-cc}
file=$src/tests/compile_fail/protocol.c
flags=(-std=gnu11 -fsyntax-only -Wall -Wextra -Werror -I"$src/include")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0

# compile CASE: compiles one case, leaving the diagnostics in $tmp/err.
compile() {
	# shellcheck disable=SC2086
	$cc "${flags[@]}" -DCASE_"$1" "$file" 2>"$tmp/err"
}

must_compile() {
	if compile "$1"; then
		echo "ok: $1 compiles"
		passed=$((passed + 1))
	else
		echo "FAIL: $1 must compile, but:"
		cat "$tmp/err"
		failures=$((failures + 1))
	fi
}

# must_fail CASE PATTERN: CASE must not compile, and the compiler's errors
# must match PATTERN (so it fails for the reason we mean).
must_fail() {
	if compile "$1"; then
		echo "FAIL: $1 compiled, but must not"
		failures=$((failures + 1))
	elif grep -Eq "$2" "$tmp/err"; then
		echo "ok: $1 does not compile: $(grep -Em1 "$2" "$tmp/err")"
		passed=$((passed + 1))
	else
		echo "FAIL: $1 failed to compile without mentioning /$2/:"
		cat "$tmp/err"
		failures=$((failures + 1))
	fi
}

# The control: every tell in the protocol, the right ref type for spawn, a
# switch with a case per tag. It must compile cleanly.
must_compile good
# casty_tell of a message outside the ref's protocol: no such member.
must_fail bad_tell "error:.*Shout"
# casty_spawn into a ref of another protocol: no _Generic association.
must_fail bad_spawn "error:.*(_Generic|generic association)"
# A switch over the protocol's tags that misses one: -Wswitch under -Werror.
must_fail switch_missing "GreeterMsg_Bye.*not handled|not handled.*GreeterMsg_Bye"
# Subscribing a ref to an event outside its protocol.
must_fail bad_subscribe "error:.*casty_actor_stopped"

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
