#!/usr/bin/env bash
# Install dramkv into a temporary prefix, then build examples/writer_reader.c
# out of tree twice - with mpicc + pkg-config and with find_package(dramkv) -
# and run each build on 2 ranks. With the Fortran module built, the same
# for tests/mpi/test_fortran.f90 (mpif90 + pkg-config dramkv-fortran, and
# find_package(dramkv COMPONENTS Fortran)); the Python package imported
# from the .pc file's pythondir runs examples/writer_reader.py.
# Usage: check_install.sh <build-dir> <src-dir> [python3]
set -euo pipefail
build=$1
src=$2
python=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/dramkv.h lib/libdramkv.so lib/libdramkv.a \
    lib/pkgconfig/dramkv.pc lib/cmake/dramkv/dramkvConfig.cmake bin/dkvrun \
    bin/dkv-drain; do
    [ -e "$tmp/prefix/$f" ] || { echo "missing $f in the prefix"; exit 1; }
done
# Only the public API is exported: dkv_* from dramkv.h, no dkv__ internals.
leaked=$(nm -D --defined-only "$tmp/prefix/lib/libdramkv.so" |
    awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v '^dkv_[a-z]' || true)
internal=$(nm -D --defined-only "$tmp/prefix/lib/libdramkv.so" |
    awk '{print $3}' | grep '^dkv__' || true)
if [ -n "$leaked$internal" ]; then
    echo "libdramkv.so exports non-API symbols: $leaked $internal"
    exit 1
fi
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig

# consumer <dir> <language> <find_package args> <target> <source>: build
# <source> as $tmp/<dir>/build/prog in a CMake project of its own.
consumer() {
    mkdir "$tmp/$1"
    cat >"$tmp/$1/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer $2)
find_package(dramkv REQUIRED $3)
add_executable(prog $5)
target_link_libraries(prog PRIVATE $4)
CM
    cmake -S "$tmp/$1" -B "$tmp/$1/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
    cmake --build "$tmp/$1/build" >/dev/null
}

# run2 <expected line> <program>...: each on 2 ranks with the installed dkvrun.
run2() {
    local expect=$1 prog
    shift
    for prog in "$@"; do
        "$tmp/prefix/bin/dkvrun" -n 2 --timeout 60 -- "$prog" | tee "$tmp/out"
        grep -q "$expect" "$tmp/out"
    done
}

# shellcheck disable=SC2046
mpicc -o "$tmp/wr_pc" "$src/examples/writer_reader.c" $(pkg-config --cflags --libs dramkv)
consumer cm C "" dramkv::dramkv "$src/examples/writer_reader.c"
run2 "all data verified" "$tmp/wr_pc" "$tmp/cm/build/prog"
if [ -e "$tmp/prefix/lib/libdramkv_fortran.so" ]; then
    [ -e "$tmp/prefix/include/dramkv.mod" ] || { echo "missing dramkv.mod"; exit 1; }
    # shellcheck disable=SC2046
    mpif90 -o "$tmp/f_pc" "$src/tests/mpi/test_fortran.f90" \
        $(pkg-config --cflags --libs dramkv-fortran)
    consumer fcm Fortran "COMPONENTS Fortran" dramkv::fortran \
        "$src/tests/mpi/test_fortran.f90"
    run2 "fortran test passed" "$tmp/f_pc" "$tmp/fcm/build/prog"
fi
if [ -n "$python" ]; then
    pythondir=$(pkg-config --variable=pythondir dramkv)
    [ -e "$pythondir/dramkv/__init__.py" ] || { echo "no package in $pythondir"; exit 1; }
    PYTHONPATH=$pythondir "$tmp/prefix/bin/dkvrun" -n 2 --timeout 60 -- \
        "$python" "$src/examples/writer_reader.py" --mib 4 | tee "$tmp/out"
    grep -q "all data verified" "$tmp/out"
fi
echo "install check passed"
