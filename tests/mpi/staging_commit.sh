#!/bin/bash
# staging_commit.sh DKVRUN PROG: the holders commit a drain on their own.
#   Each job stages a version, starts a drain, never polls, and SIGKILLs
#   every rank once the manifest names the new drain; a new job of another
#   rank count then loads that version (not the previous one), bit for bit.
set -u
dkvrun=$1
prog=$2
dir=$(mktemp -d /tmp/dkv_commit_test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# killed NP V: a job that drains version V without polling and dies.
killed() {
    local out
    out=$(DKV_HOLDERS=all "$dkvrun" -n "$1" -- "$prog" nopoll "$dir" "$2" 2>&1)
    echo "$out"
    grep -q '^COMMITTED rank' <<<"$out" || fail "version $2 not committed"
    grep -q '^FAIL' <<<"$out" && fail "version $2"
    ls -l "$dir"
    ls "$dir" | grep -q tmp && fail "temporary files left"
}

# loaded NP V: a new job loads version V.
loaded() {
    local out
    out=$("$dkvrun" -n "$1" -- "$prog" loadv "$dir" "$2" 2>&1)
    echo "$out"
    [ "$(grep -c '^PASS rank' <<<"$out")" = "$1" ] || fail "load v$2 np $1"
}

killed 3 1
loaded 2 1
killed 3 2
loaded 4 2
echo "PASS staging_commit"
