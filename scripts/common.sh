# Shared by scripts/demo.sh and scripts/test.sh: install what is missing
# (Debian 12, as root or with sudo), then configure and build into build/.
set -euo pipefail

DKV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DKV_BUILD=${DKV_BUILD:-$DKV_TOP/build}
DKV_PACKAGES=(build-essential cmake pkg-config libucx-dev ucx-utils
    libopenmpi-dev openmpi-bin libpmix-dev libcmocka-dev libxxhash-dev
    clang-14 libclang-rt-14-dev)

dkv_install_deps() {
    local missing=() p sudo=""
    for p in "${DKV_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "== installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

dkv_build() {
    echo "== building in $DKV_BUILD"
    cmake -S "$DKV_TOP" -B "$DKV_BUILD" -DDKV_WERROR=ON "$@" >/dev/null
    cmake --build "$DKV_BUILD" -j "$(nproc)"
}

# Open MPI refuses to run as root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
