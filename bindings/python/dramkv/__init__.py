"""dramkv: job-wide DRAM key/value staging for HPC jobs, from Python.

A thin layer over libdramkv (include/dramkv.h): every method is the C call
of the same name, and every failure the C call reports raises
``dramkv.Error`` (``.status`` is the C status, the message its
dkv_strerror text), except a missing key, which raises ``KeyError``.

    import dramkv
    with dramkv.init() as kv:          # collective; under mpirun or srun
        kv.put("k", b"value")          # any buffer: bytes, numpy, ...
        kv.fence()                     # collective: every put visible
        data = kv.get("k")             # bytes

Values go to and from buffers without a copy (bytes, bytearray, memoryview,
numpy arrays: anything C-contiguous with the buffer protocol). Works with
or without mpi4py; if the program uses MPI, import mpi4py.MPI before
dramkv.init(). The API is funneled: call it from one thread at a time.
"""

import ctypes

from . import _lib
from ._buffer import Span
from ._consts import *  # noqa: F401,F403 - OK, ERR_NOT_FOUND, ...
from ._consts import KEY_MAX, STATUS_NAMES, VERSION

__all__ = ["init", "Context", "Error", "strerror", "version", "KEY_MAX",
           "STATUS_NAMES", "VERSION"] + [
               n[4:] for n in STATUS_NAMES.values()]

_NOT_FOUND = -3


class Error(Exception):
    """A dramkv call failed. ``status``: the C status (negative); the
    message: the call, dkv_strerror's text and dkv_error_detail's."""

    def __init__(self, status, call="", detail=""):
        self.status = status
        self.call = call
        self.detail = detail
        text = strerror(status)
        where = f"{call}: " if call else ""
        more = f" ({detail})" if detail else ""
        super().__init__(f"{where}{text}{more}")


def strerror(status):
    """The text of a C status (dkv_strerror)."""
    return _lib.lib.dkv_strerror(status).decode()


