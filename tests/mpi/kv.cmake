# Key/value semantics (issue 14): generations, ranges, put_if races, a
# shared counter. One holder on the node (the others read it through the
# node-local path), every rank a holder, and two copies of every key.
dkv_mpi_test(NAME kv_np2 SOURCE test_kv.c MPI NP 2 TIMEOUT 60)
dkv_mpi_test(NAME kv_np3_all SOURCE test_kv.c MPI NP 3 TIMEOUT 60
  ENV DKV_HOLDERS=all)
dkv_mpi_test(NAME kv_np3_r2 SOURCE test_kv.c MPI NP 3 TIMEOUT 60
  ENV DKV_HOLDERS=all DKV_REPLICAS=2)
# With value checksums: a partial range is not checked against the
# whole value's CRC, a full one is.
dkv_mpi_test(NAME kv_np2_crc SOURCE test_kv.c MPI NP 2 TIMEOUT 60
  ENV DKV_CHECKSUM=1)
