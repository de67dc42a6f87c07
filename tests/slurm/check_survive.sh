#!/usr/bin/env bash
# check_survive.sh srun|mpirun PROG [EXPECT]: 4 ranks on the two emulated
# nodes (ranks 0-1 on node1, 2-3 on node2), every rank a holder, one copy of
# every key. Once every rank is in its loop (DIR/ready.*), this script
# SIGKILLs rank 3 from outside, 2 s later, and tells the survivors to stop
# 12 s after that (DIR/stop); PROG is test_survive (see its header).
#
# EXPECT pass (default): the three survivors each print "ran N s after the
# death" (N >= 10) and PASS, and nothing prints FAIL. EXPECT die: the job
# is expected to end with the death instead (an MPI program: its launcher
# ends the step); then only the time from the kill to the job's end is
# reported.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/job_bg.sh"
how=$1 prog=$2 expect=${3:-pass}
dir=$(mktemp -d /tmp/dkv-survive.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 777 "$dir"
out=$dir/job.out

DKV_HOLDERS=all DKV_TIMEOUT_MS=10000 DKV_FINALIZE_TIMEOUT_MS=10000 \
    job_start "$out" --survive "$how" 4 2 90 -- "$prog" "$dir"

ready() {
    local r

    for r in 0 1 2 3; do
        [ -e "$dir/ready.$r" ] || return 1
    done
}

for ((i = 0; i < 900; i++)); do
    ready && break
    kill -0 "$JOB_PID" 2>/dev/null || break
    sleep 0.1
done
if ! ready; then
    cat "$out"
    echo "check_survive: $how FAILED: the ranks never all started"
    kill -TERM "$JOB_PID"
    wait "$JOB_PID"
    exit 1
fi
sleep 2
victim=$(cat "$dir/pid.3")
date +%s.%N >"$dir/death.tmp" && mv "$dir/death.tmp" "$dir/death"
kill -KILL "$victim"
killed=$(date +%s.%N)
echo "check_survive: killed rank 3 (pid $victim)"
for ((i = 0; i < 120; i++)); do
    kill -0 "$JOB_PID" 2>/dev/null || break
    sleep 0.1
done
touch "$dir/stop"
finished() { [ "$(grep -c 'PASS rank' "$out")" -ge 3 ]; }
job_finish finished 5
ended=$(date +%s.%N)
cat "$out"
echo "check_survive: job exit $JOB_RC, $(awk "BEGIN { printf \"%.1f\", \
$ended - $killed }") s after the kill"

passes=$(grep -cE '^(.*: )?PASS rank [012]' "$out")
if [ "$expect" = die ]; then
    if [ "$passes" = 0 ]; then
        echo "check_survive: $how passed (the job ended with the death)"
        exit 0
    fi
    echo "check_survive: $how FAILED: survivors finished ($passes PASS)"
    exit 1
fi
if [ "$passes" = 3 ] && ! grep -q 'FAIL rank' "$out" &&
    [ "$(grep -c 'ran .* s after the death' "$out")" = 3 ]; then
    echo "check_survive: $how passed"
    exit 0
fi
echo "check_survive: $how FAILED"
exit 1