def version():
    """(major, minor, patch) of the library in use (dkv_version)."""
    v = _lib.lib.dkv_version()
    return (v // 10000, v // 100 % 100, v % 100)


def _key(key):
    return key.encode() if isinstance(key, str) else bytes(key)


def _path(path):
    return str(path).encode()


class Context:
    """One per process, from init() to finalize(). Use dramkv.init()."""

    def __init__(self, ptr):
        self._ctx = ptr
        self.rank = _lib.lib.dkv_rank(ptr)
        self.size = _lib.lib.dkv_size(ptr)
        self.is_holder = bool(_lib.lib.dkv_is_holder(ptr))
        self.num_holders = _lib.lib.dkv_num_holders(ptr)
        self.is_dedicated = bool(_lib.lib.dkv_is_dedicated(ptr))

    def _check(self, status, call, key=None):
        if status == 0:
            return
        if status == _NOT_FOUND and key is not None:
            raise KeyError(key)
        # dkv_error_detail: why (the key, the file, ...), as the C side saw it.
        text = ""
        if self._ctx:
            text = _lib.lib.dkv_error_detail(self._ctx).decode(
                errors="replace")
        raise Error(status, call, text)

    def put(self, key, value):
        """Store value (any C-contiguous buffer) under key. The write is
        outstanding until quiet() or fence() reports it."""
        with Span(value) as (addr, nbytes):
            self._check(_lib.lib.dkv_put(self._ctx, _key(key), addr, nbytes),
                        "dkv_put")

    def get(self, key):
        """The value of key as bytes; KeyError if there is none."""
        ptr = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._check(_lib.lib.dkv_get_alloc(self._ctx, _key(key),
                                           ctypes.byref(ptr),
                                           ctypes.byref(size)),
                    "dkv_get", key)
        try:
            return ctypes.string_at(ptr, size.value)
        finally:
            _lib.libc.free(ptr)

    def get_into(self, key, buf):
        """Read key's value into the writable buffer buf (no copy); returns
        the stored size. Error(ERR_TRUNCATED) if buf is too small (nothing
        is copied), KeyError if there is no value."""
        size = ctypes.c_size_t()
        with Span(buf, writable=True) as (addr, nbytes):
            self._check(_lib.lib.dkv_get(self._ctx, _key(key), addr, nbytes,
                                         ctypes.byref(size)),
                        "dkv_get", key)
        return size.value

    def delete(self, key):
        """Remove key (outstanding like a put); a missing key is no error."""
        self._check(_lib.lib.dkv_delete(self._ctx, _key(key)), "dkv_delete")

    def quiet(self):
        """Wait until this rank's writes and deletes are acknowledged."""
        self._check(_lib.lib.dkv_quiet(self._ctx), "dkv_quiet")

    def fence(self):
        """Collective: quiet, then a barrier; the same verdict everywhere."""
        self._check(_lib.lib.dkv_fence(self._ctx), "dkv_fence")

    def list(self, prefix=""):
        """[(key, size)] of every stored key starting with prefix, in key
        order, each key once."""
        out = []

        def visit(key, size, arg):
            out.append((key.decode(errors="surrogateescape"), size))
            return 0

        self._check(_lib.lib.dkv_list(self._ctx, _key(prefix),
                                      _lib.LIST_CB(visit), None), "dkv_list")
        return out

    def drain_start(self, directory):
        """Collective: a fence, then the holders write every key to files
        under directory (an existing one) in the background."""
        self._check(_lib.lib.dkv_drain_start(self._ctx, _path(directory)),
                    "dkv_drain_start")

    def drain_test(self):
        """True once the drain this rank started is complete on disk."""
        p = _lib.DrainProgress()
        self._check(_lib.lib.dkv_drain_test(self._ctx, ctypes.byref(p)),
                    "dkv_drain_test")
        return bool(p.done)

    def drain_wait(self):
        """Wait until the drain's manifest is durable; returns the number
        of keys drained."""
        p = _lib.DrainProgress()
        self._check(_lib.lib.dkv_drain_wait(self._ctx, ctypes.byref(p)),
                    "dkv_drain_wait")
        return p.keys_total

    def load(self, directory):
        """Collective: read the complete drain in directory back."""
        self._check(_lib.lib.dkv_load(self._ctx, _path(directory)),
                    "dkv_load")

    def serve(self):
        """On a dedicated holder: serve until every other rank finalized."""
        self._check(_lib.lib.dkv_serve(self._ctx), "dkv_serve")

    def finalize(self):
        """Collective stop; completes outstanding writes first. Calling it
        again does nothing."""
        if self._ctx:
            ptr, self._ctx = self._ctx, None
            self._check(_lib.lib.dkv_finalize(ptr), "dkv_finalize")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finalize()
        return False


def init(holders=None, timeout_ms=None, hold_bytes=None, dedicated=None,
         replicas=None):
    """Collective start (dkv_init). Arguments left at None come from the
    DKV_* environment or the defaults (see the README)."""
    p = _lib.InitParams()
    if holders is not None:
        p.holders = holders.encode()
        p.field_mask |= _lib.FIELD_HOLDERS
    if timeout_ms is not None:
        p.timeout_ms = timeout_ms
        p.field_mask |= _lib.FIELD_TIMEOUT_MS
    if hold_bytes is not None:
        p.hold_bytes = hold_bytes
        p.field_mask |= _lib.FIELD_HOLD_BYTES
    if dedicated is not None:
        p.dedicated = int(bool(dedicated))
        p.field_mask |= _lib.FIELD_DEDICATED
    if replicas is not None:
        p.replicas = replicas
        p.field_mask |= _lib.FIELD_REPLICAS
    ptr = ctypes.c_void_p()
    status = _lib.lib.dkv_init(ctypes.byref(p), ctypes.byref(ptr))
    if status != 0:
        raise Error(status, "dkv_init")
    return Context(ptr)
