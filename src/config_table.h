/*
 * config_table: every DKV_* environment variable, in one X-macro list.
 * Columns: NAME (variable DKV_<NAME>), type, default text, help text.
 * Types: string, uint (unsigned), size (bytes with k/m/g/t suffix), bool.
 * This table expands into dkv__config_t, the parser and the printed dump.
 */
DKV_CFG(LOG, string, "", "log level: error|warn|info|debug|trace (unset: silent)")
DKV_CFG(TIMEOUT_MS, uint, "60000", "deadline of any blocking call, in ms")
DKV_CFG(HOLDERS, string, "node", "which ranks hold: node|all|last:K|every:N|ranks:LIST")
DKV_CFG(HOLD_BYTES, size, "0", "bytes each holder may store (0: half the node's memory / holders on it)")
DKV_CFG(REPLICAS, uint, "1", "copies of every key, on different holders (and nodes when possible), 1..8")
DKV_CFG(DEDICATED, bool, "0", "holders only serve (dkv_serve) and skip fences")
DKV_CFG(SPIN_US, uint, "50", "microseconds to poll after activity before sleeping")
DKV_CFG(RNDV_THRESH, size, "32k", "values this large or larger go zero-copy (rendezvous)")
DKV_CFG(PRINT_CONFIG, bool, "0", "print the effective settings at init (rank 0)")
DKV_CFG(CHECKSUM, bool, "0", "CRC32C of every value, checked at the holder and at get")
DKV_CFG(FAULT, string, "", "fault injection for tests: kill_after:N,drop_acks:N,delay_ack:MS,corrupt:N,die_at:POINT[:N][@RANK],die_key:PREFIX (src/fault.h)")
DKV_CFG(FINALIZE_TIMEOUT_MS, uint, "0", "how long dkv_finalize waits for the other ranks (0: 10 x DKV_TIMEOUT_MS)")
DKV_CFG(NODE_COPY, bool, "1", "on one node, large values are copied by the client itself (process_vm_readv/writev), not through UCX")
DKV_CFG(DRAIN_KEEP, uint, "2", "complete drains a directory keeps (newest first; older ones are removed at each commit), at least 1")
