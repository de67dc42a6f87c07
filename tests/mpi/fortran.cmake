# The Fortran module (bindings/fortran): tests/mpi/test_fortran.f90 on 2
# ranks (only rank 0 prints the pass line; every rank must exit 0).
if(TARGET dramkv_fortran)
  add_executable(test_fortran test_fortran.f90)
  target_link_libraries(test_fortran PRIVATE dramkv_fortran)
  add_test(NAME mpi.fortran_np2
    COMMAND ${DKVRUN} -n 2 --timeout 60 -- $<TARGET_FILE:test_fortran>)
  set_tests_properties(mpi.fortran_np2 PROPERTIES LABELS "mpi;fortran"
    TIMEOUT 60 ENVIRONMENT "DKV_TIMEOUT_MS=20000"
    PASS_REGULAR_EXPRESSION "fortran test passed"
    FAIL_REGULAR_EXPRESSION "FAILED")
endif()
