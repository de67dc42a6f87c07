#!/usr/bin/env bash
# check_silent_node_loss.sh PROG: as check_node_loss.sh (DKV_REPLICAS=2,
# holders on every rank of two emulated nodes, srun), but node2 dies as a
# powered-off node does: once its ranks have written (test_node_loss
# silent), `slurm/local-cluster lose node2` cuts its link, then kills
# everything on it. The survivors on node1 see silence, not closed
# connections; they must keep writing and reading every acknowledged key
# within DKV_TIMEOUT_MS per call, then leave DIR/pass.<rank>. The allocation
# and the step are --no-kill, so Slurm keeps node1's ranks running. node2 is
# revived at the end, also on failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CLUSTER=$here/../../slurm/local-cluster
prog=$1
dir=$(mktemp -d /tmp/dkv-silent-loss.XXXXXX)
chmod 777 "$dir"
eval "$("$CLUSTER" env)" || exit 1
unset SLURM_JOB_ID
trap '"$CLUSTER" status >/dev/null 2>&1 || "$CLUSTER" revive node2; rm -rf "$dir"' EXIT

export DKV_HOLDERS=all DKV_REPLICAS=2 DKV_TIMEOUT_MS=5000 \
    DKV_FINALIZE_TIMEOUT_MS=5000
timeout --signal=TERM --kill-after=15 150 salloc --quiet -N 2 -n 4 --no-kill \
    --time 3 srun --mpi=pmix -N 2 -n 4 --kill-on-bad-exit=0 --no-kill \
    --export=ALL "$prog" silent "$dir" 10 >"$dir/job.out" 2>&1 &
job=$!
for ((i = 0; i < 600; i++)); do
    ls "$dir"/death.* >/dev/null 2>&1 && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
done
"$CLUSTER" lose node2
wait "$job"
rc=$?
cat "$dir/job.out"
echo "check_silent_node_loss: job exit $rc; survivors:" \
    "$(cd "$dir" && echo pass.*)"
if [ -e "$dir/pass.0" ] && [ -e "$dir/pass.1" ]; then
    echo "check_silent_node_loss: srun passed"
    exit 0
fi
echo "check_silent_node_loss: srun FAILED"
exit 1
