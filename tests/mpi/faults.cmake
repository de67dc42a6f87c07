# Peer failures: the job must survive the victim (dkvrun --survive), so
# mpirun's exit code says nothing; the three survivors must each print PASS.
foreach(mode kill stop)
  set(name holder_death_${mode})
  dkv_mpi_test(NAME ${name} SOURCE test_holder_death.c NP 4 ARGS ${mode}
    TIMEOUT 90 SURVIVE ENV "DKV_HOLDERS=ranks:1,3")
  set_tests_properties(mpi.${name} PROPERTIES
    ENVIRONMENT "DKV_TIMEOUT_MS=5000;DKV_FINALIZE_TIMEOUT_MS=5000;DKV_HOLDERS=ranks:1,3"
    PASS_REGULAR_EXPRESSION "PASS rank [023].*PASS rank [023].*PASS rank [023]"
    FAIL_REGULAR_EXPRESSION "FAIL rank")
endforeach()

# Injected faults: corruption caught by checksums, dropped and late acks.
dkv_mpi_test(NAME fault_corrupt SOURCE test_integrity.c NP 2 ARGS corrupt
  TIMEOUT 60 ENV DKV_HOLDERS=ranks:1 DKV_CHECKSUM=1 DKV_FAULT=corrupt:3)
dkv_mpi_test(NAME fault_drop_acks SOURCE test_integrity.c NP 2 ARGS drop
  TIMEOUT 60 ENV DKV_HOLDERS=ranks:1 DKV_FAULT=drop_acks:5)
set_tests_properties(mpi.fault_drop_acks PROPERTIES ENVIRONMENT
  "DKV_TIMEOUT_MS=2000;DKV_HOLDERS=ranks:1;DKV_FAULT=drop_acks:5")
dkv_mpi_test(NAME fault_delay_acks SOURCE test_integrity.c NP 2 ARGS delay
  TIMEOUT 60 ENV DKV_HOLDERS=ranks:1 DKV_FAULT=delay_ack:300)

# A process dies mid-transfer; no other process may crash (issue 10).
dkv_mpi_test(NAME crash_client_put SOURCE test_crash_midflight.c NP 3
  ARGS client_put TIMEOUT 90 SURVIVE ENV DKV_HOLDERS=ranks:0)
set_tests_properties(mpi.crash_client_put PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [02].*PASS rank [02]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
dkv_mpi_test(NAME crash_holder_get SOURCE test_crash_midflight.c NP 4
  ARGS holder_get TIMEOUT 90 SURVIVE ENV DKV_HOLDERS=ranks:0,1 DKV_REPLICAS=2)
set_tests_properties(mpi.crash_holder_get PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [023].*PASS rank [023].*PASS rank [023]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
dkv_mpi_test(NAME crash_reader_pin SOURCE test_crash_midflight.c NP 3
  ARGS reader_pin TIMEOUT 90 SURVIVE ENV DKV_HOLDERS=ranks:0 DKV_HOLD_BYTES=3m
  DKV_RNDV_THRESH=8192)
set_tests_properties(mpi.crash_reader_pin PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [02].*PASS rank [02]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")

# Regression (issue 10): once a member is dead, the fences after it are
# still a barrier and an agreement among the survivors
# (test_fence_after_death.c says what each mode checks).
foreach(mode visible verdict drain)
  dkv_mpi_test(NAME fence_after_death_${mode} SOURCE test_fence_after_death.c
    NP 4 ARGS ${mode} ${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 60 SURVIVE
    ENV DKV_HOLDERS=ranks:0,1 DKV_REPLICAS=2 DKV_HOLD_BYTES=4m
    DKV_TIMEOUT_MS=10000 DKV_FINALIZE_TIMEOUT_MS=10000)
  set_tests_properties(mpi.fence_after_death_${mode} PROPERTIES
    PASS_REGULAR_EXPRESSION "PASS rank [012].*PASS rank [012].*PASS rank [012]"
    FAIL_REGULAR_EXPRESSION "FAIL rank")
endforeach()
