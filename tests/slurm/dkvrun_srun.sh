#!/usr/bin/env bash
# dkvrun_srun.sh: takes dkvrun's arguments (-n NP [--survive] [--timeout T]
# -- prog args...) and runs the job under srun on the two emulated nodes of
# the local cluster (run_job.sh srun), so that a check written for dkvrun
# (tests/mpi/fence_agree.sh) runs across nodes under Slurm too.
set -euo pipefail
np="" secs=100 survive=()
while [ $# -gt 0 ]; do
    case "$1" in
    -n) np=$2; shift 2 ;;
    --timeout) secs=$2; shift 2 ;;
    --survive) survive=(--survive); shift ;;
    --) shift; break ;;
    *) echo "dkvrun_srun: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$np" ] || { echo "usage: $0 -n NP [--survive] [--timeout T] -- prog..." >&2; exit 2; }
exec "$(dirname "$0")/run_job.sh" ${survive[@]+"${survive[@]}"} srun "$np" 2 \
    "$secs" -- "$@"
