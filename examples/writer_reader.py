#!/usr/bin/env python3
"""writer_reader.py: the two-rank hand-off of writer_reader.c in Python.

Rank 0 writes a string, a 4x4 float32 tensor and a 64 MiB numpy array;
fence; rank 1 reads them back - the arrays straight into numpy arrays of
its own (get_into, no copy) - verifies them and prints what it verified.
Exits non-zero on any mismatch or error.

    PYTHONPATH=$(pkg-config --variable=pythondir dramkv) \\
        mpirun -np 2 python3 writer_reader.py
"""

import argparse
import sys
import time

import numpy as np

import dramkv

BIG_BYTES = 64 << 20


def big_array():
    i = np.arange(BIG_BYTES, dtype=np.uint64)
    return ((i * 2654435761) >> 13).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=BIG_BYTES >> 20,
                        help="size of the big array in MiB (default 64)")
    args = parser.parse_args()
    big = big_array()[: args.mib << 20]
    tensor = np.arange(16, dtype=np.float32).reshape(4, 4) / 3

    with dramkv.init() as kv:
        if kv.size < 2:
            print("writer_reader.py: needs 2 ranks", file=sys.stderr)
            return 1
        if kv.rank == 0:
            t0 = time.perf_counter()
            kv.put("greeting", b"Data from rank 0")
            kv.put("tensor", tensor)
            kv.put("big", big)
            print(f"rank 0: wrote 3 values in "
                  f"{(time.perf_counter() - t0) * 1e3:.1f} ms")
        kv.fence()
        if kv.rank == 1:
            t0 = time.perf_counter()
            assert kv.get("greeting") == b"Data from rank 0"
            t = np.empty((4, 4), dtype=np.float32)
            assert kv.get_into("tensor", t) == tensor.nbytes
            assert np.array_equal(t, tensor)
            b = np.empty_like(big)
            assert kv.get_into("big", b) == big.nbytes
            assert np.array_equal(b, big)
            ms = (time.perf_counter() - t0) * 1e3
            print(f"rank 1: string, 4x4 tensor and {big.nbytes} bytes "
                  f"read in {ms:.1f} ms")
            print("rank 1: all data verified")
        kv.fence()
    return 0


if __name__ == "__main__":
    sys.exit(main())
