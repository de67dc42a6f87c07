/*
 * test_survive_mpi: test_survive.c as an MPI program (MPI_Init before
 * dkv_init): what happens to an MPI code when a rank dies.
 */
#define DKV_SURVIVE_MPI 1
#include "test_survive.c"
