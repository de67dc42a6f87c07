#!/usr/bin/env bash
# Install what is missing, build, run the writer/reader, then every test:
# unit (cmocka), mpi (real jobs under mpirun), perf smoke, install check.
source "$(dirname "$0")/common.sh"
dkv_install_deps
dkv_build
echo "== writer/reader on 2 ranks"
"$DKV_TOP/launch/dkvrun" -n 2 --timeout 120 -- "$DKV_BUILD/examples/writer_reader"
echo "== all tests"
cd "$DKV_BUILD"
ctest --output-on-failure --timeout 600 "$@"
