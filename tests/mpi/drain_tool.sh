#!/bin/bash
# drain_tool.sh DKVRUN PROG TOOL: dkv-drain on a drain made by a real job.
#   A 3-rank job (test_staging drain) drains 120 keys; then, with no job:
#   ls lists it complete with its counts, verify exits 0, cat writes a
#   key's value (its size checked) and exits 1 for a missing key; one byte
#   flipped in a record makes verify exit 1 naming the file and the record;
#   without the manifest ls says incomplete and verify exits 1.
set -u
dkvrun=$1
prog=$2
tool=$3
dir=$(mktemp -d /tmp/dkv_tool_test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(DKV_HOLDERS=all "$dkvrun" -n 3 -- "$prog" drain "$dir" 2>&1)
[ "$(grep -c '^PASS rank' <<<"$out")" = 3 ] || { echo "$out"; fail "drain job"; }

"$tool" --help | grep -q 'dkv-drain verify DIR' || fail "--help"
"$tool" bogus 2>/dev/null; [ $? = 2 ] || fail "usage error must exit 2"

echo "== ls"
ls_out=$("$tool" ls "$dir") || fail "ls exit $?"
echo "$ls_out"
grep -Eq '^[0-9a-f]{16} +- +[0-9T:Z-]+ +3 +120 +[0-9]+ complete \(loaded first\)$' \
    <<<"$ls_out" || fail "ls line"

echo "== verify"
"$tool" verify "$dir" || fail "verify of a good drain exit $?"

echo "== cat"
# ck/0/003 has size 33000, ck/1/003 size 200000 (test_staging size_of).
[ "$("$tool" cat "$dir" ck/0/003 | wc -c)" = 33000 ] || fail "cat size"
[ "$("$tool" cat "$dir" ck/1/003 | wc -c)" = 200000 ] || fail "cat size"
"$tool" cat "$dir" no/such/key >/dev/null 2>"$dir/err"; rc=$?
cat "$dir/err"
[ $rc = 1 ] && grep -q 'no/such/key' "$dir/err" || fail "cat of a missing key"

echo "== verify, one byte flipped"
f=$(ls "$dir"/dkv-*-h00001.dat)
# First record's key starts at 32 + 24 = 56: its 3rd byte.
printf '\xff' | dd of="$f" bs=1 seek=58 conv=notrunc status=none
"$tool" verify "$dir" 2>"$dir/err"; rc=$?
cat "$dir/err"
[ $rc = 1 ] || fail "verify of a damaged drain exit $rc"
grep -q "$(basename "$f"): record 0 at offset 32" "$dir/err" ||
    fail "verify names file and record"

echo "== no manifest"
rm "$dir"/dkv-*.manifest
ls_out=$("$tool" ls "$dir") || fail "ls exit $?"
echo "$ls_out"
grep -Eq ' 3 +0 +0 incomplete$' <<<"$ls_out" || fail "ls incomplete"
"$tool" verify "$dir" 2>/dev/null; [ $? = 1 ] || fail "verify without drain"
echo "PASS drain_tool"
