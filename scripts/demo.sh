#!/usr/bin/env bash
# Install what is missing, build, and run the two-rank writer/reader under
# mpirun (through launch/dkvrun).
source "$(dirname "$0")/common.sh"
dkv_install_deps
dkv_build
echo "== writer/reader on 2 ranks"
"$DKV_TOP/launch/dkvrun" -n 2 --timeout 120 -- "$DKV_BUILD/examples/writer_reader"
