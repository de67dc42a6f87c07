# The fault matrix (issue 10): for each fault point of src/fault.h, one job
# of 4 ranks where the rank owning the point dies there (die_at) and the
# three survivors must each print PASS (test_fault_matrix.c says what they
# check). Holder points: holders 0-2, two copies, rank 1 dies. Client
# points: one copy, rank 3 (a client only) dies. Each job takes 1-4 s.
# DKV_LOG=error shows a holder that stops with an entry still pinned.
#
# Sizes: eager (3000 B), rndv (512 KiB through UCX rendezvous: run with
# DKV_NODE_COPY=0, since one node is all there is here), local (512 KiB by
# the node-local copy), - (the request has no value).
#
#   point                     value size
set(DKV_FAULT_MATRIX
  put.client.before_send      eager
  put.client.before_send      rndv
  put.client.mid_send         rndv
  put.client.before_ack       eager
  put.client.before_ack       rndv
  put.holder.before_store     eager
  put.holder.before_store     rndv
  put.holder.mid_recv         rndv
  put.holder.before_ack       eager
  put.holder.before_ack       rndv
  get.holder.before_reply     eager
  get.holder.after_reply      rndv
  get.client.before_copy      eager
  get.client.before_copy      rndv
  get.client.mid_recv         rndv
  delete.client.before_send   -
  delete.client.before_ack    -
  delete.holder.before_remove -
  delete.holder.before_ack    -
  list.client.after_send      -
  list.holder.before_reply    -
  drain.holder.before_reply   -
  drain.holder.mid_write      -
  put.client.before_send      local
  put.client.before_copy      local
  put.client.before_commit    local
  put.holder.before_store     local
  put.holder.after_grant      local
  put.holder.before_ack       local
  get.holder.after_lend       local
  get.client.before_copy      local
  get.client.mid_copy         local)

set(dkv_fm_dir ${CMAKE_CURRENT_BINARY_DIR}/fault_matrix)
file(MAKE_DIRECTORY ${dkv_fm_dir})

function(dkv_fault_matrix_test name point size replicas)
  if(point MATCHES "\\.holder\\.")
    set(victim 1)
    set(survivors "[023]")
  else()
    set(victim 3)
    set(survivors "[012]")
  endif()
  set(copy 1)
  if(size STREQUAL "rndv")
    set(copy 0)
  endif()
  set(env DKV_HOLDERS=ranks:0,1,2 DKV_REPLICAS=${replicas} DKV_NODE_COPY=${copy}
    DKV_FAULT=die_at:${point}@${victim},die_key:x/
    DKV_TIMEOUT_MS=10000 DKV_FINALIZE_TIMEOUT_MS=10000 DKV_LOG=error)
  dkv_mpi_test(NAME ${name} SOURCE test_fault_matrix.c NP 4
    ARGS ${point} ${size} ${dkv_fm_dir}/${name}
    TIMEOUT 60 SURVIVE ENV ${env})
  string(REPLACE "." "\\." re ${point})
  set(pass "PASS rank ${survivors}")
  set_tests_properties(mpi.${name} PROPERTIES
    PASS_REGULAR_EXPRESSION "dying at ${re} .*${pass}.*${pass}.*${pass}"
    FAIL_REGULAR_EXPRESSION "FAIL rank;still pinned or reserved")
endfunction()

set(list ${DKV_FAULT_MATRIX})
while(list)
  list(POP_FRONT list point size)
  set(name fault_matrix.${point})
  if(NOT size STREQUAL "-")
    set(name ${name}.${size})
  endif()
  if(point MATCHES "\\.holder\\.")
    dkv_fault_matrix_test(${name} ${point} ${size} 2)
  else()
    dkv_fault_matrix_test(${name} ${point} ${size} 1)
  endif()
endwhile()

# A few holder points again with a single copy: the dead holder's keys are
# lost (PEER_LOST, never wrong bytes), the other holders serve on.
foreach(p put.holder.mid_recv.rndv put.holder.before_ack.rndv
    get.holder.after_reply.rndv delete.holder.before_ack
    list.holder.before_reply)
  string(REGEX REPLACE "\\.(rndv|eager)$" "" point ${p})
  set(size -)
  if(p MATCHES "\\.(rndv|eager)$")
    set(size ${CMAKE_MATCH_1})
  endif()
  dkv_fault_matrix_test(fault_matrix.${p}.r1 ${point} ${size} 1)
endforeach()

