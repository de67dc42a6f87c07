# Behaviour tests of the API contract (include/dramkv.h): real jobs through
# launch/dkvrun, under several holder layouts. Each program's header comment
# says what it checks; MPI marks the programs that call MPI themselves.
#
# Light tests set DKV_TIMEOUT_MS=8000 (it overrides the 20 s default of
# dkv_mpi_test) under a 25 s CTest timeout, so a hang reports the call and
# status that timed out before CTest kills the job. Heavy ones (64 MiB
# values at 8 ranks, 100,000 keys, 12 ranks, the 2 s busy holder) keep 20 s.
set(contract_quick DKV_TIMEOUT_MS=8000)

# 1. Value sizes 0 B .. 64 MiB round trip.
dkv_mpi_test(NAME sizes_np2 SOURCE test_sizes.c NP 2 TIMEOUT 25
  ENV ${contract_quick})
dkv_mpi_test(NAME sizes_np3_all SOURCE test_sizes.c NP 3 TIMEOUT 25
  ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME sizes_np8_every3 SOURCE test_sizes.c NP 8 TIMEOUT 60
  ENV DKV_HOLDERS=every:3)

# 2. Overwrite, delete, NOT_FOUND, TRUNCATED; same-key issue order.
dkv_mpi_test(NAME overwrite_np2 SOURCE test_overwrite.c NP 2 TIMEOUT 25
  ENV ${contract_quick})
dkv_mpi_test(NAME overwrite_np3_all SOURCE test_overwrite.c NP 3 TIMEOUT 25
  ENV ${contract_quick} DKV_HOLDERS=all)

# 3. 100,000 small keys over several holders.
dkv_mpi_test(NAME many_keys_np4_all SOURCE test_many_keys.c NP 4 TIMEOUT 60
  ENV DKV_HOLDERS=all)
dkv_mpi_test(NAME many_keys_np3_every2 SOURCE test_many_keys.c NP 3
  ARGS 30000 TIMEOUT 60 ENV DKV_HOLDERS=every:2)

# 4. Every rank writes, every rank reads everything.
dkv_mpi_test(NAME all_to_all_np4_all SOURCE test_all_to_all.c NP 4
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME all_to_all_np3_node SOURCE test_all_to_all.c NP 3
  TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME all_to_all_np5_ranks SOURCE test_all_to_all.c NP 5
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:1,3-4)

# 5. A computing holder still serves.
dkv_mpi_test(NAME busy_holder_np3 SOURCE test_busy_holder.c NP 3 MPI
  TIMEOUT 40 ENV DKV_HOLDERS=ranks:0)
dkv_mpi_test(NAME busy_holder_np2_node SOURCE test_busy_holder.c NP 2 MPI
  TIMEOUT 40)

# 6. Reading one's own writes after one's own quiet.
dkv_mpi_test(NAME self_np3_all SOURCE test_self.c NP 3 TIMEOUT 25
  ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME self_np1 SOURCE test_self.c NP 1 TIMEOUT 25
  ENV ${contract_quick})

# 7. Non-blocking puts and gets.
dkv_mpi_test(NAME nonblocking_np2 SOURCE test_nonblocking.c NP 2
  TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME nonblocking_np3_all SOURCE test_nonblocking.c NP 3
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)

# 8. Dedicated holders (ARGS: the ranks expected to be dedicated holders).
dkv_mpi_test(NAME dedicated_np4_last1 SOURCE test_dedicated.c NP 4 ARGS 3
  TIMEOUT 25 ENV ${contract_quick} DKV_DEDICATED=1 DKV_HOLDERS=last:1)
dkv_mpi_test(NAME dedicated_np3_rank0 SOURCE test_dedicated.c NP 3 ARGS 0
  TIMEOUT 25 ENV ${contract_quick} DKV_DEDICATED=1 DKV_HOLDERS=ranks:0)
dkv_mpi_test(NAME dedicated_np4_two SOURCE test_dedicated.c NP 4 ARGS 0,2
  TIMEOUT 25 ENV ${contract_quick} DKV_DEDICATED=1 DKV_HOLDERS=every:2)

# 9. dkv_finalize completes outstanding writes (ARGS: the reader's rank).
dkv_mpi_test(NAME finalize_flush_dedicated SOURCE test_finalize_flush.c
  NP 3 ARGS 2 TIMEOUT 25
  ENV ${contract_quick} DKV_DEDICATED=1 DKV_HOLDERS=ranks:0)
dkv_mpi_test(NAME finalize_flush_reader_holds SOURCE test_finalize_flush.c
  NP 3 ARGS 0 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:0)
dkv_mpi_test(NAME finalize_flush_all SOURCE test_finalize_flush.c
  NP 4 ARGS 0 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)

# 10. Misuse and bad settings (test_bad_env ARGS: the word the log must name).
dkv_mpi_test(NAME misuse_calls SOURCE test_misuse.c NP 2 ARGS calls
  TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME misuse_after_finalize SOURCE test_misuse.c NP 2
  ARGS after-finalize TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME bad_holders_word SOURCE test_bad_env.c NP 3 MPI
  ARGS bogus TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=bogus)
