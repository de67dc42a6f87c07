#!/bin/bash
# contract_staging.sh DKVRUN PROG CASE: drain/load checks that need several
# jobs in a row (PROG is test_contract_staging). Prints
# "PASS contract_staging CASE" at the end, or "FAIL: ..." at the first
# failure.
#   errors  bad drain/load directories in one job (then a good drain).
#   unwritable  drain into a directory nobody may write (chattr +i).
#   empty   an empty store drains; the drain loads as empty in a new job.
#   main    3 ranks / 3 holders / 2 copies run the staging sequence into
#           A, B (twice) and C; the drain is one file per holder plus a
#           manifest, nothing temporary left; A, B, C then load into jobs
#           of 2 ranks/1 holder, 4 ranks/4 holders/3 copies, 1 rank; A
#           into 4 holders/2 copies, one of which then dies.
#   dedicated  3 ranks, the last a dedicated holder: drain and load.
#   damage  a good drain (4 ranks, 3 holders) is copied and damaged in one way per
#           copy; each load (2 ranks, 2 holders) must fail on every rank
#           with the right status, name the file, and store nothing.
set -u
dkvrun=$1
prog=$2
case=$3
dir=$(mktemp -d /tmp/dkv_contract_staging.XXXXXX)
trap 'chattr -i "$dir/ro" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# job NP ARGS...: run; every rank must print PASS and the job exit 0.
job() {
    local np=$1 out rc n
    shift
    echo "== job: np $np holders ${DKV_HOLDERS:-default} replicas ${DKV_REPLICAS:-default}: $*"
    out=$(timeout 90 "$dkvrun" -n "$np" --timeout 80 -- "$prog" "$@" 2>&1)
    rc=$?
    echo "$out"
    n=$(grep -c '^PASS rank' <<<"$out")
    [ "$rc" = 0 ] || fail "job exited $rc: $*"
    [ "$n" = "$np" ] || fail "job: $n of $np ranks passed: $*"
    last_out=$out
}

# survive_job NP NSURVIVORS ARGS...: a job in which ranks die; each
# survivor must print PASS (mpirun --survive exits 0 whatever happens).
survive_job() {
    local np=$1 ns=$2 out n
    shift 2
    echo "== job (ranks die): np $np holders ${DKV_HOLDERS:-default} replicas ${DKV_REPLICAS:-default}: $*"
    out=$(DKV_FINALIZE_TIMEOUT_MS=5000 timeout 90 "$dkvrun" -n "$np" \
        --timeout 80 --survive -- "$prog" "$@" 2>&1)
    echo "$out"
    grep -q '^FAIL rank' <<<"$out" && fail "survive_job: $*"
    n=$(grep -c '^PASS rank' <<<"$out")
    [ "$n" = "$ns" ] || fail "survive_job: $n of $ns survivors passed: $*"
}

