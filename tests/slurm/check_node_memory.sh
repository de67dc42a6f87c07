#!/usr/bin/env bash
# check_node_memory.sh: each emulated node of the local cluster (--netns) has
# its own /dev/shm, and `local-cluster lose` takes it away with the node.
#
# In one allocation (salloc -N 2 --no-kill): a file a step writes to
# /dev/shm on node1 is seen by a later step on node1, not by a step on
# node2 nor by this host; the same across hosts under mpirun (dkv-rsh).
# Then a file on node2, `lose node2`: a later step of the same allocation
# still runs on node1 (its file still there), node2 comes back with
# `revive` and an empty /dev/shm, and takes jobs again. The cluster is left
# healthy (node2 revived) even when a check fails.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CLUSTER=$TOP/slurm/local-cluster
failures=0

ok() { echo "check_node_memory: ok: $*"; }
bad() {
    echo "check_node_memory: FAILED: $*"
    failures=$((failures + 1))
}
# expect WHAT WANT CMD...: CMD's output (stdout, trimmed) must be WANT.
expect() {
    local what=$1 want=$2 got

    shift 2
    got=$("$@" 2>&1)
    if [ "$got" = "$want" ]; then ok "$what"; else bad "$what: got '$got'"; fi
}

# The steps, run inside the allocation: check_node_memory.sh --in-allocation.
in_allocation() {
    local f=/dev/shm/dkv-check-node-memory.$SLURM_JOB_ID tok=$RANDOM.$$
    local step=(timeout 30 srun -N 1 -n 1)

    "${step[@]}" -w node1 sh -c "echo $tok >$f"
    expect "a later step on node1 sees node1's file" "$tok" \
        "${step[@]}" -w node1 cat "$f"
    expect "a step on node2 does not" absent \
        "${step[@]}" -w node2 sh -c "test -e $f && echo present || echo absent"
    expect "this host does not" absent \
        sh -c "test -e $f && echo present || echo absent"
    "${step[@]}" -w node2 sh -c "echo lost >$f.2"
    "$CLUSTER" lose node2
    expect "after lose node2, a step on node1 still runs and sees its file" \
        "node1 $tok" "${step[@]}" sh -c "echo \$(hostname) \$(cat $f)"
    "${step[@]}" -w node1 rm -f "$f"
}

if [ "${1:-}" = --in-allocation ]; then
    in_allocation
    exit "$failures"
fi

env_text=$("$CLUSTER" env) || {
    echo "check_node_memory: the local cluster is not up"
    exit 1
}
eval "$env_text"
[ -n "${DKV_HOSTFILE:-}" ] || {
    echo "check_node_memory: the local cluster has no --netns nodes"
    exit 1
}
unset SLURM_JOB_ID
trap '"$CLUSTER" status >/dev/null 2>&1 || "$CLUSTER" revive node2' EXIT

expect "node1 has its own tmpfs on /dev/shm" dkv-shm-node1 \
    "$CLUSTER" exec node1 sh -c "findmnt -n -o SOURCE /dev/shm | tail -n 1"
expect "node2 has its own tmpfs on /dev/shm" dkv-shm-node2 \
    "$CLUSTER" exec node2 sh -c "findmnt -n -o SOURCE /dev/shm | tail -n 1"

# mpirun: dkv-rsh runs orted inside the node's namespaces, mount included.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(timeout 60 mpirun --oversubscribe -n 1)
f=/dev/shm/dkv-check-node-memory.mpirun.$$
"${mpirun[@]}" --host node1 sh -c "echo mpirun >$f"
expect "mpirun: a later run on node1 sees node1's file" mpirun \
    "${mpirun[@]}" --host node1 cat "$f"
expect "mpirun: a run on node2 does not" absent \
    "${mpirun[@]}" --host node2 sh -c \
    "test -e $f && echo present || echo absent"
"${mpirun[@]}" --host node1 rm -f "$f"

# srun, one allocation; --no-kill keeps it when node2 is lost.
timeout 150 salloc --quiet -N 2 -n 2 --no-kill --time 3 \
    "$0" --in-allocation || failures=$((failures + 1))

"$CLUSTER" revive node2 || bad "revive node2"
expect "node2 comes back with an empty /dev/shm" "" \
    "$CLUSTER" exec node2 sh -c 'ls -A /dev/shm'
expect "node2 takes jobs again" node2 \
    timeout 60 srun -N 1 -n 1 -w node2 hostname

if [ "$failures" = 0 ]; then
    echo "check_node_memory: passed"
    exit 0
fi
echo "check_node_memory: $failures check(s) FAILED"
exit 1
