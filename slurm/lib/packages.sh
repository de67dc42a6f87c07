# shellcheck shell=bash disable=SC2034
# slurm/lib/packages.sh: install the Debian packages the local cluster needs,
# only when one is missing (apt-get update only then).
#
# libpmix-dev matters although nothing is compiled: Slurm's mpi/pmix plugin
# loads the unversioned libpmix.so, which only the -dev package ships.
# Packages whose install would start a service leave it stopped where the
# machine has a policy-rc.d saying so; we start our own daemons anyway.

DKV_SLURM_PACKAGES=(slurm-wlm munge libpmix-dev iproute2 util-linux)

dkv_install_packages() {
    local missing=() p sudo=""

    for p in "${DKV_SLURM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] || sudo=sudo
    say "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}
