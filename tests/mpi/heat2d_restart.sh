#!/usr/bin/env bash
# heat2d_restart.sh: examples/heat2d must give the same grid, bit for bit,
# however it is split across ranks and however often it is interrupted.
#
#   heat2d_restart.sh <dkvrun> <heat2d> plain   <np-ref> <np-run>
#   heat2d_restart.sh <dkvrun> <heat2d> dram    <np-ref> <np-run>
#   heat2d_restart.sh <dkvrun> <heat2d> restart <np-ref> <np-killed> \
#                     <np-restart>
#
# plain:   a 100-step run on <np-ref> ranks without checkpoints writes A; a
#          100-step run on <np-run> ranks with a checkpoint every 10 steps
#          writes B; cmp A B.
# dram:    A as above; a run with a checkpoint every 10 steps wipes its grid
#          after step 65 and resumes from the step-60 checkpoint still in
#          DRAM (same job), writing B; cmp A B.
# restart: A as above; then a job on <np-killed> ranks checkpoints every 10
#          steps, drains every 2 checkpoints and dies by SIGKILL after step
#          60 (its launcher must fail); a new job on <np-restart> ranks loads
#          the drain, resumes (from step 40 or 60) and runs to step 100,
#          writing B; cmp A B.
#
# HEAT2D_REF=<program>: the reference run A uses that program instead (the
# C heat2d when <heat2d> is heat2d_f: the grids must still be equal).
#
# Holders: every rank (DKV_HOLDERS=all), so a killed job loses all its DRAM
# and a different rank count means a different holder count. Everything is
# written to a fresh temporary directory, removed on exit.
set -euo pipefail

case "${1:-}" in -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -ge 5 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dkvrun=$1
heat2d=$2
mode=$3
np_ref=$4
shift 4

grid=(--nx 256 --ny 256 --steps 100)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heat2d.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export DKV_HOLDERS=${DKV_HOLDERS:-all}

fail() {
    echo "heat2d test FAILED: $*"
    exit 1
}

# run <log> <np> args...: one job under dkvrun, its output also in <log>.
# prog=<program> run ...: another program than <heat2d>.
run() {
    local log=$1 np=$2
    shift 2
    "$dkvrun" -n "$np" --timeout 30 -- "${prog:-$heat2d}" "${grid[@]}" "$@" \
        2>&1 | tee "$tmp/$log"
}

same() {
    cmp "$tmp/A" "$tmp/B" || fail "the grids differ"
    [ "$(stat -c %s "$tmp/A")" = $((256 * 256 * 8)) ] ||
        fail "A has $(stat -c %s "$tmp/A") bytes"
}

echo "== reference: $np_ref ranks, no checkpoints"
prog=${HEAT2D_REF:-$heat2d} run ref.log "$np_ref" --out "$tmp/A" ||
    fail "reference run"

case "$mode" in
plain)
    np_run=$1
    echo "== $np_run ranks, a checkpoint every 10 steps"
    run b.log "$np_run" --ckpt-every 10 --out "$tmp/B" || fail "second run"
    grep -q "step 100: checkpoint" "$tmp/b.log" || fail "no checkpoints"
    same
    ;;
restart)
    np_kill=$1
    np_restart=$2
    ck=(--ckpt-every 10 --drain-every 2 --drain-dir "$tmp/drain")
    mkdir "$tmp/drain"
    echo "== $np_kill ranks, drains, killed after step 60"
    if run killed.log "$np_kill" "${ck[@]}" --kill-after 60; then
        fail "the killed job's launcher exited 0"
    fi
    grep -q "step 60: --kill-after" "$tmp/killed.log" ||
        fail "the killed job did not reach step 60"
    ls -l "$tmp/drain"
    echo "== $np_restart ranks, --restart from the drain"
    run restart.log "$np_restart" "${ck[@]}" --restart --out "$tmp/B" ||
        fail "restart run"
    grep -Eq "restart from step (40|60):" "$tmp/restart.log" ||
        fail "the restart did not resume from step 40 or 60"
    same
    ;;
dram)
    np_run=$1
    echo "== $np_run ranks, grid lost after step 65, resumed from DRAM"
    run dram.log "$np_run" --ckpt-every 10 --lose-at 65 --out "$tmp/B" ||
        fail "the run that loses its grid"
    grep -q "restart from step 60:" "$tmp/dram.log" ||
        fail "did not resume from the step-60 checkpoint in DRAM"
    same
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
echo "heat2d test passed: $mode, identical $((256 * 256 * 8))-byte grids"
