# shellcheck shell=bash disable=SC2034
# slurm/lib/config.sh: the local cluster's configuration files.
#
# slurm.conf names one controller and N nodes (node1..nodeN). Every path
# (state, spool, pid and log files; %n is the node name), every port and the
# munge socket are our own, so another Slurm on the machine is not touched.
# Without --netns all slurmd share this host (slurmd -N NAME, one Port
# each); with --netns node K has its own address on the private bridge.
# Nodes may declare more CPUs than the machine has (config_overrides).
# The nodes share one /tmp: TmpFS (where the PMIx plugin makes its per-step
# directories) is per node, or the second node's step fails with EEXIST.
# cgroup/v1 + proctrack/linuxproc + task/none: slurmd inside a network
# namespace dies with the default cgroup setup.
#
# Also written: a hostfile and an env file for mpirun across the emulated
# hosts, and cluster.info with what `up` was asked for.

dkv_write_slurm_conf() {
    local n=$1 ctl_addr=127.0.0.1 k host

    [ "$NETNS" = 0 ] || ctl_addr=$DKV_SLURM_NET.254
    cat <<CONF
# Written by slurm/local-cluster; rewritten at every "up".
ClusterName=dkvlocal
SlurmctldHost=$(hostname -s)($ctl_addr)
SlurmctldPort=$DKV_SLURM_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D_MUNGE/munge.socket
StateSaveLocation=$DKV_SLURM_DIR/state
SlurmdSpoolDir=$DKV_SLURM_DIR/spool/%n
TmpFS=$DKV_SLURM_DIR/tmp/%n
SlurmctldPidFile=$D_RUN/slurmctld.pidfile
SlurmdPidFile=$D_RUN/slurmd-%n.pidfile
SlurmctldLogFile=$D_LOG/slurmctld.log
SlurmdLogFile=$D_LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=600
MessageTimeout=20
SlurmctldTimeout=30
SlurmdTimeout=60
CONF
    for ((k = 1; k <= n; k++)); do
        host=$(hostname -s)
        [ "$NETNS" = 0 ] || host=node$k
        echo "NodeName=node$k NodeHostname=$host NodeAddr=$(dkv_node_addr "$k")" \
            "Port=$((DKV_SLURM_PORT + k)) CPUs=$DKV_SLURM_CPUS State=UNKNOWN"
    done
    echo "PartitionName=dkv Nodes=node[1-$n] Default=YES MaxTime=INFINITE State=UP"
}

dkv_write_cgroup_conf() {
    cat <<CONF
# Written by slurm/local-cluster.
CgroupPlugin=cgroup/v1
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
}

# What a shell needs to use the cluster: eval "$(slurm/local-cluster env)".
dkv_write_env() {
    local here

    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    echo "export SLURM_CONF=$D_ETC/slurm.conf"
    [ "$NETNS" = 1 ] || return 0
    echo "export DKV_SLURM_DIR=$DKV_SLURM_DIR"
    echo "export DKV_HOSTFILE=$D_ETC/hostfile"
    echo "export OMPI_MCA_plm_rsh_agent=$here/dkv-rsh"
    echo "export OMPI_MCA_btl_tcp_if_include=$DKV_SLURM_NET.0/24"
    echo "export OMPI_MCA_oob_tcp_if_include=$DKV_SLURM_NET.0/24"
}

dkv_write_config() {
    local n=$1 k

    mkdir -p "$D_ETC" "$D_LOG" "$DKV_SLURM_DIR/state" "$DKV_SLURM_DIR/spool"
    printf 'NODES=%s\nNETNS=%s\n' "$n" "$NETNS" >"$D_INFO"
    dkv_write_slurm_conf "$n" >"$D_ETC/slurm.conf"
    dkv_write_cgroup_conf >"$D_ETC/cgroup.conf"
    : >"$D_ETC/hostfile"
    for ((k = 1; k <= n; k++)); do
        echo "node$k slots=2" >>"$D_ETC/hostfile"
        mkdir -p "$DKV_SLURM_DIR/spool/node$k"
        install -d -m 1777 "$DKV_SLURM_DIR/tmp/node$k"
    done
    dkv_write_env >"$D_ETC/env"
}
