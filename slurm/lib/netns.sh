# shellcheck shell=bash disable=SC2034
# slurm/lib/netns.sh: emulated nodes as Linux namespaces (--netns).
#
# Node K gets its own network, UTS (hostname nodeK), IPC and mount
# namespace. They are kept alive by a sleeping holder process (tracked as
# ns-nodeK) and entered with nsenter. A veth pair joins each node's eth0
# ($DKV_SLURM_NET.K/24) to a private bridge in the root namespace that holds
# $DKV_SLURM_NET.254 (slurmctld and the client commands live there). No
# route leads anywhere else: the nodes have no default route and forwarding
# is not touched, so all traffic stays between these addresses.
#
# A separate IPC namespace matters: UCX treats processes in different IPC
# namespaces as unable to share memory, so between nodes it must use TCP.
#
# The mount namespace is private (no propagation either way) and differs
# from the host's in one mount only: node K has its own tmpfs on /dev/shm
# (source dkv-shm-nodeK, mode 1777, size $DKV_SLURM_SHM_SIZE), as a real
# node has its own memory. A file a job step leaves in /dev/shm on node1 is
# seen by later steps on node1 and never on node2; `lose` empties it, as a
# node that dies takes its memory with it. Everything else (/tmp, the build
# tree) stays one file system that all nodes share.

dkv_ns_pid() {
    dkv_pid_of "ns-node$1"
}

# dkv_in_node K CMD...: run CMD inside node K's namespaces.
dkv_in_node() {
    local k=$1 pid

    shift
    pid=$(dkv_ns_pid "$k")
    [ -n "$pid" ] ||
        die "node$k has no namespace holder (is the cluster up with --netns?)"
    # --wd=.: entering a mount namespace would otherwise start CMD in /.
    nsenter -t "$pid" --net --uts --ipc --mount --wd=. -- "$@"
}

# dkv_node_in_own_ns K: node K's namespace holder has a mount namespace of
# its own (a cluster started before /dev/shm was per node has not).
dkv_node_in_own_ns() {
    local pid

    pid=$(dkv_ns_pid "$1")
    [ -n "$pid" ] &&
        [ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

# dkv_node_shm_fresh K: node K gets a new, empty /dev/shm. Whatever was in
# the old one is gone once no process of the node holds it (lazy unmount).
dkv_node_shm_fresh() {
    local pid

    pid=$(dkv_ns_pid "$1")
    [ -n "$pid" ] || return 1
    echo "+ [node$1] umount -l /dev/shm && mount -t tmpfs ... /dev/shm" >&2
    nsenter -t "$pid" --mount -- umount -l /dev/shm &&
        nsenter -t "$pid" --mount -- mount -t tmpfs \
            -o "mode=1777,size=$DKV_SLURM_SHM_SIZE" "dkv-shm-node$1" /dev/shm
}

# dkv_node_pids K: every live process inside node K's namespaces but the
# holder (slurmd, slurmstepd, tasks, orted).
dkv_node_pids() {
    local d pid holder ns

    holder=$(dkv_ns_pid "$1")
    [ -n "$holder" ] || return 0
    ns=$(readlink "/proc/$holder/ns/net")
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [ "$pid" != "$holder" ] && [ "$pid" != $$ ] &&
            [ "$pid" != "$BASHPID" ] &&
            [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$ns" ] &&
            dkv_alive "$pid" && echo "$pid"
    done
    return 0
}

# dkv_node_lose K: node K dies as a powered-off node does: its link goes
# down first (peers see silence, not a closed connection), then every
# process on it is killed (SIGKILL), then its /dev/shm is replaced by an
# empty one. The namespaces stay, so dkv_node_revive can bring it back.
dkv_node_lose() {
    local k=$1 pids p

    run ip link set "${DKV_SLURM_BRIDGE}n$k" down
    mapfile -t pids < <(dkv_node_pids "$k")
    if [ ${#pids[@]} -gt 0 ]; then
        say "node$k: killing ${pids[*]}"
        kill -KILL "${pids[@]}" 2>/dev/null || true
        for p in "${pids[@]}"; do
            dkv_wait_gone "$p" 5 || say "warning: pid $p survived KILL"
        done
    fi
    rm -f "$D_RUN/slurmd-node$k.pid" "$D_RUN/slurmd-node$k.match"
    dkv_node_shm_fresh "$k"
}

# dkv_node_revive K: the link of node K comes back up (its slurmd is
# started by the caller).
dkv_node_revive() {
    run ip link set "${DKV_SLURM_BRIDGE}n$1" up
}

dkv_bridge_up() {
    if ! ip link show "$DKV_SLURM_BRIDGE" >/dev/null 2>&1; then
        run ip link add "$DKV_SLURM_BRIDGE" type bridge
        touch "$D_RUN/bridge.created"
    fi
    ip addr replace "$DKV_SLURM_NET.254/24" dev "$DKV_SLURM_BRIDGE"
    ip link set "$DKV_SLURM_BRIDGE" up
}

dkv_node_ns_up() {
    local k=$1 name="dkv-slurm-ns-node$1" pid veth="${DKV_SLURM_BRIDGE}n$1"

    if [ -z "$(dkv_ns_pid "$k")" ]; then
        (cd / && dkv_close_fds && exec unshare --net --uts --ipc --mount \
            --propagation private -- bash -c "hostname node$k &&
                mount -t tmpfs -o mode=1777,size=$DKV_SLURM_SHM_SIZE \
                    dkv-shm-node$k /dev/shm &&
                exec -a $name sleep infinity" \
            </dev/null >/dev/null 2>&1) &
        pid=$!
        dkv_track "ns-node$k" "$pid" "$name"
        dkv_wait_for 10 "namespace of node$k" \
            grep -q "$name" "/proc/$pid/cmdline" || return 1
    fi
    pid=$(dkv_ns_pid "$k")
    if ! ip link show "$veth" >/dev/null 2>&1; then
        run ip link add "$veth" type veth peer name eth0 netns "$pid"
    fi
    ip link set "$veth" master "$DKV_SLURM_BRIDGE" up
    dkv_in_node "$k" ip link set lo up
    dkv_in_node "$k" ip addr replace "$DKV_SLURM_NET.$k/24" dev eth0
    dkv_in_node "$k" ip link set eth0 up
}

dkv_netns_up() {
    local k

    dkv_bridge_up
    for ((k = 1; k <= $1; k++)); do
        dkv_node_ns_up "$k" || return 1
    done
}

# Stops the holders (the veth pairs vanish with their namespace), then the
# bridge if this script created it.
dkv_netns_down() {
    local f k

    for f in "$D_RUN"/ns-node*.pid; do
        [ -e "$f" ] || continue
        k=${f##*/ns-node}
        k=${k%.pid}
        dkv_stop "ns-node$k"
        ip link del "${DKV_SLURM_BRIDGE}n$k" >/dev/null 2>&1 || true
    done
    if [ -e "$D_RUN/bridge.created" ]; then
        run ip link del "$DKV_SLURM_BRIDGE" 2>/dev/null || true
        rm -f "$D_RUN/bridge.created"
    fi
}
