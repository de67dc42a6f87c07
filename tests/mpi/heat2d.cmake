# examples/heat2d: the same grid, bit for bit, for any rank count and across
# a crash and a restart from the drain (tests/mpi/heat2d_restart.sh runs the
# jobs through launch/dkvrun and compares the grids).
#   heat2d_plain              1 rank vs 3 ranks with checkpoints in DRAM
#   heat2d_dram               3 ranks lose their grid after step 65 and
#                             resume from the checkpoint in DRAM
#   heat2d_restart            2 ranks, killed after step 60, restarted on 2
#   heat2d_restart_2to3/3to2  the restart job has another rank count
# heat2d_f (examples/heat2d_f.f90): the Fortran code against the C one - a
# C run is the reference grid of heat2d_f_plain, _dram and _restart_2to3.
#
#   heat2d_tests(<prefix> <program target> <labels> <env> <spec>...)
#   spec = name:mode-and-rank-counts (see heat2d_restart.sh)
function(heat2d_tests prefix prog labels env)
  foreach(spec ${ARGN})
    string(REPLACE ":" ";" t ${spec})
    list(GET t 0 name)
    list(SUBLIST t 1 -1 nps)
    string(REGEX REPLACE "_.*" "" mode ${name})
    add_test(NAME mpi.${prefix}_${name}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/heat2d_restart.sh ${DKVRUN}
              $<TARGET_FILE:${prog}> ${mode} ${nps})
    set_tests_properties(mpi.${prefix}_${name} PROPERTIES
      LABELS "${labels}" TIMEOUT 90
      ENVIRONMENT "DKV_TIMEOUT_MS=20000;${env}"
      PASS_REGULAR_EXPRESSION "heat2d test passed"
      FAIL_REGULAR_EXPRESSION "heat2d test FAILED")
  endforeach()
endfunction()

if(TARGET heat2d)
  heat2d_tests(heat2d heat2d "mpi;mpilib" ""
    plain:1:3 dram:1:3 restart:2:2:2 restart_2to3:2:2:3 restart_3to2:3:3:2)
endif()
if(TARGET heat2d AND TARGET heat2d_f)
  heat2d_tests(heat2d_f heat2d_f "mpi;mpilib;fortran"
    "HEAT2D_REF=$<TARGET_FILE:heat2d>" plain:1:3 dram:1:3 restart_2to3:2:2:3)
endif()
