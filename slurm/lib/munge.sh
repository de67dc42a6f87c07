# shellcheck shell=bash disable=SC2034
# slurm/lib/munge.sh: a private munged for the local cluster.
#
# It has its own key, socket, pid, log and seed file under
# $DKV_SLURM_DIR/munge, so a munged the machine may already run is not
# touched. munged refuses to run as root and without systemd nothing
# creates its directories, so we create them, owned by the munge user, and
# start munged as that user. Slurm finds the socket through
# AuthInfo=socket=... in our slurm.conf.

D_MUNGE_SOCK=$D_MUNGE/munge.socket

dkv_munge_ok() {
    munge -S "$D_MUNGE_SOCK" -n </dev/null | unmunge -S "$D_MUNGE_SOCK" >/dev/null
}

dkv_munge_up() {
    local pid

    if [ -n "$(dkv_pid_of munged)" ] && dkv_munge_ok 2>/dev/null; then
        return 0
    fi
    dkv_stop munged
    install -d -o munge -g munge -m 0755 "$D_MUNGE"
    if [ ! -s "$D_MUNGE/munge.key" ]; then
        dd if=/dev/urandom of="$D_MUNGE/munge.key" bs=1024 count=1 2>/dev/null
    fi
    chown munge:munge "$D_MUNGE/munge.key"
    chmod 0400 "$D_MUNGE/munge.key"
    rm -f "$D_MUNGE/munged.pid"
    rund runuser -u munge -- munged --socket="$D_MUNGE_SOCK" \
        --key-file="$D_MUNGE/munge.key" --pid-file="$D_MUNGE/munged.pid" \
        --log-file="$D_MUNGE/munged.log" --seed-file="$D_MUNGE/munged.seed" \
        || return 1
    dkv_wait_for 10 "munged's pid file" test -s "$D_MUNGE/munged.pid" || return 1
    pid=$(cat "$D_MUNGE/munged.pid")
    dkv_track munged "$pid" "munged --socket=$D_MUNGE_SOCK"
    dkv_wait_for 10 munged dkv_munge_ok
}
