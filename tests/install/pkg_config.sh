#!/usr/bin/env bash
# tests/install/pkg_config.sh: installs the build into a temporary DESTDIR
# (no root needed), then builds tests/install/app.c the way another project
# would, with `pkg-config casty`, linked against the shared library and
# against the static one, and runs both.
#
#   pkg_config.sh BUILD_ROOT SOURCE_ROOT
#
# Environment (set by tests/install/meson.build): MESON, the meson command;
# CC, the project's C compiler; SANITIZE, the b_sanitize option (a
# sanitized libcasty needs the program linked with the same runtime).
set -euo pipefail

build=$1
src=$2
meson=${MESON:-meson}
cc=${CC:-cc}
sanitize=${SANITIZE:-none}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

$meson install -C "$build" --destdir "$dest" --no-rebuild --quiet ||
	fail "meson install --destdir failed"

pc=$(find "$dest" -name casty.pc -path '*/pkgconfig/*' | head -1)
[ -n "$pc" ] || fail "no casty.pc installed under the prefix"
echo "installed: ${pc#"$dest"}"

# The .pc file names the final prefix; the sysroot makes pkg-config prefix
# its -I and -L paths with the DESTDIR. System .pc files stay reachable.
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$dest
pkg-config --exists casty || fail "pkg-config does not find casty"
libdir=$(dirname "$(dirname "$pc")") # casty.pc is in $libdir/pkgconfig
[ -f "$libdir/libcasty.so" ] || fail "no libcasty.so in ${libdir#"$dest"}"
[ -f "$libdir/libcasty.a" ] || fail "no libcasty.a in ${libdir#"$dest"}"
echo "version: $(pkg-config --modversion casty)"

# Only the public API is exported: every symbol the shared library defines
# is casty_*, or one the linker adds by itself (or, under ASan, the
# one-definition-rule marker of an exported casty_ variable).
extra=$(nm -D --defined-only "$libdir/libcasty.so" | awk '{ print $NF }' |
	grep -Ev '^(casty_|__odr_asan\.casty_|_init$|_fini$|_edata$|_end$|__bss_start$)' ||
	true)
[ -z "$extra" ] || fail "libcasty.so exports non-API symbols: $(tr "\n" " " <<<"$extra")"

flags=(-Wall -Wextra -Werror -O1)
if [ "$sanitize" != none ]; then
	flags+=("-fsanitize=$sanitize")
fi
expected="casty $(pkg-config --modversion casty) total=42"

run_app() {
	local exe=$1 out
	out=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$exe") || fail "$(basename "$exe") exited with $?"
	[ "$out" = "$expected" ] ||
		fail "$(basename "$exe") printed '$out', expected '$expected'"
	echo "$(basename "$exe"): $out"
}

# Shared: cc app.c $(pkg-config --cflags --libs casty)
# shellcheck disable=SC2046
"$cc" "${flags[@]}" -o "$tmp/app_shared" "$src/tests/install/app.c" \
	$(pkg-config --cflags --libs casty) ||
	fail "app.c does not build with pkg-config --cflags --libs casty"
readelf -d "$tmp/app_shared" | grep -q 'NEEDED.*libcasty\.so' ||
	fail "app_shared is not linked against libcasty.so"
run_app "$tmp/app_shared"

# Static: pkg-config --static adds the private dependencies (jemalloc,
# liburing, CK); -l:libcasty.a picks the archive over the .so.
static_libs=$(pkg-config --static --libs casty | sed 's/-lcasty\b/-l:libcasty.a/')
# shellcheck disable=SC2046,SC2086
"$cc" "${flags[@]}" -o "$tmp/app_static" "$src/tests/install/app.c" \
	$(pkg-config --cflags casty) $static_libs ||
	fail "app.c does not build with pkg-config --static --libs casty"
if readelf -d "$tmp/app_static" | grep -q 'NEEDED.*libcasty'; then
	fail "app_static still needs libcasty.so"
fi
run_app "$tmp/app_static"
echo "PASS: install, pkg-config, shared and static link"
