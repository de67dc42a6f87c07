# A holder killed from outside while the others go on working for a while
# (issue 10). Started by tests/slurm/check_survive.sh, under srun and under
# mpirun across the local cluster's two emulated nodes; not an mpi test of
# its own (it runs for 15 s or more by design).
dkv_mpi_program(test_survive.c)
dkv_mpi_program(test_survive_mpi.c MPI)