# The manifest is the file that names every other file of the drain.
manifest_of() {
    local d=$1 f g all
    for f in "$d"/*; do
        all=1
        for g in "$d"/*; do
            [ "$g" = "$f" ] && continue
            grep -aqF "$(basename "$g")" "$f" || { all=0; break; }
        done
        [ "$all" = 1 ] && { basename "$f"; return 0; }
    done
    return 1
}

# flip FILE OFFSET: xor one byte with 0x5a in place.
flip() {
    local f=$1 off=$2 b
    b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' \n')
    [ -n "$b" ] || fail "flip: no byte $off in $f"
    printf "$(printf '\\%03o' $((b ^ 0x5a)))" |
        dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

case "$case" in
errors)
    mkdir "$dir/empty" "$dir/ok"
    echo data >"$dir/afile"
    DKV_HOLDERS=all DKV_REPLICAS=2 job 3 drain_errors "$dir"
    [ -e "$dir/missing" ] && fail "a drain into a missing dir created it"
    ;;
unwritable)
    # An immutable directory: not writable, not even by root.
    mkdir "$dir/ro"
    if [ "$(id -u)" = 0 ] && chattr +i "$dir/ro" 2>/dev/null; then
        DKV_HOLDERS=all DKV_REPLICAS=2 job 3 drain_unwritable "$dir/ro"
        [ -z "$(ls -A "$dir/ro")" ] || fail "files appeared in $dir/ro"
    else
        chmod 0555 "$dir/ro"
        [ "$(id -u)" = 0 ] && echo "(chattr unavailable: mode 0555 only)"
        [ "$(id -u)" = 0 ] || DKV_HOLDERS=all job 3 drain_unwritable "$dir/ro"
    fi
    ;;
empty)
    mkdir "$dir/e0"
    DKV_HOLDERS=all DKV_REPLICAS=2 job 3 drain_empty "$dir/e0"
    ls -la "$dir/e0"
    manifest_of "$dir/e0" >/dev/null || fail "no manifest in the empty drain"
    DKV_HOLDERS=ranks:1 job 2 load "$dir/e0" -1
    ;;
main)
    mkdir "$dir/A" "$dir/B" "$dir/C" "$dir/P"
    DKV_HOLDERS=all DKV_REPLICAS=2 job 3 drain "$dir"
    for d in A B C; do
        echo "-- $d:"
        ls -la "$dir/$d"
        n=$(find "$dir/$d" -mindepth 1 | wc -l)
        [ "$n" = 4 ] || fail "$d: $n entries, expected 3 holder files + a manifest"
        [ "$(find "$dir/$d" -mindepth 1 -type f | wc -l)" = 4 ] ||
            fail "$d: not all regular files"
        m=$(manifest_of "$dir/$d") || fail "$d: no file names all the others"
        echo "$d: manifest $m"
    done
    m=$(manifest_of "$dir/A")
    total=$(sed -n 's/^DRAINSTAT A bytes_total=\([0-9]*\).*/\1/p' <<<"$last_out")
    [ -n "$total" ] || fail "no DRAINSTAT line"
    sum=0
    for f in "$dir/A"/*; do
        [ "$(basename "$f")" = "$m" ] && continue
        sum=$((sum + $(stat -c %s "$f")))
    done
    echo "A: data files $sum B, progress said $total record bytes"
    [ "$sum" -ge "$total" ] || fail "A: data files ($sum B) smaller than bytes_total ($total)"
    # 2 copies, but each key is written once: not twice the record bytes.
    [ "$sum" -le $((total * 3 / 2 + 65536)) ] ||
        fail "A: data files ($sum B) much larger than bytes_total ($total): keys written twice?"
    DKV_HOLDERS=ranks:1 job 2 load "$dir/A" 0
    DKV_HOLDERS=all DKV_REPLICAS=3 job 4 load "$dir/B" 3
    job 1 load "$dir/C" 2
    # Loaded into a job with 2 copies, a holder then dies: nothing lost.
    DKV_HOLDERS=all DKV_REPLICAS=2 survive_job 4 3 load_kill "$dir/A" 0
    ;;
dedicated)
    mkdir "$dir/D"
    DKV_HOLDERS=ranks:2 DKV_DEDICATED=1 job 3 dedicated "$dir/D"
    manifest_of "$dir/D" >/dev/null || fail "no manifest in D"
    ;;
damage)
    mkdir "$dir/good" "$dir/good1"
    # Rank 0 is not a holder: it writes and drains all the same.
    DKV_HOLDERS=ranks:1-3 DKV_REPLICAS=2 job 4 stage "$dir/good" "$dir/good1"
    ls -la "$dir/good" "$dir/good1"
    m=$(manifest_of "$dir/good") || fail "no manifest"
    data=$(cd "$dir/good" && ls | grep -vxF "$m" | sort)
    [ "$(wc -l <<<"$data")" = 3 ] || fail "expected 3 data files: $data"
    first=$(head -1 <<<"$data")
    last=$(tail -1 <<<"$data")
    big=$(cd "$dir/good" && ls -S $data | head -1)
    echo "manifest $m, data files: $(echo $data), biggest $big"

    # damaged NAME STATUSES NAMES EDIT [recover]: copy, EDIT inside, load.
    damaged() {
        local name=$1 st=$2 names=$3 edit=$4 extra=()
        [ "${5:-}" = recover ] && extra=("$dir/good")
        cp -r "$dir/good" "$dir/$name"
        (cd "$dir/$name" && eval "$edit") || fail "could not damage $name"
        echo "== damage $name: $edit"
        DKV_HOLDERS=all job 2 badload "$dir/$name" "$st" "$names" "${extra[@]}"
    }
    sz() { stat -c %s "$1"; }
    damaged trunc_last CORRUPT "$last" "truncate -s -100 $last" recover
    damaged trunc_1 CORRUPT "$big" "truncate -s -1 $big"
    damaged trunc_half CORRUPT "$big" "truncate -s \$((\$(stat -c %s $big) / 2)) $big"
    damaged trunc_zero CORRUPT "$first" "truncate -s 0 $first"
    damaged flip_mid CORRUPT "$big" "flip $big \$((\$(stat -c %s $big) / 2))" recover
    damaged flip_last CORRUPT "$last" "flip $last \$((\$(stat -c %s $last) - 1))"
    damaged flip_first CORRUPT "$last" "flip $last 0"
    damaged flip_q1 CORRUPT "$first" "flip $first \$((\$(stat -c %s $first) / 4))"
    damaged flip_q3 CORRUPT "$first" "flip $first \$((\$(stat -c %s $first) * 3 / 4))"
    damaged append CORRUPT "$first" "printf x >>$first"
    damaged rm_data NOT_FOUND "$last" "rm $last"
    damaged rm_manifest NOT_FOUND "$m|$dir/rm_manifest" "rm $m" recover
    damaged manifest_trunc CORRUPT "$m" "truncate -s \$((\$(stat -c %s $m) / 2)) $m"
    damaged manifest_empty CORRUPT "$m" "truncate -s 0 $m"
    # A size in the manifest edited: use the text if the manifest has it.
    bsz=$(sz "$dir/good/$big")
    if grep -aqw "$bsz" "$dir/good/$m"; then
        damaged manifest_size CORRUPT "$m|$big" \
            "sed -i 's/\\b$bsz\\b/$((bsz + 1))/' $m"
    else
        echo "(manifest does not hold $bsz as text: flipping its middle)"
        damaged manifest_size CORRUPT "$m|$big" "flip $m \$((\$(stat -c %s $m) / 2))"
    fi
    damaged manifest_flip "CORRUPT|NOT_FOUND" "$m|$dir/manifest_flip" \
        "flip $m \$((\$(stat -c %s $m) / 3))"
    # A drain whose data files come from a later drain, and the reverse:
    # never taken for a complete drain.
    mkdir "$dir/mix_new_data" "$dir/mix_new_manifest"
    m1=$(manifest_of "$dir/good1") || fail "good1: no manifest"
    cp "$dir/good1"/* "$dir/mix_new_data/" && rm "$dir/mix_new_data/$m1"
    cp "$dir/good/$m" "$dir/mix_new_data/"
    echo "== damage mix_new_data: $(ls "$dir/mix_new_data")"
    DKV_HOLDERS=all job 2 badload "$dir/mix_new_data" "CORRUPT|NOT_FOUND" \
        "$m|$m1|$dir/mix_new_data|$(tr '\n' '|' <<<"$data")"
    cp "$dir/good"/* "$dir/mix_new_manifest/" && rm "$dir/mix_new_manifest/$m"
    cp "$dir/good1/$m1" "$dir/mix_new_manifest/"
    echo "== damage mix_new_manifest: $(ls "$dir/mix_new_manifest")"
    DKV_HOLDERS=all job 2 badload "$dir/mix_new_manifest" "CORRUPT|NOT_FOUND" \
        "$m|$m1|$dir/mix_new_manifest|$(tr '\n' '|' <<<"$data")"
    # A drain that does not fit into the holders' memory.
    DKV_HOLDERS=all DKV_HOLD_BYTES=1m job 2 load_status "$dir/good" NO_SPACE
    # The good drains are still good.
    DKV_HOLDERS=all job 2 load "$dir/good" 0
    DKV_HOLDERS=all job 2 load "$dir/good1" 1
    ;;
*)
    fail "unknown case $case"
    ;;
esac
echo "PASS contract_staging $case"
