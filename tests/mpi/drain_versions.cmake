# Drain lifecycle (issue 12): one drain per load, CRCs from put time,
# versions.

# A newer drain commits while one rank's load has already read the old
# manifest: the load holds one drain only (item 3).
dkv_mpi_test(NAME load_mix SOURCE test_load_mix.c NP 2
  ARGS ${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 90 ENV DKV_HOLDERS=all)
set_tests_properties(mpi.load_mix PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL")

# A value corrupted in DRAM after its put was checked: the drain keeps the
# put's CRC, so the load fails with DKV_ERR_CORRUPT (item 4).
dkv_mpi_test(NAME drain_corrupt SOURCE test_drain_corrupt.c NP 2
  ARGS ${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 60
  ENV DKV_HOLDERS=all DKV_CHECKSUM=1 DKV_FAULT=corrupt:1)
set_tests_properties(mpi.drain_corrupt PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL")

# dkv-drain ls / verify / cat / --help on a real job's drain, no job
# running (issue 13 item 3).
add_test(NAME mpi.drain_tool
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/drain_tool.sh ${DKVRUN}
          $<TARGET_FILE:test_staging> $<TARGET_FILE:dkv-drain>)
set_tests_properties(mpi.drain_tool PROPERTIES LABELS mpi TIMEOUT 120
  PASS_REGULAR_EXPRESSION "PASS drain_tool" FAIL_REGULAR_EXPRESSION "FAIL")

# Several drains kept (DKV_DRAIN_KEEP=3), the newest damaged: the load
# falls back to the one before it and says so (item 6).
dkv_mpi_test(NAME load_versions SOURCE test_load_versions.c NP 2
  ARGS ${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 90
  ENV DKV_HOLDERS=all DKV_DRAIN_KEEP=3)
set_tests_properties(mpi.load_versions PROPERTIES
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL")
