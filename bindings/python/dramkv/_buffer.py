"""Address and length of any buffer-protocol object, without a copy.

bytes, bytearray, memoryview, array.array, numpy arrays: anything that
exports a C-contiguous buffer. The buffer is held (PyObject_GetBuffer) for
the duration of a ``with`` block, so its memory cannot move or be freed
while dramkv reads or writes it. Runs on the caller's thread, under the GIL.
"""

import ctypes

_PyBUF_WRITABLE = 0x0001
_PyBUF_C_CONTIGUOUS = 0x0020 | 0x0008 | 0x0010  # | PyBUF_STRIDES | ND


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
        ("suboffsets", ctypes.POINTER(ctypes.c_ssize_t)),
        ("internal", ctypes.c_void_p),
    ]


_get = ctypes.pythonapi.PyObject_GetBuffer
_get.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get.restype = ctypes.c_int
_release = ctypes.pythonapi.PyBuffer_Release
_release.argtypes = [ctypes.POINTER(_PyBuffer)]
_release.restype = None


class Span:
    """``with Span(obj, writable) as (addr, nbytes):`` - obj's memory.

    Raises TypeError (not a buffer), BufferError (not C-contiguous, or
    read-only when writable is asked for).
    """

    def __init__(self, obj, writable=False):
        self._obj = obj
        self._flags = _PyBUF_C_CONTIGUOUS | (_PyBUF_WRITABLE if writable else 0)
        self._view = _PyBuffer()

    def __enter__(self):
        try:
            _get(self._obj, ctypes.byref(self._view), self._flags)
        except ValueError as e:  # numpy's word for "not contiguous"
            raise BufferError(str(e)) from None
        return self._view.buf, self._view.len

    def __exit__(self, *exc):
        _release(ctypes.byref(self._view))
        return False
