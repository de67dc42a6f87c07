# shellcheck shell=bash disable=SC2034
# slurm/lib/packages.sh: install the Debian packages the local cluster needs,
# only when one is missing (apt-get update only then).
#
# libpmix-dev matters although nothing is compiled: Slurm's mpi/pmix plugin
# loads the unversioned libpmix.so, which only the -dev package ships.
# Packages whose install would start a service leave it stopped where the
# machine has a policy-rc.d saying so; we start our own daemons anyway.

DKV_SLURM_PACKAGES=(slurm-wlm munge libpmix-dev iproute2 util-linux)

# shellcheck source=scripts/apt_install.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/apt_install.sh"

dkv_install_packages() {
    dkv_apt_install "${DKV_SLURM_PACKAGES[@]}"
}
