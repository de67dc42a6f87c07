#!/usr/bin/env bash
# The unit and MPI tests again under sanitizers (run by scripts/test.sh):
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer, leak checks on
#               (third-party leaks suppressed in tests/sanitizers/lsan.supp;
#               programs that link MPI run without leak checks, since Open
#               MPI's unloaded components leak by design)
#   build-tsan  ThreadSanitizer on the tests that exercise the holder thread
#               (UCX's memory hooks are off there: they conflict with TSan)
# The fault matrix runs under ASan without its eager and one-copy variants
# (the same code paths) and its client-dies-before-sending points (nothing
# reaches the others): 15 jobs, about 60 s instead of 100 s; under TSan at
# the two points where a holder or drain thread dies.
# staging_slowsync is left out: its LD_PRELOAD fsync shim cannot come
# before the ASan runtime.
# Any sanitizer report fails the test it happens in.
source "$(dirname "$0")/common.sh"
sup=$DKV_TOP/tests/sanitizers/lsan.supp
san_build() { # dir flags
    echo "== building $1 ($2)"
    cmake -S "$DKV_TOP" -B "$1" -DCMAKE_BUILD_TYPE=Debug -DDKV_WERROR=ON \
        -DCMAKE_C_FLAGS="$2 -fno-omit-frame-pointer" \
        -DCMAKE_EXE_LINKER_FLAGS="$2" -DCMAKE_SHARED_LINKER_FLAGS="$2" >/dev/null
    cmake --build "$1" -j "$(nproc)" >/dev/null
}
asan=$DKV_TOP/build-asan
tsan=$DKV_TOP/build-tsan
san_build "$asan" "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
san_build "$tsan" "-fsanitize=thread"
status=0
cd "$asan"
echo "== ASan+UBSan: unit and MPI tests (leak checks on)"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=$sup \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -L "unit|mpi" -LE mpilib \
    -E "huge_value|holder_death_stop|staging_slowsync|fault_matrix\.(.*(eager|r1)|.*before_send.*)$" \
    --output-on-failure --timeout 300 || status=1
echo "== ASan+UBSan: MPI-linked tests (leak checks off)"
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -L mpilib --output-on-failure --timeout 300 || status=1
cd "$tsan"
echo "== TSan: the holder thread under load"
UCX_MEM_EVENTS=no TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest -R "^mpi\.(sizes_np2|overwrite_np2|all_to_all_np4_all|busy_holder_np3|nonblocking_np3_all|dedicated_np4_last1|many_keys_np3_every2|writer_reader|holder_death_kill|fault_corrupt|replicas_kill|list_np4_replicas|staging_drain|fault_matrix\.(put\.holder\.mid_recv\.rndv|drain\.holder\.mid_write)|fence_agree_np4_all_(decide|backup)|fence_after_death_verdict)$" \
    --output-on-failure --timeout 300 || status=1
exit $status
