#!/usr/bin/env bash
# check_help.sh: every program and script a user runs answers --help with
# its usage on stdout and exit status 0, without a launcher and at once.
# Usage: check_help.sh <build-dir> <src-dir> [python3]
set -uo pipefail
case "${1:-}" in -h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
build=$1
src=$2
python=${3:-}
progs=("$build/examples/heat2d" "$build/examples/writer_reader"
    "$src/launch/dkvrun" "$src/scripts/demo.sh" "$src/scripts/test.sh"
    "$src/scripts/sanitize.sh" "$src/slurm/local-cluster"
    "$src/tests/perf/run" "$src/tests/perf/run_ckpt"
    "$src/tests/perf/run_errcost" "$src/tests/fuzz/run.sh")
[ ! -e "$build/examples/heat2d_f" ] || progs+=("$build/examples/heat2d_f")
[ ! -e "$build/dkv-drain" ] || progs+=("$build/dkv-drain")
bad=0
check() {
    local out rc
    out=$(timeout 20 "$@" --help 2>/dev/null)
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$out" ]; then
        echo "FAILED: $* --help: exit $rc, $(printf %s "$out" | wc -l) lines"
        bad=1
    else
        echo "ok: $* --help ($(printf '%s\n' "$out" | wc -l) lines)"
    fi
}
for p in "${progs[@]}"; do
    check "$p"
done
if [ -n "$python" ]; then
    PYTHONPATH=$build/python check "$python" "$src/examples/writer_reader.py"
fi
[ $bad = 0 ] && echo "help check passed"
