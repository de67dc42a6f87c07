# The writer/reader example as a test.
if(TARGET writer_reader)
add_test(NAME mpi.writer_reader
  COMMAND ${DKVRUN} -n 2 --timeout 120 -- $<TARGET_FILE:writer_reader>)
set_tests_properties(mpi.writer_reader PROPERTIES LABELS mpi TIMEOUT 120
  PASS_REGULAR_EXPRESSION "all data verified")
endif()
