# shellcheck shell=bash disable=SC2034
# slurm/lib/daemons.sh: start and stop slurmctld and the slurmd of each node.
#
# slurmctld runs in the root namespace (reachable from every node over the
# bridge, or on 127.0.0.1 without --netns); slurmd of node K runs in node
# K's namespaces when there are any. Both daemonize and write Slurm's own
# pid file, which we copy into our tracking files. `up` waits until every
# node is idle; `down` cancels jobs first, then stops the daemons and any
# slurmstepd or task they left behind.

# A Slurm client command on our cluster, bounded: a port taken by something
# else can make it wait for MessageTimeout and more.
dkv_slurm() {
    SLURM_CONF=$D_ETC/slurm.conf timeout 10 "$@"
}

# dkv_ports_free: fail, naming it, if a port we are about to use is taken
# in the root namespace (the controller's; the nodes' too without --netns).
dkv_ports_free() {
    local k last=0 port

    [ "$NETNS" = 1 ] || last=$NODES
    for ((k = 0; k <= last; k++)); do
        port=$((DKV_SLURM_PORT + k))
        if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
            say "port $port is taken (set DKV_SLURM_PORT to move the cluster)"
            return 1
        fi
    done
}

dkv_slurmctld_up() {
    local pf=$D_RUN/slurmctld.pidfile

    [ -z "$(dkv_pid_of slurmctld)" ] || return 0
    rm -f "$pf"
    rund slurmctld -c -f "$D_ETC/slurm.conf" || return 1
    dkv_wait_for 20 "slurmctld's pid file" test -s "$pf" || return 1
    dkv_track slurmctld "$(cat "$pf")" "slurmctld -c -f $D_ETC/slurm.conf"
    dkv_wait_for 30 "slurmctld to answer" dkv_slurm scontrol ping
}

dkv_slurmd_up() {
    local k=$1 pf=$D_RUN/slurmd-node$1.pidfile
    local cmd=(slurmd -N "node$k" -f "$D_ETC/slurm.conf")

    [ -z "$(dkv_pid_of "slurmd-node$k")" ] || return 0
    rm -f "$pf"
    if [ "$NETNS" = 1 ]; then
        echo "+ [node$k] ${cmd[*]}" >&2
        (dkv_close_fds && dkv_in_node "$k" "${cmd[@]}") \
            </dev/null >/dev/null 2>&1 || return 1
    else
        rund "${cmd[@]}" || return 1
    fi
    dkv_wait_for 20 "slurmd of node$k" test -s "$pf" || return 1
    dkv_track "slurmd-node$k" "$(cat "$pf")" "${cmd[*]}"
}

# Every node of the partition reports "idle".
dkv_all_idle() {
    local states

    states=$(dkv_slurm sinfo -h -N -o '%t' 2>/dev/null) || return 1
    [ "$(grep -c '^idle$' <<<"$states")" = "$1" ]
}

# dkv_writes_here PID: PID has a file of ours open (a log, say).
dkv_writes_here() {
    local fd

    for fd in "/proc/$1/fd"/*; do
        [[ "$(readlink "$fd" 2>/dev/null)" == "$DKV_SLURM_DIR"/* ]] && return 0
    done
    return 1
}

# Processes the cluster left: anything inside our namespaces (but their
# holders), and any slurmstepd writing to our directory.
dkv_leftovers() {
    local d pid ns=() f

    for f in "$D_RUN"/ns-node*.pid; do
        [ -e "$f" ] || continue
        pid=$(dkv_pid_of "$(basename "$f" .pid)")
        [ -z "$pid" ] || ns+=("$(readlink "/proc/$pid/ns/net")")
    done
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        if [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] || ! dkv_alive "$pid"; then
            continue
        fi
        if [ ${#ns[@]} -gt 0 ] &&
            printf '%s\n' "${ns[@]}" |
            grep -qxF "$(readlink "$d/ns/net" 2>/dev/null)"; then
            grep -q '^dkv-slurm-ns' "$d/cmdline" 2>/dev/null || echo "$pid"
        elif [ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] &&
            dkv_writes_here "$pid"; then
            echo "$pid"
        fi
    done
}

dkv_kill_leftovers() {
    local pids p

    mapfile -t pids < <(dkv_leftovers)
    [ ${#pids[@]} -gt 0 ] || return 0
    say "killing leftover processes: ${pids[*]}"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for p in "${pids[@]}"; do
        dkv_wait_gone "$p" 5 || say "warning: pid $p survived KILL"
    done
}

dkv_no_jobs() {
    local jobs

    jobs=$(dkv_slurm squeue -h -o %i 2>/dev/null) || return 1
    [ -z "$jobs" ]
}

dkv_slurm_down() {
    local f

    if [ -n "$(dkv_pid_of slurmctld)" ]; then
        dkv_slurm squeue -h -o %i 2>/dev/null | xargs -r env \
            SLURM_CONF="$D_ETC/slurm.conf" timeout 10 scancel --full 2>/dev/null || true
        dkv_wait_for 15 "jobs to end" dkv_no_jobs || true
    fi
    for f in "$D_RUN"/slurmd-node*.pid; do
        [ -e "$f" ] || continue
        dkv_stop "$(basename "$f" .pid)"
    done
    dkv_kill_leftovers
    dkv_stop slurmctld
}
