# Black-box tests of the checkpoint-staging contract (include/dramkv.h,
# issue 6): replicas, dkv_list, drain and load. One program,
# test_contract_staging.c (its header comment lists the modes), plus
# contract_staging.sh for the cases that need several jobs in a row.
# Light jobs run with DKV_TIMEOUT_MS=8000 under a short CTest timeout.
set(cs_quick DKV_TIMEOUT_MS=8000)

# States and arguments: before init, fresh context, bad args, after finalize.
dkv_mpi_test(NAME contract_staging_state SOURCE test_contract_staging.c NP 2
  ARGS state TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all)

# Replicas: round trips, non-blocking puts, overwrite, delete, listing.
dkv_mpi_test(NAME contract_staging_rep_r3_np4_all SOURCE test_contract_staging.c
  NP 4 ARGS rep TIMEOUT 40 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=3)
dkv_mpi_test(NAME contract_staging_rep_r2_np3_ranks SOURCE test_contract_staging.c
  NP 3 ARGS rep TIMEOUT 40 ENV ${cs_quick} DKV_HOLDERS=ranks:0,2 DKV_REPLICAS=2)

# Holders killed (SIGKILL on themselves) after a fence. The job outlives
# them; every survivor must print PASS.
#   r2_np4:      2 copies, 4 holders, 1 killed: nothing lost, writes go on.
#   r3_np5_two:  3 copies, 5 holders, 2 killed: nothing lost, writes go on.
#   r3_np3:      3 copies, 3 holders, 1 killed: nothing lost, writes refused
#                with DKV_ERR_REPLICAS.
set(cs_kill_env "DKV_TIMEOUT_MS=5000;DKV_FINALIZE_TIMEOUT_MS=5000;DKV_HOLDERS=all")
dkv_mpi_test(NAME contract_staging_kill_r2_np4 SOURCE test_contract_staging.c
  NP 4 ARGS kill 1 TIMEOUT 60 SURVIVE)
set_tests_properties(mpi.contract_staging_kill_r2_np4 PROPERTIES
  ENVIRONMENT "${cs_kill_env};DKV_REPLICAS=2"
  PASS_REGULAR_EXPRESSION "PASS rank [0-2].*PASS rank [0-2].*PASS rank [0-2]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
dkv_mpi_test(NAME contract_staging_kill_r3_np5_two SOURCE test_contract_staging.c
  NP 5 ARGS kill 2 TIMEOUT 60 SURVIVE)
set_tests_properties(mpi.contract_staging_kill_r3_np5_two PROPERTIES
  ENVIRONMENT "${cs_kill_env};DKV_REPLICAS=3"
  PASS_REGULAR_EXPRESSION "PASS rank [0-2].*PASS rank [0-2].*PASS rank [0-2]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
dkv_mpi_test(NAME contract_staging_kill_r3_np3 SOURCE test_contract_staging.c
  NP 3 ARGS kill 1 TIMEOUT 60 SURVIVE)
set_tests_properties(mpi.contract_staging_kill_r3_np3 PROPERTIES
  ENVIRONMENT "${cs_kill_env};DKV_REPLICAS=3"
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")

#   r2_np4_two:  2 copies, 4 holders, 2 killed: some keys lose both copies:
#                they give PEER_LOST, dkv_list returns PEER_LOST and visits
#                exactly the others; writes go on (2 live holders).
dkv_mpi_test(NAME contract_staging_kill_r2_np4_two SOURCE test_contract_staging.c
  NP 4 ARGS kill 2 TIMEOUT 60 SURVIVE)
set_tests_properties(mpi.contract_staging_kill_r2_np4_two PROPERTIES
  ENVIRONMENT "${cs_kill_env};DKV_REPLICAS=2"
  PASS_REGULAR_EXPRESSION "PASS rank [01].*PASS rank [01]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")

# More copies than holders: writes fail with DKV_ERR_REPLICAS, nothing stored.
dkv_mpi_test(NAME contract_staging_short_r3_h2 SOURCE test_contract_staging.c
  NP 3 ARGS short TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=ranks:1,2 DKV_REPLICAS=3)
dkv_mpi_test(NAME contract_staging_short_r8_h2 SOURCE test_contract_staging.c
  NP 2 ARGS short TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=8)

# Invalid replica counts fail dkv_init with DKV_ERR_INVALID on every rank.
foreach(v 0 9 abc -1 2x)
  dkv_mpi_test(NAME contract_staging_badinit_env_${v} SOURCE test_contract_staging.c
    NP 2 ARGS badinit TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=${v})
endforeach()
foreach(v 0 9)
  dkv_mpi_test(NAME contract_staging_badinit_param_${v} SOURCE test_contract_staging.c
    NP 2 ARGS badinit ${v} TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all)
endforeach()

# The init parameter beats DKV_REPLICAS (2 holders): param 3 over env 1
# refuses writes, param 2 over env 3 (or over an invalid env) accepts them.
dkv_mpi_test(NAME contract_staging_param_3_over_env_1 SOURCE test_contract_staging.c
  NP 2 ARGS param 3 replicas TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=1)
dkv_mpi_test(NAME contract_staging_param_2_over_env_3 SOURCE test_contract_staging.c
  NP 2 ARGS param 2 ok TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=3)
dkv_mpi_test(NAME contract_staging_param_2_over_env_bad SOURCE test_contract_staging.c
  NP 2 ARGS param 2 ok TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=abc)

# Listing across holders and copies.
dkv_mpi_test(NAME contract_staging_list_np4_h2 SOURCE test_contract_staging.c
  NP 4 ARGS list TIMEOUT 40 ENV ${cs_quick} DKV_HOLDERS=ranks:1,3)
dkv_mpi_test(NAME contract_staging_list_np4_r3 SOURCE test_contract_staging.c
  NP 4 ARGS list TIMEOUT 40 ENV ${cs_quick} DKV_HOLDERS=all DKV_REPLICAS=3)

# Drain into /proc: nobody can create files there, root included (and
# access(W_OK) says yes to root).
dkv_mpi_test(NAME contract_staging_drain_unwritable_proc SOURCE test_contract_staging.c
  NP 2 ARGS drain_unwritable TIMEOUT 30 ENV ${cs_quick} DKV_HOLDERS=all)

# Drain and load across jobs (contract_staging.sh CASE):
#   errors  bad drain/load directories, then a good drain in the same job
#   unwritable  an immutable directory (chattr +i)
#   empty   an empty store drains and loads as empty (same job, new job)
#   main    the staging sequence, then loads into other job shapes
#   dedicated  drain and load with a dedicated holder
#   damage  damaged copies of a drain load nothing, name the file
# Each directory holds one drain here (DKV_DRAIN_KEEP=1: a new drain
# replaces the old one); several versions are tested in drain_versions.
foreach(case errors unwritable empty main dedicated damage)
  add_test(NAME mpi.contract_staging_drain_${case}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/contract_staging.sh ${DKVRUN}
            $<TARGET_FILE:test_contract_staging> ${case})
  set_tests_properties(mpi.contract_staging_drain_${case} PROPERTIES
    LABELS mpi TIMEOUT 120
    ENVIRONMENT "DKV_TIMEOUT_MS=10000;DKV_DRAIN_KEEP=1"
    PASS_REGULAR_EXPRESSION "PASS contract_staging ${case}"
    FAIL_REGULAR_EXPRESSION "FAIL")
endforeach()
