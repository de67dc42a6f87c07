# Shared by scripts/demo.sh and scripts/test.sh: install what is missing
# (Debian 12, as root or with sudo), then configure and build into build/.
set -euo pipefail

DKV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DKV_BUILD=${DKV_BUILD:-$DKV_TOP/build}
DKV_PACKAGES=(build-essential cmake pkg-config libucx-dev ucx-utils
    libopenmpi-dev openmpi-bin libpmix-dev libcmocka-dev libxxhash-dev
    clang-14 libclang-rt-14-dev gfortran python3-numpy python3-mpi4py
    python3-pytest)

# --help on a script that sources this file prints its header comment.
case "${1:-}" in
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac

# shellcheck source=scripts/apt_install.sh
source "$DKV_TOP/scripts/apt_install.sh"

dkv_install_deps() {
    dkv_apt_install "${DKV_PACKAGES[@]}"
}

dkv_build() {
    echo "== building in $DKV_BUILD"
    cmake -S "$DKV_TOP" -B "$DKV_BUILD" -DDKV_WERROR=ON "$@" >/dev/null
    cmake --build "$DKV_BUILD" -j "$(nproc)"
}

# Open MPI refuses to run as root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
