#!/bin/sh
# Build the libFuzzer target (test/fuzz/frame_fuzz.c, with ASan and UBSan) and
# run it for $1 seconds (default 600) from the seeds in test/fuzz/seeds.
# Prints libFuzzer's final stats; exits non-zero on a crash, a leak or a
# sanitizer report (the failing input is printed in Base64). Needs clang and
# libclang-rt-14-dev (Debian) or another clang with its fuzzer runtime.
set -eu
secs=${1:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vethd-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$work/frame_fuzz" "$root/test/fuzz/frame_fuzz.c" "$root/native/frame.c" "$root/native/txguard.c" "$root/native/linkmon.c" "$root/native/vnictab.c"
mkdir "$work/corpus"
cp "$root"/test/fuzz/seeds/* "$work/corpus/"
cd "$work"
./frame_fuzz -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/" corpus
