# shellcheck shell=bash disable=SC2034
# slurm/lib/common.sh: paths and process helpers shared by slurm/local-cluster
# and slurm/dkv-rsh.
#
# Everything the local cluster creates lives under one directory
# ($DKV_SLURM_DIR, default /tmp/dkv-slurm): configuration, munge key and
# socket, state, spool, logs and one pid file per process it started. A
# process is only ever stopped through its pid file, and only after its
# command line shows it is the process we started (pids get reused).
#
# PID 1 on our machines does not reap orphans: a daemon that exited stays a
# zombie, so "alive" means "exists and is not a zombie".

DKV_SLURM_DIR=${DKV_SLURM_DIR:-/tmp/dkv-slurm}
DKV_SLURM_PORT=${DKV_SLURM_PORT:-16817}     # slurmctld; slurmd K uses +K
DKV_SLURM_NET=${DKV_SLURM_NET:-10.213.77}   # /24 on the private bridge
DKV_SLURM_BRIDGE=${DKV_SLURM_BRIDGE:-dkvbr0}
DKV_SLURM_CPUS=${DKV_SLURM_CPUS:-2}         # CPUs each emulated node declares
DKV_SLURM_SHM_SIZE=${DKV_SLURM_SHM_SIZE:-50%} # each node's /dev/shm (--netns)

D_ETC=$DKV_SLURM_DIR/etc
D_RUN=$DKV_SLURM_DIR/run
D_LOG=$DKV_SLURM_DIR/log
D_MUNGE=$DKV_SLURM_DIR/munge
D_INFO=$DKV_SLURM_DIR/cluster.info

say() { echo "local-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Print a command, then run it (STYLE: scripts print what they run).
run() { echo "+ $*" >&2; "$@"; }

# dkv_close_fds: close every file descriptor but 0-2 of this shell. Called
# in the subshell that becomes a daemon: a daemon must not keep our lock
# (fd 9) nor any descriptor of whoever ran us; a caller's lock, as in
# `flock FILE slurm/local-cluster up`, would stay held for the cluster's life.
dkv_close_fds() {
    local fd

    for fd in "/proc/$BASHPID/fd"/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ]; then
            eval "exec $fd>&-"
        fi
    done
}

# rund CMD...: start a daemon: printed, no stdio (a test runner waiting on
# our output must not wait on the daemon too), no other descriptor of ours.
rund() {
    echo "+ $*" >&2
    (dkv_close_fds && exec "$@") </dev/null >/dev/null 2>&1
}

# dkv_alive PID: the process exists and is not a zombie.
dkv_alive() {
    local st

    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# dkv_pid_of NAME: the live pid recorded in $D_RUN/NAME.pid whose command
# line matches the pattern in $D_RUN/NAME.match; nothing otherwise.
dkv_pid_of() {
    local pid pat

    pid=$(cat "$D_RUN/$1.pid" 2>/dev/null) || return 0
    pat=$(cat "$D_RUN/$1.match" 2>/dev/null) || return 0
    [ -n "$pid" ] && dkv_alive "$pid" || return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pat" || return 0
    echo "$pid"
}

# dkv_track NAME PID PATTERN: remember a process we started.
dkv_track() {
    echo "$2" >"$D_RUN/$1.pid"
    echo "$3" >"$D_RUN/$1.match"
}

# dkv_wait_gone PID SECONDS: wait until PID is dead (or a zombie).
dkv_wait_gone() {
    local i

    for ((i = 0; i < $2 * 10; i++)); do
        dkv_alive "$1" || return 0
        sleep 0.1
    done
    return 1
}

# dkv_stop NAME: TERM, then KILL after 10 s, the process tracked as NAME.
dkv_stop() {
    local pid

    pid=$(dkv_pid_of "$1")
    if [ -n "$pid" ]; then
        say "stopping $1 (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        dkv_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
        dkv_wait_gone "$pid" 5 || say "warning: $1 (pid $pid) survived KILL"
    fi
    rm -f "$D_RUN/$1.pid" "$D_RUN/$1.match"
}

# dkv_wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds
# or SECONDS of wall time have passed (CMD itself must be bounded).
dkv_wait_for() {
    local secs=$1 what=$2 end

    shift 2
    end=$((SECONDS + secs))
    while [ "$SECONDS" -lt "$end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    say "timed out after ${secs} s waiting for $what"
    return 1
}

# Cluster facts written by `up`: NODES and NETNS.
dkv_load_info() {
    NODES=0
    NETNS=0
    # shellcheck disable=SC1090
    [ -f "$D_INFO" ] && . "$D_INFO"
    return 0
}

dkv_node_addr() {
    if [ "$NETNS" = 1 ]; then
        echo "$DKV_SLURM_NET.$1"
    else
        echo 127.0.0.1
    fi
}
