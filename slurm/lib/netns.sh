# shellcheck shell=bash disable=SC2034
# slurm/lib/netns.sh: emulated nodes as Linux namespaces (--netns).
#
# Node K gets its own network, UTS (hostname nodeK) and IPC namespace. They
# are kept alive by a sleeping holder process (tracked as ns-nodeK) and
# entered with nsenter. A veth pair joins each node's eth0
# ($DKV_SLURM_NET.K/24) to a private bridge in the root namespace that holds
# $DKV_SLURM_NET.254 (slurmctld and the client commands live there). No
# route leads anywhere else: the nodes have no default route and forwarding
# is not touched, so all traffic stays between these addresses.
#
# A separate IPC namespace matters: UCX treats processes in different IPC
# namespaces as unable to share memory, so between nodes it must use TCP.

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
    nsenter -t "$pid" --net --uts --ipc -- "$@"
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
        (cd / && dkv_close_fds && exec unshare --net --uts --ipc -- bash -c \
            "hostname node$k && exec -a $name sleep infinity" \
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
