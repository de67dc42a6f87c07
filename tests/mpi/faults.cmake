# Peer failures: the job must survive the victim (dkvrun --survive), so
# mpirun's exit code says nothing; the three survivors must each print PASS.
foreach(mode kill stop)
  set(name holder_death_${mode})
  dkv_mpi_test(NAME ${name} SOURCE test_holder_death.c NP 4 ARGS ${mode}
    TIMEOUT 90 SURVIVE ENV "DKV_HOLDERS=ranks:1,3")
  set_tests_properties(mpi.${name} PROPERTIES
    ENVIRONMENT "DKV_TIMEOUT_MS=5000;DKV_HOLDERS=ranks:1,3"
    PASS_REGULAR_EXPRESSION "PASS rank [023].*PASS rank [023].*PASS rank [023]"
    FAIL_REGULAR_EXPRESSION "FAIL rank")
endforeach()
