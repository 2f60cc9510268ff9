#!/usr/bin/env bash
# tools/setup.sh: installs the Debian 12 packages casty needs, only those
# that are missing.
#
#   tools/setup.sh [test|bench|all]
#     test   build and test: compiler, meson, ninja, CK, jemalloc, liburing,
#            msgpuck (events, the journal inspector), OpenSSL's
#            libcrypto (the cluster handshake),
#            Criterion, clang (libFuzzer targets), iproute2 and
#            nftables (the cluster tests in network namespaces and
#            the fault-injection suite)                        (default)
#     bench  test's set plus the peers of bench/compare.sh: CAF, Erlang/OTP,
#            g++, make, GNU time, gnuplot
#     all    same as bench
#
# Runs `apt-get update` once, and only when something is missing. Uses sudo
# when not root. Prints nothing when everything is already installed.
set -euo pipefail

TEST_PACKAGES=(build-essential pkg-config meson ninja-build libck-dev
	libjemalloc-dev liburing-dev libcriterion-dev clang libclang-rt-14-dev
	libmsgpuck-dev libssl-dev iproute2 nftables)
BENCH_PACKAGES=(libcaf-dev erlang-base erlang-nox g++ make time gnuplot-nox
	libsqlite3-dev)

set_name=${1:-test}
case "$set_name" in
test) packages=("${TEST_PACKAGES[@]}") ;;
bench | all) packages=("${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"
	exit 0
	;;
*)
	echo "setup.sh: unknown set '$set_name' (test, bench or all)" >&2
	exit 2
	;;
esac

# A package counts as present only when dpkg says "install ok installed"
# (not merely known, e.g. removed with its config files left behind).
missing=()
for p in "${packages[@]}"; do
	if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi

echo "setup.sh: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q "${missing[@]}"
