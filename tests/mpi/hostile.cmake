# Hostile and broken input on the wire: a raw-UCX rank without the job secret.
add_executable(test_hostile test_hostile.c mpi_test_util.c)
target_include_directories(test_hostile PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(test_hostile PRIVATE dramkv dkv_pure PkgConfig::UCX
  PkgConfig::PMIX)
add_test(NAME mpi.hostile_wire
  COMMAND ${DKVRUN} -n 2 --timeout 60 -- $<TARGET_FILE:test_hostile>)
set_tests_properties(mpi.hostile_wire PROPERTIES LABELS mpi TIMEOUT 60
  ENVIRONMENT "DKV_TIMEOUT_MS=20000;DKV_FINALIZE_TIMEOUT_MS=1500;DKV_HOLDERS=ranks:0;ASAN_OPTIONS=detect_odr_violation=0"
  PASS_REGULAR_EXPRESSION "PASS victim.*PASS attacker|PASS attacker.*PASS victim"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
