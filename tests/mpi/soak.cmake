# Soak: 8 ranks, 50 epochs x (300 own + 200 cross reads + 2 fences) per rank
# = about 200,000 operations in all, every result checked against a model.
dkv_mpi_test(NAME soak_np8 SOURCE test_soak.c NP 8 ARGS 50 TIMEOUT 600
  ENV DKV_HOLDERS=every:2)
