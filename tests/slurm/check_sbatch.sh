#!/usr/bin/env bash
# check_sbatch.sh: submit a batch script of slurm/ to the local cluster as
# a user would, wait for the job, and check how it ended and what it wrote.
#
#   check_sbatch.sh BUILD_DIR [SCRIPT REGEX]
#
# SCRIPT defaults to slurm/writer_reader.sbatch and REGEX to the line it
# prints when all data is verified. Passes when Slurm records the job
# COMPLETED with exit code 0:0 on node1 and node2 and the output file has a
# line matching REGEX. We poll the job
# every 0.5 s (sbatch --wait polls every 10 s).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
export DKV_BUILD=$1
script=${2:-slurm/writer_reader.sbatch}
expect=${3:-all data verified}
env_text=$("$TOP/slurm/local-cluster" env) || {
    echo "check_sbatch: the local cluster is not up" >&2
    exit 1
}
eval "$env_text"
unset SLURM_JOB_ID
out=$(mktemp /tmp/dkv-sbatch.XXXXXX)
trap 'rm -f "$out"' EXIT

cd "$TOP"
echo "check_sbatch: sbatch -o $out $script"
jobid=$(timeout 30 sbatch --parsable -o "$out" "$script")
trap 'scancel "$jobid" 2>/dev/null; rm -f "$out"' EXIT
end=$((SECONDS + 300))
while :; do
    info=$(timeout 10 scontrol show job "$jobid" 2>&1 || true)
    state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" || true)
    case "$state" in
    JobState=PENDING | JobState=RUNNING | JobState=COMPLETING | "") ;;
    *) break ;;
    esac
    [ "$SECONDS" -lt "$end" ] || { echo "check_sbatch: job $jobid still $state"; break; }
    sleep 0.5
done
cat "$out"
exitc=$(grep -o ' ExitCode=[0-9:]*' <<<"$info" || true)
nodes=$(grep -o ' NodeList=[^ ]*' <<<"$info" || true)
echo "check_sbatch: job $jobid: $state,$exitc,$nodes"
if [ "$state" != JobState=COMPLETED ] ||
    [ "$exitc" != " ExitCode=0:0" ] || [ "$nodes" != " NodeList=node[1-2]" ] ||
    ! grep -qE -- "$expect" "$out"; then
    echo "check_sbatch: FAILED"
    exit 1
fi
echo "check_sbatch: passed"
