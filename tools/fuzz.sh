#!/usr/bin/env bash
# tools/fuzz.sh: builds the libFuzzer targets of tests/fuzz/ with clang
# (AddressSanitizer and UBSan, the system allocator so ASan sees every
# block) and runs each for a short while from its seed corpus.
#
#   tools/fuzz.sh [SECONDS]     seconds per target (default 20)
#
# A crash, leak or sanitizer report fails the run and leaves the input in
# build-fuzz/. Needs clang with libFuzzer (tools/setup.sh test installs it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-20}
out=build-fuzz
mkdir -p "$out"

bash tools/setup.sh test

flags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DCASTY_SYSTEM_ALLOC
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-I. -Iinclude)

# target: its sources beyond the harness
declare -A sources=(
	[toml]="runtime/toml.c runtime/toml_scalar.c runtime/alloc.c"
	[config]="runtime/config.c runtime/toml.c runtime/toml_scalar.c runtime/alloc.c"
	[journal_record]="persistence/record.c persistence/crc32c.c"
	[gossip]="cluster/gossip_codec.c cluster/member_table.c cluster/member_leader.c cluster/member_events.c cluster/vclock.c cluster/address.c persistence/msgpuck.c"
	[frame]="cluster/frame.c cluster/handshake.c runtime/alloc.c"
	# Decodes refs against a real system: the whole library.
	[remote_message]="$(echo runtime/*.c persistence/*.c cluster/*.c)"
)
# target: libraries it links beyond the sanitizers
declare -A libs=(
	[frame]="-lcrypto"
	[remote_message]="-lcrypto -luring -lpthread"
)

status=0
for target in "${!sources[@]}"; do
	bin=$out/fuzz_$target
	# shellcheck disable=SC2086 # the list is words on purpose
	clang "${flags[@]}" "tests/fuzz/fuzz_$target.c" ${sources[$target]} \
		${libs[$target]:-} -o "$bin"
	corpus=$out/corpus_$target
	mkdir -p "$corpus"
	cp tests/fuzz/corpus/"$target"/* "$corpus"/
	echo "fuzz: $target for ${seconds}s"
	if ! (cd "$out" && "./fuzz_$target" -max_total_time="$seconds" \
		-max_len=4096 -print_final_stats=1 "corpus_$target" \
		>"fuzz_$target.log" 2>&1); then
		echo "fuzz: $target FAILED (see $out/fuzz_$target.log):" >&2
		tail -30 "$out/fuzz_$target.log" >&2
		status=1
	else
		grep -E 'stat::number_of_executed_units' "$out/fuzz_$target.log" || true
	fi
done
exit $status
