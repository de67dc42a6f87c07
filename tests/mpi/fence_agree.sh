#!/usr/bin/env bash
# fence_agree.sh: run test_fence_agree under dkvrun --survive and check the
# survivors' verdicts (issue 10: agreement in dkv_fence).
#
#   fence_agree.sh DKVRUN PROG NP VICTIM EXPECT [PROG ARGS...]
#
# VICTIM: the rank that must die (-1: none). EXPECT: the verdict of each
# fence, comma separated (OK, LOST, TIMEOUT, or ANY for OK or TIMEOUT); its
# length is the number of fences. Checks: the victim died and every other
# rank printed every fence and finished; per fence the survivors all
# printed the same verdict, the expected one; no fence took longer than
# DKV_TIMEOUT_MS plus two graces plus a second of slack. Prints
# "PASS fence_agree" or "FAIL fence_agree: why".
set -euo pipefail
dkvrun=$1 prog=$2 np=$3 victim=$4 expect=$5
shift 5
IFS=, read -ra want <<<"$expect"
n=${#want[@]}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$dkvrun" -n "$np" --survive --timeout 100 -- "$prog" "$n" "$@" >"$out" 2>&1 || true
cat "$out"
fail() {
    echo "FAIL fence_agree: $*"
    exit 1
}
tmo_ms=${DKV_TIMEOUT_MS:-60000}
limit=$(awk -v t="$tmo_ms" 'BEGIN { g = t / 2; if (g < 200) g = 200;
    if (g > 2000) g = 2000; print (t + 2 * g + 1000) / 1000 }')
survivors=0
for ((r = 0; r < np; r++)); do
    if [ "$r" = "$victim" ]; then
        if grep -q "^DONE rank $r\$" "$out"; then fail "rank $r did not die"; fi
        continue
    fi
    survivors=$((survivors + 1))
    grep -q "^DONE rank $r\$" "$out" || fail "rank $r did not finish"
done
for ((f = 1; f <= n; f++)); do
    lines=$(grep -E "^VERDICT rank [0-9]+ fence $f " "$out" |
        awk -v v="$victim" '$3 != v')
    [ "$(echo "$lines" | grep -c .)" = "$survivors" ] ||
        fail "fence $f: not every survivor reported it"
    verdicts=$(echo "$lines" | awk '{ print $6 }' | sort -u)
    [ "$(echo "$verdicts" | wc -l)" = 1 ] ||
        fail "fence $f: survivors disagree:" $verdicts
    slow=$(echo "$lines" | tr -d '()' | awk -v l="$limit" '$7 > l')
    [ -z "$slow" ] || fail "fence $f took longer than $limit s: $slow"
    w=${want[f - 1]}
    if [ "$w" = ANY ]; then
        [[ $verdicts = OK || $verdicts = TIMEOUT ]] ||
            fail "fence $f: $verdicts, expected OK or TIMEOUT"
    else
        [ "$verdicts" = "$w" ] || fail "fence $f: $verdicts, expected $w"
    fi
done
echo "PASS fence_agree"
