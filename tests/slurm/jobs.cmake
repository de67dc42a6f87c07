# The jobs run on the local cluster, each under srun and under mpirun (see
# CMakeLists.txt). Programs and settings come from tests/mpi/*.cmake and
# examples/; here they run with 4 ranks on 2 nodes, with holders on both
# nodes so that puts, gets and fences cross TCP.

# The two-rank hand-off, one rank per node, with explicit holders and with
# the default DKV_HOLDERS=node. Regression: Slurm's PMIx server (22.05)
# gives PMIX_LOCAL_RANK only for ranks on the caller's node, so the default
# once failed under srun on two nodes; dramkv now numbers ranks by hostname.
dkv_slurm_job(NAME writer_reader TARGET writer_reader NP 2
  ENV DKV_HOLDERS=all PASS "all data verified")
dkv_slurm_job(NAME writer_reader_holders_node TARGET writer_reader NP 2
  PASS "all data verified")
dkv_slurm_job(NAME all_to_all_holders_node TARGET test_all_to_all NP 4)

# Core API tests (tests/mpi), holders on both nodes.
dkv_slurm_job(NAME sizes TARGET test_sizes NP 4 ENV DKV_HOLDERS=all)
dkv_slurm_job(NAME overwrite TARGET test_overwrite NP 4 ENV DKV_HOLDERS=all)
dkv_slurm_job(NAME all_to_all TARGET test_all_to_all NP 4 ENV DKV_HOLDERS=all)
dkv_slurm_job(NAME nonblocking TARGET test_nonblocking NP 4
  ENV DKV_HOLDERS=every:2)
dkv_slurm_job(NAME dedicated TARGET test_dedicated NP 4 ARGS 0,2
  ENV DKV_DEDICATED=1 DKV_HOLDERS=every:2)
dkv_slurm_job(NAME busy_holder TARGET test_busy_holder NP 4
  ENV DKV_HOLDERS=ranks:0)
dkv_slurm_job(NAME fence_verdict TARGET test_fence_verdict NP 4
  ENV DKV_HOLDERS=ranks:0 DKV_HOLD_BYTES=64k)
dkv_slurm_job(NAME mpi_mixed TARGET test_mpi_interplay NP 4 ARGS mixed
  ENV DKV_HOLDERS=all)
