# shellcheck shell=bash
# scripts/apt_install.sh: dkv_apt_install PKG... installs the Debian packages
# among PKG that are missing (apt-get update only then), as root or with
# sudo. Shared by scripts/common.sh and slurm/lib/packages.sh.

dkv_apt_install() {
    local missing=() p sudo=""

    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "== installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}
