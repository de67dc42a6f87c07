#!/usr/bin/env bash
# run_job.sh: run one dramkv job on two emulated nodes of the local cluster
# (slurm/local-cluster up --netns), through launch/dkvrun.
#
#   run_job.sh [--expect REGEX] [--survive] srun|mpirun NP NODES TIMEOUT --
#              prog args...
#
# srun:   salloc -N NODES -n NP, and inside it dkvrun (which then runs
#         srun --mpi=pmix -N NODES -n NP). Slurm's default block layout puts
#         ranks 0..NP/NODES-1 on node1, the next ones on node2.
# mpirun: dkvrun with the cluster's hostfile (2 slots per node, so the same
#         layout) and rsh agent, i.e. mpirun across the emulated hosts; with
#         NP == NODES one rank per node (--map-by node).
# The whole job runs under `timeout`: TERM, so that salloc gives the
# allocation back, then KILL. With --expect the job must also print a line
# matching REGEX (grep -E); the exit code counts either way. --survive: the
# job outlives dying ranks (dkvrun --survive).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
expect=""
survive=()
if [ "${1:-}" = --expect ]; then
    expect=$2
    shift 2
fi
if [ "${1:-}" = --survive ]; then
    survive=(--survive)
    shift
fi
if [ $# -lt 6 ] || [ "$5" != -- ]; then
    echo "usage: $0 srun|mpirun NP NODES TIMEOUT -- prog..." >&2
    exit 2
fi
how=$1 np=$2 nodes=$3 secs=$4
shift 5

env_text=$("$TOP/slurm/local-cluster" env) || {
    echo "run_job: the local cluster is not up" >&2
    exit 1
}
eval "$env_text"
[ -n "${DKV_HOSTFILE:-}" ] || {
    echo "run_job: the local cluster has no --netns nodes" >&2
    exit 1
}
unset SLURM_JOB_ID

case "$how" in
srun)
    cmd=(salloc --quiet -N "$nodes" -n "$np" --time "$(((secs + 59) / 60 + 1))"
        "$TOP/launch/dkvrun" -n "$np" -N "$nodes" --timeout "$secs"
        ${survive[@]+"${survive[@]}"} -- "$@")
    ;;
mpirun)
    cmd=("$TOP/launch/dkvrun" -n "$np" --timeout "$secs"
        ${survive[@]+"${survive[@]}"})
    [ "$np" != "$nodes" ] || cmd+=(-N "$nodes")
    cmd+=(-- "$@")
    ;;
*) echo "run_job: unknown launcher $how" >&2; exit 2 ;;
esac
echo "run_job: ${cmd[*]}" >&2
run=(timeout --signal=TERM --kill-after=15 "$((secs + 20))" "${cmd[@]}")
[ -n "$expect" ] || exec "${run[@]}"
out=$(mktemp /tmp/dkv-run-job.XXXXXX)
trap 'rm -f "$out"' EXIT
rc=0
"${run[@]}" 2>&1 | tee "$out" || rc=$?
grep -qE -- "$expect" "$out" || {
    echo "run_job: no line matches: $expect"
    [ "$rc" != 0 ] || rc=1
}
exit "$rc"
