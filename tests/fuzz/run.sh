#!/usr/bin/env bash
# Build the wire decoder's libFuzzer target with clang (ASan + UBSan) and
# run it for a bounded time over the corpus in tests/fuzz/corpus/wire.
# Usage: run.sh [seconds]   (default 60). Prints libFuzzer's summary.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
    echo "fuzz: clang not found (install clang-14 libclang-rt-14-dev)" >&2
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
srcs=("$top/src/wire.c" "$top/src/crc32c.c" "$top/src/status.c"
    "$top/src/stage_wire.c" "$top/src/agree.c" "$top/src/agree_recv.c")
flags=(-std=c11 -D_DEFAULT_SOURCE -g -O1 -I"$top/include" -I"$top/src")
"$cc" "${flags[@]}" -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined "${srcs[@]}" "$here/fuzz_wire.c" \
    -o "$out/fuzz_wire"
corpus=$here/corpus/wire
if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
    "$cc" "${flags[@]}" "${srcs[@]}" "$here/make_corpus.c" -o "$out/make_corpus"
    "$out/make_corpus" "$corpus"
fi
# New inputs go to a scratch dir so a CI run leaves the tree clean.
mkdir "$out/new"
"$out/fuzz_wire" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/new" "$corpus" 2>&1 | tail -n 25
echo "fuzz: no crash in ${secs} s"
