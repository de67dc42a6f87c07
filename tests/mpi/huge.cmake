# A value above 2 GiB crosses every 32-bit length on the way.
dkv_mpi_test(NAME huge_value SOURCE test_huge.c NP 2 TIMEOUT 180
  ENV "DKV_HOLDERS=ranks:1")
# Rank 1 waits in the fence while rank 0 fills, moves and checks 2.25 GiB.
set_tests_properties(mpi.huge_value PROPERTIES
  ENVIRONMENT "DKV_TIMEOUT_MS=150000;DKV_HOLDERS=ranks:1")
