#!/bin/bash
# staging_drain.sh DKVRUN PROG: drain in one job, load in others.
#   1. 3 ranks, 3 holders, 2 copies: stage, drain while writing on, load
#      back in the same job (test_staging drain).
#   2. a new job of 2 ranks and 1 holder loads the drain and checks it.
#   3. damaged copies of the drain - a data file truncated, one byte of a
#      value flipped, a data file missing, the manifest missing or damaged -
#      are refused on every rank with the right status, the file named, and
#      nothing stored.
set -u
dkvrun=$1
prog=$2
dir=$(mktemp -d /tmp/dkv_drain_test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# job NP ARGS...: run and require a PASS line from every rank.
job() {
    local np=$1 out
    shift
    out=$("$dkvrun" -n "$np" -- "$prog" "$@" 2>&1)
    echo "$out"
    [ "$(grep -c '^PASS rank' <<<"$out")" = "$np" ] || fail "job: $*"
}

# damaged NAME STATUS EDIT...: copy the good drain, apply EDIT in it, load.
damaged() {
    local name=$1 status=$2
    shift 2
    cp -r "$dir/good" "$dir/$name"
    (cd "$dir/$name" && eval "$@") || fail "could not damage $name"
    echo "== $name: $*"
    job 2 bad "$dir/$name" "$status"
}

mkdir "$dir/good"
DKV_HOLDERS=all DKV_REPLICAS=2 job 3 drain "$dir/good"
ls -l "$dir/good"
[ "$(ls "$dir/good" | grep -c '\.dat$')" = 3 ] || fail "expected 3 data files"
ls "$dir/good" | grep -q tmp && fail "temporary files left"
job 2 load "$dir/good"
DKV_HOLDERS=all job 3 load "$dir/good"

first=$(ls "$dir/good" | grep '\.dat$' | head -1)
big=$(ls -S "$dir/good" | grep '\.dat$' | head -1)
damaged truncated CORRUPT "truncate -s -100 $big"
damaged flipped CORRUPT "printf '\\x55' | dd of=$big bs=1 seek=\$((\$(stat -c %s $big) / 2)) conv=notrunc status=none"
damaged missing NOT_FOUND "rm $first"
damaged nomanifest NOT_FOUND "rm dkv-*.manifest"
damaged badmanifest CORRUPT "sed -i 's/files/fi1es/' dkv-*.manifest"
echo "== a load that does not fit: NO_SPACE, earlier keys kept"
DKV_HOLD_BYTES=1m job 2 nospace "$dir/good"
echo "== the drain directory removed while draining: finalize reports it"
mkdir "$dir/lost"
DKV_HOLDERS=all job 2 lostdir "$dir/lost"
echo "== a dedicated holder lost, then a drain of what survives"
mkdir "$dir/dead"
out=$(DKV_HOLDERS=ranks:2,3,4 DKV_DEDICATED=1 DKV_REPLICAS=2 \
    DKV_TIMEOUT_MS=5000 DKV_FINALIZE_TIMEOUT_MS=3000 \
    "$dkvrun" -n 5 --survive -- "$prog" deadholder "$dir/dead" 2>&1)
echo "$out"
[ "$(grep -c '^PASS rank [01]' <<<"$out")" = 2 ] || fail "deadholder"
[ "$(ls "$dir/dead" | grep -c '\.dat$')" = 2 ] || fail "expected 2 files"
DKV_HOLDERS=all DKV_REPLICAS=2 job 3 load2 "$dir/dead"
echo "PASS staging_drain"
