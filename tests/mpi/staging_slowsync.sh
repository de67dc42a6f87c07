#!/bin/bash
# staging_slowsync.sh DKVRUN PROG SHIM: a drain whose fsyncs each take
# longer than DKV_TIMEOUT_MS (SHIM, an LD_PRELOAD object) completes; a new
# job loads it bit for bit.
set -u
dkvrun=$1
prog=$2
shim=$3
dir=$(mktemp -d /tmp/dkv_slowsync_test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(LD_PRELOAD="$shim" SHIM_FSYNC_MS=2500 DKV_TIMEOUT_MS=1500 \
    DKV_HOLDERS=all "$dkvrun" -n 3 -- "$prog" slowsync "$dir" 1 2>&1)
echo "$out"
[ "$(grep -c '^PASS rank' <<<"$out")" = 3 ] || fail "slow drain"
ls -l "$dir"
out=$("$dkvrun" -n 2 -- "$prog" loadv "$dir" 1 2>&1)
echo "$out"
[ "$(grep -c '^PASS rank' <<<"$out")" = 2 ] || fail "load"
echo "PASS staging_slowsync"
