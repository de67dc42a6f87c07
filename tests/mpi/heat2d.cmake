# examples/heat2d: the same grid, bit for bit, for any rank count and across
# a crash and a restart from the drain (tests/mpi/heat2d_restart.sh runs the
# jobs through launch/dkvrun and compares the grids).
#   heat2d_plain              1 rank vs 3 ranks with checkpoints in DRAM
#   heat2d_dram               3 ranks lose their grid after step 65 and
#                             resume from the checkpoint in DRAM
#   heat2d_restart            2 ranks, killed after step 60, restarted on 2
#   heat2d_restart_2to3/3to2  the restart job has another rank count
if(TARGET heat2d)
  # name:mode-and-rank-counts (see heat2d_restart.sh for the arguments)
  foreach(spec plain:1:3 dram:1:3 restart:2:2:2 restart_2to3:2:2:3
      restart_3to2:3:3:2)
    string(REPLACE ":" ";" t ${spec})
    list(GET t 0 name)
    list(SUBLIST t 1 -1 nps)
    string(REGEX REPLACE "_.*" "" mode ${name})
    add_test(NAME mpi.heat2d_${name}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/heat2d_restart.sh ${DKVRUN}
              $<TARGET_FILE:heat2d> ${mode} ${nps})
    set_tests_properties(mpi.heat2d_${name} PROPERTIES
      LABELS "mpi;mpilib" TIMEOUT 90
      ENVIRONMENT "DKV_TIMEOUT_MS=20000"
      PASS_REGULAR_EXPRESSION "heat2d test passed"
      FAIL_REGULAR_EXPRESSION "heat2d test FAILED")
  endforeach()
endif()

# heat2d_f (examples/heat2d_f.f90): the Fortran code against the C one - a
# 1-rank C run is the reference for 3 Fortran ranks with checkpoints, for a
# Fortran run that loses its grid, and for a killed and restarted one.
if(TARGET heat2d AND TARGET heat2d_f)
  foreach(spec plain:1:3 dram:1:3 restart_2to3:2:2:3)
    string(REPLACE ":" ";" t ${spec})
    list(GET t 0 name)
    list(SUBLIST t 1 -1 nps)
    string(REGEX REPLACE "_.*" "" mode ${name})
    add_test(NAME mpi.heat2d_f_${name}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/heat2d_restart.sh ${DKVRUN}
              $<TARGET_FILE:heat2d_f> ${mode} ${nps})
    set_tests_properties(mpi.heat2d_f_${name} PROPERTIES
      LABELS "mpi;mpilib;fortran" TIMEOUT 90
      ENVIRONMENT "DKV_TIMEOUT_MS=20000;HEAT2D_REF=$<TARGET_FILE:heat2d>"
      PASS_REGULAR_EXPRESSION "heat2d test passed"
      FAIL_REGULAR_EXPRESSION "heat2d test FAILED")
  endforeach()
endif()