dkv_mpi_test(NAME bad_holders_last0 SOURCE test_bad_env.c NP 3 MPI
  ARGS last:0 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=last:0)
dkv_mpi_test(NAME bad_holders_last_too_many SOURCE test_bad_env.c NP 3 MPI
  ARGS last:9 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=last:9)
dkv_mpi_test(NAME bad_holders_every0 SOURCE test_bad_env.c NP 3 MPI
  ARGS every:0 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=every:0)
dkv_mpi_test(NAME bad_holders_rank_range SOURCE test_bad_env.c NP 3 MPI
  ARGS 5 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:1,5)
dkv_mpi_test(NAME bad_holders_list_text SOURCE test_bad_env.c NP 3 MPI
  ARGS x TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:1,x)
dkv_mpi_test(NAME bad_holders_retry SOURCE test_bad_env.c NP 3 MPI
  ARGS bogus retry TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=bogus)
dkv_mpi_test(NAME bad_timeout_ms SOURCE test_bad_env.c NP 2 MPI
  ARGS - TIMEOUT 25 ENV DKV_TIMEOUT_MS=abc)
dkv_mpi_test(NAME bad_hold_bytes SOURCE test_bad_env.c NP 2 MPI
  ARGS - TIMEOUT 25 ENV ${contract_quick} DKV_HOLD_BYTES=12q)
dkv_mpi_test(NAME bad_dedicated SOURCE test_bad_env.c NP 2 MPI
  ARGS - TIMEOUT 25 ENV ${contract_quick} DKV_DEDICATED=maybe)

# 11. Holder memory limit.
dkv_mpi_test(NAME hold_bytes_np2 SOURCE test_hold_bytes.c NP 2 TIMEOUT 25
  ENV ${contract_quick} DKV_HOLDERS=ranks:0 DKV_HOLD_BYTES=1m)
dkv_mpi_test(NAME hold_bytes_np1_k SOURCE test_hold_bytes.c NP 1
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLD_BYTES=1024k)
dkv_mpi_test(NAME hold_bytes_np3_params SOURCE test_hold_bytes.c NP 3
  ARGS params TIMEOUT 25
  ENV ${contract_quick} DKV_HOLDERS=last:1 DKV_HOLD_BYTES=1g)

# 12. MPI initialised before or after dramkv.
dkv_mpi_test(NAME mpi_before SOURCE test_mpi_interplay.c NP 3 MPI
  ARGS before TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME mpi_after SOURCE test_mpi_interplay.c NP 3 MPI
  ARGS after TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME mpi_mixed SOURCE test_mpi_interplay.c NP 3 MPI
  ARGS mixed TIMEOUT 25 ENV ${contract_quick})

# 13. One verdict from dkv_fence on every rank.
dkv_mpi_test(NAME fence_verdict_np3 SOURCE test_fence_verdict.c NP 3 MPI
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:0 DKV_HOLD_BYTES=64k)
dkv_mpi_test(NAME fence_verdict_np4 SOURCE test_fence_verdict.c NP 4 MPI
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:0 DKV_HOLD_BYTES=64k)

# Holder layouts from DKV_HOLDERS and dkv_init_params (ARGS: expected
# holder ranks [, params.holders]).
dkv_mpi_test(NAME holder_layout_node SOURCE test_holder_layout.c NP 3
  ARGS 0 TIMEOUT 25 ENV ${contract_quick})
dkv_mpi_test(NAME holder_layout_all SOURCE test_holder_layout.c NP 3
  ARGS 0,1,2 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME holder_layout_last2 SOURCE test_holder_layout.c NP 4
  ARGS 2,3 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=last:2)
dkv_mpi_test(NAME holder_layout_every2 SOURCE test_holder_layout.c NP 5
  ARGS 0,2,4 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=every:2)
dkv_mpi_test(NAME holder_layout_ranks_list SOURCE test_holder_layout.c
  NP 12 ARGS 1,3,8,9,10,11 TIMEOUT 60 ENV DKV_HOLDERS=ranks:1,3,8-11)
dkv_mpi_test(NAME holder_layout_ranks_dups SOURCE test_holder_layout.c NP 3
  ARGS 1,2 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=ranks:2,1-2)
dkv_mpi_test(NAME holder_layout_params SOURCE test_holder_layout.c NP 3
  ARGS 2 last:1 TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)

# Fences straight after dkv_init (a start-up message loss shows here first).
dkv_mpi_test(NAME fence_startup_np2_all SOURCE test_fence_startup.c NP 2
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME fence_startup_np4_all SOURCE test_fence_startup.c NP 4
  TIMEOUT 25 ENV ${contract_quick} DKV_HOLDERS=all)
dkv_mpi_test(NAME fence_startup_np4_node SOURCE test_fence_startup.c NP 4
  TIMEOUT 25 ENV ${contract_quick})
