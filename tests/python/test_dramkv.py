"""The Python package dramkv on 2 ranks: every call, every buffer kind,
the errors it raises. Rank 0 writes, both ranks read after a fence."""

import os
import shutil

import numpy as np
import pytest

import dramkv


def test_job_facts(kv):
    assert kv.size == 2
    assert 0 <= kv.rank < kv.size
    assert isinstance(kv.is_holder, bool)
    assert kv.num_holders >= 1
    assert dramkv.version() == dramkv.VERSION


@pytest.mark.parametrize("value", [
    b"bytes value",
    bytearray(b"a bytearray"),
    memoryview(b"a memoryview of bytes"),
    b"",
])
def test_put_get_buffers(kv, value):
    if kv.rank == 0:
        kv.put("py/buf", value)
    kv.fence()
    assert kv.get("py/buf") == bytes(value)
    kv.fence()


def test_numpy_get_into_is_the_array(kv):
    a = np.arange(100000, dtype=np.float64).reshape(250, 400)  # 800 KB
    if kv.rank == 0:
        kv.put("py/np", a)
    kv.fence()
    b = np.zeros_like(a)
    before = b.ctypes.data
    assert kv.get_into("py/np", b) == a.nbytes
    assert b.ctypes.data == before  # filled in place, not replaced
    assert np.array_equal(a, b)
    view = memoryview(bytearray(a.nbytes + 16))[8:8 + a.nbytes]
    assert kv.get_into("py/np", view) == a.nbytes
    assert bytes(view) == a.tobytes()
    kv.fence()


def test_absent_key_is_keyerror(kv):
    with pytest.raises(KeyError):
        kv.get("py/never-written")
    with pytest.raises(KeyError):
        kv.get_into("py/never-written", bytearray(8))


def test_errors_carry_the_status(kv):
    with pytest.raises(dramkv.Error) as e:
        kv.put("", b"x")
    assert e.value.status == dramkv.ERR_INVALID
    assert dramkv.strerror(dramkv.ERR_INVALID) in str(e.value)
    assert "empty" in e.value.detail  # dkv_error_detail names the problem
    with pytest.raises(dramkv.Error) as e:
        kv.put("k" * (dramkv.KEY_MAX + 1), b"x")
    assert e.value.status == dramkv.ERR_INVALID


def test_truncated(kv):
    if kv.rank == 0:
        kv.put("py/ten", b"0123456789")
    kv.fence()
    with pytest.raises(dramkv.Error) as e:
        kv.get_into("py/ten", bytearray(4))
    assert e.value.status == dramkv.ERR_TRUNCATED
    assert "value larger than buffer" in str(e.value)
    kv.fence()


def test_buffers_refused(kv):
    a = np.arange(10, dtype=np.int64)
    with pytest.raises(BufferError):
        kv.put("py/strided", a[::2])  # not contiguous: no hidden copy
    with pytest.raises((BufferError, TypeError)):
        kv.get_into("py/ten", b"read-only!")
    with pytest.raises(TypeError):
        kv.put("py/str", "a str is not a buffer")


def test_delete_and_quiet(kv):
    key = f"py/del/{kv.rank}"
    kv.put(key, b"x")
    kv.quiet()
    kv.delete(key)
    kv.delete("py/del/missing")  # not an error
    kv.quiet()
    kv.fence()
    with pytest.raises(KeyError):
        kv.get(key)


def test_list(kv):
    kv.put(f"py/list/{kv.rank}", bytes(10 + kv.rank))
    kv.fence()
    assert kv.list("py/list/") == [("py/list/0", 10), ("py/list/1", 11)]
    assert kv.list("py/list/none") == []
    kv.fence()


def test_drain_and_load(kv, shared_dir):
    if kv.rank == 0:
        kv.put("py/ck", b"checkpoint 1")
    kv.drain_start(shared_dir)  # a fence first
    assert kv.drain_wait() >= 1
    assert kv.drain_test()
    if kv.rank == 0:
        kv.put("py/ck", b"overwritten")
    kv.fence()
    assert kv.get("py/ck") == b"overwritten"
    kv.load(shared_dir)
    assert kv.get("py/ck") == b"checkpoint 1"
    kv.fence()
    if kv.rank == 0:
        shutil.rmtree(shared_dir)


def test_load_missing_dir(kv, shared_dir):
    with pytest.raises(dramkv.Error) as e:
        kv.load(os.path.join(shared_dir, "no-such-drain"))
    assert e.value.status in (dramkv.ERR_NOT_FOUND, dramkv.ERR_IO)


@pytest.mark.skipif(os.environ.get("DKV_TEST_MPI4PY") != "1",
                    reason="mpi4py is imported only in the mpi4py job")
def test_with_mpi4py(kv):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    assert comm.Get_rank() == kv.rank
    assert comm.allreduce(1) == kv.size
