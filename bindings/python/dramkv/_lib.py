"""The C library, loaded with ctypes, and the prototypes of its calls.

Finds libdramkv.so: $DKV_LIBRARY if set, else the one this package was
built or installed with (_libpath.py, written by CMake). ctypes releases
the GIL during every call.
"""

import ctypes
import os

from . import _libpath

c_status = ctypes.c_int
c_ctx = ctypes.c_void_p
LIST_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                           ctypes.c_void_p)


class InitParams(ctypes.Structure):
    """dkv_init_params_t."""
    _fields_ = [
        ("field_mask", ctypes.c_uint64),
        ("timeout_ms", ctypes.c_uint),
        ("holders", ctypes.c_char_p),
        ("hold_bytes", ctypes.c_size_t),
        ("dedicated", ctypes.c_int),
        ("replicas", ctypes.c_uint),
    ]


FIELD_TIMEOUT_MS, FIELD_HOLDERS, FIELD_HOLD_BYTES, FIELD_DEDICATED, \
    FIELD_REPLICAS = (1 << i for i in range(5))


class DrainProgress(ctypes.Structure):
    """dkv_drain_progress_t."""
    _fields_ = [
        ("bytes_written", ctypes.c_uint64),
        ("bytes_total", ctypes.c_uint64),
        ("keys_written", ctypes.c_uint64),
        ("keys_total", ctypes.c_uint64),
        ("done", ctypes.c_int),
    ]


_P = ctypes.POINTER
_PROTOTYPES = {
    "dkv_strerror": (ctypes.c_char_p, [c_status]),
    "dkv_version": (ctypes.c_int, []),
    "dkv_init": (c_status, [_P(InitParams), _P(c_ctx)]),
    "dkv_finalize": (c_status, [c_ctx]),
    "dkv_rank": (ctypes.c_int, [c_ctx]),
    "dkv_size": (ctypes.c_int, [c_ctx]),
    "dkv_is_holder": (ctypes.c_int, [c_ctx]),
    "dkv_num_holders": (ctypes.c_int, [c_ctx]),
    "dkv_is_dedicated": (ctypes.c_int, [c_ctx]),
    "dkv_put": (c_status, [c_ctx, ctypes.c_char_p, ctypes.c_void_p,
                           ctypes.c_size_t]),
    "dkv_get": (c_status, [c_ctx, ctypes.c_char_p, ctypes.c_void_p,
                           ctypes.c_size_t, _P(ctypes.c_size_t)]),
    "dkv_get_alloc": (c_status, [c_ctx, ctypes.c_char_p,
                                 _P(ctypes.c_void_p), _P(ctypes.c_size_t)]),
    "dkv_delete": (c_status, [c_ctx, ctypes.c_char_p]),
    "dkv_quiet": (c_status, [c_ctx]),
    "dkv_fence": (c_status, [c_ctx]),
    "dkv_list": (c_status, [c_ctx, ctypes.c_char_p, LIST_CB,
                            ctypes.c_void_p]),
    "dkv_drain_start": (c_status, [c_ctx, ctypes.c_char_p]),
    "dkv_drain_test": (c_status, [c_ctx, _P(DrainProgress)]),
    "dkv_drain_wait": (c_status, [c_ctx, _P(DrainProgress)]),
    "dkv_load": (c_status, [c_ctx, ctypes.c_char_p]),
    "dkv_error_detail": (ctypes.c_char_p, [c_ctx]),
    "dkv_serve": (c_status, [c_ctx]),
}

lib = ctypes.CDLL(os.environ.get("DKV_LIBRARY") or _libpath.LIBRARY)
for _name, (_res, _args) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

libc = ctypes.CDLL(None)
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None
