# The jobs run on the local cluster, each under srun and under mpirun (see
# CMakeLists.txt). Programs and settings come from tests/mpi/*.cmake and
# examples/; here they run with 4 ranks on 2 nodes, with holders on both
# nodes so that puts, gets and fences cross TCP.

# Known bug (reported): under srun dkv_init fails with the default
# DKV_HOLDERS=node on more than one node. src/boot_pmix.c reads
# PMIX_LOCAL_RANK of every rank, and Slurm's PMIx server (22.05) gives it
# only for ranks on the caller's node (NOT-FOUND for the others; Open MPI
# gives it for all). With one rank per node, "all" is the same layout as
# "node", so the srun writer/reader jobs use it until the fix.
set(DKV_SLURM_HOLDERS_FIX "DKV_HOLDERS=all")

# The two-rank hand-off, one rank per node.
dkv_slurm_job(NAME writer_reader TARGET writer_reader NP 2
  ENV ${DKV_SLURM_HOLDERS_FIX} PASS "all data verified")
dkv_slurm_job(NAME writer_reader_holders_node TARGET writer_reader NP 2
  PASS "all data verified"
  SRUN_DISABLED "PMIX_LOCAL_RANK of remote ranks (see above)")

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
