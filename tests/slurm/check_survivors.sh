#!/usr/bin/env bash
# check_survivors.sh srun|mpirun NP SURVIVORS PROG ARGS...: a job on the
# two emulated nodes in which some ranks die on purpose. SURVIVORS lists
# the ranks that must live (e.g. 023); each must print "PASS rank N", and
# nobody "FAIL rank" (nor a holder "still pinned or reserved"). The job's
# exit code does not count (a killed task makes srun's nonzero; see
# job_bg.sh for mpirun's). DKV_* settings come from the environment.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/job_bg.sh"
how=$1 np=$2 survivors=$3
shift 3
out=$(mktemp /tmp/dkv-survivors.XXXXXX)
trap 'rm -f "$out"' EXIT
passes() { grep -cE "PASS rank [$survivors]\b" "$out"; }
finished() { [ "$(passes)" -ge "${#survivors}" ]; }

job_start "$out" --survive "$how" "$np" 2 60 -- "$@"
job_finish finished 5
cat "$out"
echo "check_survivors: job exit $JOB_RC, $(passes) of ${#survivors} survivors passed"
if [ "$(passes)" = "${#survivors}" ] &&
    ! grep -qE 'FAIL rank|still pinned or reserved' "$out"; then
    echo "check_survivors: $how passed"
    exit 0
fi
echo "check_survivors: $how FAILED"
exit 1
