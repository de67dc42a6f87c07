#!/usr/bin/env bash
# Install what is missing, build, run the writer/reader, then every test:
# unit (cmocka), mpi (real jobs under mpirun), perf smoke, install check,
# slurm (a local Slurm cluster with two emulated nodes, see slurm/), fuzz
# (the wire decoder under libFuzzer); before them, scripts/sanitize.sh runs
# the unit and MPI tests under ASan+UBSan and TSan.
source "$(dirname "$0")/common.sh"
dkv_install_deps
dkv_build
echo "== writer/reader on 2 ranks"
"$DKV_TOP/launch/dkvrun" -n 2 --timeout 120 -- "$DKV_BUILD/examples/writer_reader"
echo "== sanitizers (ASan+UBSan, TSan)"
bash "$DKV_TOP/scripts/sanitize.sh"
echo "== all tests"
# The slurm tests stop their local cluster themselves; this stops it also
# when ctest is interrupted (unless another test run still uses it).
trap '"$DKV_TOP/slurm/local-cluster" down --shared >/dev/null 2>&1 || true' EXIT
cd "$DKV_BUILD"
ctest --output-on-failure --timeout 600 "$@"
