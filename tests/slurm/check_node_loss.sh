#!/usr/bin/env bash
# check_node_loss.sh srun|mpirun PROG: with DKV_REPLICAS=2 and holders on
# every rank of two emulated nodes, every rank of node2 dies mid-run
# (test_node_loss node); both ranks of node1 must read back every
# acknowledged key. The survivors leave DIR/pass.<rank> (a file, because
# mpirun may drop output of ranks on other hosts when a job loses ranks).
# Open MPI 4.1's mpirun in recovery mode does not end a job that lost a
# whole host's ranks after the survivors exit; the job is ended by the
# timeout, so its exit code does not count here - the survivors' files do.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
how=$1 prog=$2
dir=$(mktemp -d /tmp/dkv-node-loss.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 777 "$dir"
DKV_HOLDERS=all DKV_REPLICAS=2 DKV_TIMEOUT_MS=5000 \
    DKV_FINALIZE_TIMEOUT_MS=5000 \
    "$here/run_job.sh" --survive "$how" 4 2 30 -- "$prog" node "$dir"
echo "check_node_loss: job exit $?; survivors: $(ls "$dir")"
if [ -e "$dir/pass.0" ] && [ -e "$dir/pass.1" ] && [ ! -e "$dir/pass.2" ] &&
    [ ! -e "$dir/pass.3" ]; then
    echo "check_node_loss: $how passed"
    exit 0
fi
echo "check_node_loss: $how FAILED"
exit 1
