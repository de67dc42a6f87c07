# A value above 2 GiB crosses every 32-bit length on the way.
dkv_mpi_test(NAME huge_value SOURCE test_huge.c NP 2 TIMEOUT 180
  ENV "DKV_HOLDERS=ranks:1")
