#!/usr/bin/env bash
# Install dramkv into a temporary prefix, then build examples/writer_reader.c
# out of tree twice - with mpicc + pkg-config and with find_package(dramkv) -
# and run each build on 2 ranks. Usage: check_install.sh <build-dir> <src-dir>
set -euo pipefail
build=$1
src=$2
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
# shellcheck disable=SC2046
mpicc -o "$tmp/wr_pc" "$src/examples/writer_reader.c" $(pkg-config --cflags --libs dramkv)
mkdir "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(dramkv REQUIRED)
add_executable(wr_cmake $src/examples/writer_reader.c)
target_link_libraries(wr_cmake PRIVATE dramkv::dramkv)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/build" >/dev/null
for prog in "$tmp/wr_pc" "$tmp/cm/build/wr_cmake"; do
    "$tmp/prefix/bin/dkvrun" -n 2 --timeout 60 -- "$prog" | tee "$tmp/out"
    grep -q "all data verified" "$tmp/out"
done
echo "install check passed"
