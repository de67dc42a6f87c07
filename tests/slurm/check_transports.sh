#!/usr/bin/env bash
# check_transports.sh: prove that between emulated nodes UCX moved dramkv's
# data over TCP and inside a node over shared memory, from UCX's own report.
#
#   check_transports.sh srun|mpirun PROG
#
# Runs PROG on 4 ranks, 2 per node, every rank a holder (so every rank talks
# to holders on its own node and on the other), with UCX_LOG_LEVEL=debug
# and one UCX log file per process (UCX_LOG_FILE, %h = host, %p = pid).
# UCX 1.13 writes there:
#   ep_cfg[N]: am(tcp/eth0) ka(tcp/eth0)       the transports of an endpoint
#   ... for the [10.213.77.1:p]<->[10.213.77.2:q] ...   each TCP connection
# Passes when the job passes and: ranks ran on both nodes; every rank has an
# endpoint over tcp/eth0 and one over shared memory (sysv, posix, cma) and
# none mixing the two; no endpoint uses tcp/lo; every TCP connection joins
# two different nodes and starts at the address of the node that logged
# it. If the nodes shared an IPC namespace, UCX would pick shared memory for
# every endpoint and no TCP connection would appear.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
how=$1 prog=$2
dir=$(mktemp -d /tmp/dkv-transports.XXXXXX)
trap 'rm -rf "$dir"' EXIT

export UCX_LOG_LEVEL=debug UCX_LOG_FILE="$dir/ucx.%h.%p.log" DKV_HOLDERS=all
"$TOP/tests/slurm/run_job.sh" "$how" 4 2 90 -- "$prog" >"$dir/job.out" 2>&1 || {
    tail -50 "$dir/job.out"
    echo "check_transports: the job failed"
    exit 1
}
# shellcheck disable=SC1091
net=$(. "$TOP/slurm/lib/common.sh" && echo "$DKV_SLURM_NET")
ls "$dir"/ucx.*.log >/dev/null 2>&1 || {
    echo "check_transports: no UCX log files"
    exit 1
}

awk -v net="$net" '
function fail(what) { if (nbad++ < 10) bad = bad "\n  " what }
FNR == 1 {   # ucx.node1.1234.log -> node1:1234
    p = FILENAME; sub(/.*\/ucx\./, "", p); sub(/\.log$/, "", p)
    host = p; sub(/\..*/, "", host); sub(/\./, ":", p)
    k = host; sub(/^node/, "", k)
    procs[p] = 1
}
/ep_cfg\[[0-9]+\]:/ {
    if ($0 ~ /tcp\/lo/) fail("endpoint over loopback in " p ": " $0)
    if ($0 ~ /tcp\/eth0/) tcp[p]++
    if ($0 ~ /(sysv|posix|cma|xpmem|knem)\//) shm[p]++
    if (($0 ~ /tcp\//) && ($0 ~ /(sysv|posix|cma)\//)) {
        fail("endpoint mixes tcp and shared memory in " p ": " $0)
    }
}
/ for the \[[0-9.]+:[0-9]+\]<->\[[0-9.]+:[0-9]+\]/ {
    match($0, /\[[0-9.]+:[0-9]+\]<->\[[0-9.]+:[0-9]+\]/)
    c = substr($0, RSTART, RLENGTH); gsub(/[][]/, "", c)
    split(c, ends, "<->"); split(ends[1], a, ":"); split(ends[2], b, ":")
    conns++
    if (a[1] == b[1]) fail("TCP inside one node in " p ": " $0)
    if (a[1] != net "." k) fail("TCP from an address not of " host ": " $0)
    pair[a[1] " <-> " b[1]] = 1
}
END {
    n1 = n2 = 0
    for (q in procs) {
        if (q ~ /^node1:/) n1++
        if (q ~ /^node2:/) n2++
        printf "%s: %d endpoint configs over tcp/eth0, %d over shared memory\n",
            q, tcp[q], shm[q]
        if (tcp[q] == 0) fail(q " has no endpoint over tcp/eth0")
        if (shm[q] == 0) fail(q " has no endpoint over shared memory")
    }
    for (q in pair) printf "TCP connections: %s\n", q
    if ((n1 == 0) || (n2 == 0)) fail("ranks did not run on both node1 and node2")
    if (conns == 0) fail("no TCP connection was logged")
    if (bad != "") { print "check_transports: FAILED" bad; exit 1 }
    print "check_transports: between nodes tcp/eth0, inside a node shared" \
        " memory: passed"
}' "$dir"/ucx.*.log
