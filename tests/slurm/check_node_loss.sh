#!/usr/bin/env bash
# check_node_loss.sh srun|mpirun PROG: with DKV_REPLICAS=2 and holders on
# every rank of two emulated nodes, every rank of node2 dies mid-run
# (test_node_loss node); both ranks of node1 must keep writing and reading
# for 10 s after the death, then read back every acknowledged key. The
# survivors leave DIR/pass.<rank> (a file, because mpirun may drop output
# of ranks on other hosts when a job loses ranks). The job's exit code does
# not count: the survivors' files do (see job_bg.sh for mpirun's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/job_bg.sh"
how=$1 prog=$2
dir=$(mktemp -d /tmp/dkv-node-loss.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 777 "$dir"
passed() { [ -e "$dir/pass.0" ] && [ -e "$dir/pass.1" ]; }

DKV_HOLDERS=all DKV_REPLICAS=2 DKV_TIMEOUT_MS=5000 \
    DKV_FINALIZE_TIMEOUT_MS=5000 \
    job_start "$dir/job.out" --survive "$how" 4 2 60 -- "$prog" node "$dir" 10
job_finish passed 10
cat "$dir/job.out"
echo "check_node_loss: job exit $JOB_RC; survivors: $(cd "$dir" && ls pass.* 2>/dev/null | tr '\n' ' ')"
if passed && [ ! -e "$dir/pass.2" ] && [ ! -e "$dir/pass.3" ]; then
    echo "check_node_loss: $how passed"
    exit 0
fi
echo "check_node_loss: $how FAILED"
exit 1
