# Checkpoint staging: replicas, listing, drain to files and load back.

# Two copies on four holders; one holder dies and no acknowledged key is
# lost. The survivors each print PASS (the job outlives the victim).
dkv_mpi_test(NAME replicas_kill SOURCE test_replicas.c NP 4 ARGS kill
  TIMEOUT 90 SURVIVE)
set_tests_properties(mpi.replicas_kill PROPERTIES
  ENVIRONMENT "DKV_TIMEOUT_MS=5000;DKV_FINALIZE_TIMEOUT_MS=5000;DKV_HOLDERS=all;DKV_REPLICAS=2"
  PASS_REGULAR_EXPRESSION "PASS rank [012].*PASS rank [012].*PASS rank [012]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")
# A holder gone before first contact: puts go to a stand-in, and never
# return while a copy still reads the caller's buffer (regression).
dkv_mpi_test(NAME replicas_partial SOURCE test_replicas.c NP 3 ARGS partial
  TIMEOUT 60 SURVIVE)
set_tests_properties(mpi.replicas_partial PROPERTIES
  ENVIRONMENT "DKV_TIMEOUT_MS=5000;DKV_FINALIZE_TIMEOUT_MS=5000;DKV_HOLDERS=all;DKV_REPLICAS=2"
  PASS_REGULAR_EXPRESSION "PASS rank 0" FAIL_REGULAR_EXPRESSION "FAIL rank")
# More copies than holders: writes fail with DKV_ERR_REPLICAS.
dkv_mpi_test(NAME replicas_short SOURCE test_replicas.c NP 2 ARGS short
  TIMEOUT 60 ENV DKV_HOLDERS=ranks:1 DKV_REPLICAS=2)
# More copies than holders is said at init, on rank 0, with logging off.
set_tests_properties(mpi.replicas_short PROPERTIES
  PASS_REGULAR_EXPRESSION "DKV_REPLICAS=2 but the job has only 1 holder:.*PASS rank;PASS rank.*DKV_REPLICAS=2 but the job has only 1 holder:"
  FAIL_REGULAR_EXPRESSION "FAIL rank")

# Listing across holders and copies.
dkv_mpi_test(NAME list_np4 SOURCE test_staging.c NP 4 ARGS list TIMEOUT 60
  ENV DKV_HOLDERS=all)
dkv_mpi_test(NAME list_np4_replicas SOURCE test_staging.c NP 4 ARGS list
  TIMEOUT 60 ENV DKV_HOLDERS=all DKV_REPLICAS=3)

# Drain in one job, load in jobs of other shapes, refuse damaged drains.
add_test(NAME mpi.staging_drain
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/staging_drain.sh ${DKVRUN}
          $<TARGET_FILE:test_staging>)
set_tests_properties(mpi.staging_drain PROPERTIES LABELS mpi TIMEOUT 180
  ENVIRONMENT "DKV_TIMEOUT_MS=20000"
  PASS_REGULAR_EXPRESSION "PASS staging_drain" FAIL_REGULAR_EXPRESSION "FAIL")

# One rank (a holder) dies mid-run while all write on: no acknowledged key
# is lost. The whole-node variant runs on the local cluster (tests/slurm).
dkv_mpi_test(NAME replicas_rank_loss SOURCE test_node_loss.c NP 4
  ARGS rank ${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 90 SURVIVE)
set_tests_properties(mpi.replicas_rank_loss PROPERTIES
  ENVIRONMENT "DKV_TIMEOUT_MS=5000;DKV_FINALIZE_TIMEOUT_MS=5000;DKV_HOLDERS=all;DKV_REPLICAS=2"
  PASS_REGULAR_EXPRESSION "PASS rank [012].*PASS rank [012].*PASS rank [012]"
  FAIL_REGULAR_EXPRESSION "FAIL rank")

# The holders commit a drain nobody polls; every rank is then SIGKILLed and
# a job of another shape loads the new drain (issue 12).
add_test(NAME mpi.staging_commit
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/staging_commit.sh ${DKVRUN}
          $<TARGET_FILE:test_staging>)
set_tests_properties(mpi.staging_commit PROPERTIES LABELS mpi TIMEOUT 240
  ENVIRONMENT "DKV_TIMEOUT_MS=20000"
  PASS_REGULAR_EXPRESSION "PASS staging_commit" FAIL_REGULAR_EXPRESSION "FAIL")

# fsync slowed past DKV_TIMEOUT_MS (a test-only LD_PRELOAD shim): the drain
# is slow, not failed (issue 12).
add_library(shim_fsync_slow MODULE shim_fsync_slow.c)
target_link_libraries(shim_fsync_slow PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME mpi.staging_slowsync
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/staging_slowsync.sh ${DKVRUN}
          $<TARGET_FILE:test_staging> $<TARGET_FILE:shim_fsync_slow>)
set_tests_properties(mpi.staging_slowsync PROPERTIES LABELS mpi TIMEOUT 240
  PASS_REGULAR_EXPRESSION "PASS staging_slowsync" FAIL_REGULAR_EXPRESSION "FAIL")
