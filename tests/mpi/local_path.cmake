# The node-local bulk path under slow, dying and racing clients.
dkv_mpi_test(NAME local_stop_slow SOURCE test_local_path.c NP 2
  ARGS stop_slow TIMEOUT 90 ENV DKV_HOLDERS=ranks:0)
set_tests_properties(mpi.local_stop_slow PROPERTIES ENVIRONMENT
  "DKV_TIMEOUT_MS=2000;DKV_FINALIZE_TIMEOUT_MS=1500;DKV_HOLDERS=ranks:0"
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
dkv_mpi_test(NAME local_grant_kill SOURCE test_local_path.c NP 3
  ARGS grant_kill TIMEOUT 90 SURVIVE ENV DKV_HOLDERS=ranks:0)
set_tests_properties(mpi.local_grant_kill PROPERTIES ENVIRONMENT
  "DKV_TIMEOUT_MS=5000;DKV_HOLDERS=ranks:0;DKV_HOLD_BYTES=1200k"
  PASS_REGULAR_EXPRESSION "PASS rank [02].*PASS rank [02]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
foreach(variant plain crc nocopy)
  set(env "DKV_TIMEOUT_MS=20000;DKV_HOLDERS=ranks:0;DKV_HOLD_BYTES=1700k")
  if(variant STREQUAL crc)
    string(APPEND env ";DKV_CHECKSUM=1")
  elseif(variant STREQUAL nocopy)
    string(APPEND env ";DKV_NODE_COPY=0")
  endif()
  dkv_mpi_test(NAME local_churn_${variant} SOURCE test_local_path.c NP 2
    ARGS churn TIMEOUT 120)
  set_tests_properties(mpi.local_churn_${variant} PROPERTIES ENVIRONMENT
    "${env}" PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
    FAIL_REGULAR_EXPRESSION "FAIL rank")
endforeach()
dkv_mpi_test(NAME local_idle SOURCE test_local_path.c NP 2 ARGS idle
  TIMEOUT 90 ENV DKV_HOLDERS=ranks:0)
set_tests_properties(mpi.local_idle PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
