"""GEMM through CLBlast (the C library, e.g. Debian's ``libclblast1``) by a small ctypes binding.

Why ctypes: PyPI's ``pyclblast`` ships as a source distribution only and needs a compiler and
CLBlast's headers; the C API needs nothing but the shared library, and ember calls one routine
(``CLBlast{S,D}gemmStridedBatched``). CLBlast takes PyOpenCL's buffers and queue by their
OpenCL handles (``int_ptr``).

CLBlast serves a matmul only where it measured faster than ember's own kernel on that device
and dtype (:func:`faster_than_own`: both timed once per device and dtype on a 256^3 product,
~0.15 s on PoCL; the verdict is kept in the on-disk cache of ``binary_cache``, so a new process
does not measure again); ``EMBER_OPENCL_GEMM=own`` or ``=clblast`` fixes the choice. Without the library, ember's own
kernel serves every matmul.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time

import numpy as np

from . import binary_cache
from .array import empty
from .creation import from_host

__all__ = ["available", "gemm", "faster_than_own"]

_ROW_MAJOR, _NO, _YES = 101, 111, 112
_SIZE = ctypes.c_size_t


def _load():
    for name in (ctypes.util.find_library("clblast"), "libclblast.so.1", "libclblast.so"):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    return None


_LIB = _load()
_ROUTINES = {}
if _LIB is not None:
    for _dtype, _letter, _ctype in ((np.float32, "S", ctypes.c_float), (np.float64, "D", ctypes.c_double)):
        _fn = getattr(_LIB, f"CLBlast{_letter}gemmStridedBatched")
        _fn.restype = ctypes.c_int
        _fn.argtypes = (
            [ctypes.c_int] * 3
            + [_SIZE] * 3
            + [_ctype]
            + [ctypes.c_void_p, _SIZE, _SIZE, _SIZE] * 2
            + [_ctype, ctypes.c_void_p, _SIZE, _SIZE, _SIZE, _SIZE]
            + [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        )
        _ROUTINES[np.dtype(_dtype)] = _fn


def available(dtype):
    """Whether CLBlast is loaded and has a GEMM for ``dtype``."""
    return np.dtype(dtype) in _ROUTINES


def _layout(rs, cs, rows, cols):
    """(transpose flag, leading dimension) of a ``rows x cols`` matrix with element strides
    ``rs``, ``cs`` as CLBlast's row-major operand, or None where it has no such layout."""
    if (cs == 1 or cols == 1) and (rows == 1 or rs >= max(cols, 1)):
        return _NO, max(cols, 1) if rows == 1 else rs
    if (rs == 1 or rows == 1) and (cols == 1 or cs >= max(rows, 1)):
        return _YES, max(rows, 1) if cols == 1 else cs
    return None


def gemm(device, m, n, k, a, a_rs, a_cs, a_offsets, b, b_rs, b_cs, b_offsets, out):
    """``out[i] = a[i] @ b[i]`` for each batch ``i`` (``out`` contiguous) through CLBlast.

    ``a_offsets``/``b_offsets`` are the batches' element offsets (NumPy int64 arrays). Returns
    False, doing nothing, where CLBlast cannot take the layout (a matrix with no unit stride,
    batch offsets that are not evenly spaced) or reports an error.
    """
    la, lb = _layout(a_rs, a_cs, m, k), _layout(b_rs, b_cs, k, n)
    if la is None or lb is None:
        return False
    strides = []
    for offsets in (a_offsets, b_offsets):
        step = int(offsets[1] - offsets[0]) if offsets.size > 1 else 0
        if offsets.size > 1 and (step < 0 or np.any(np.diff(offsets) != step)):
            return False
        strides.append(step)
    queue = ctypes.c_void_p(device.queue.int_ptr)
    with device.launch_lock:  # CLBlast's calls on one queue from several threads crash (its kernel cache)
        status = _ROUTINES[out.dtype](
            _ROW_MAJOR, la[0], lb[0], m, n, k, 1.0,
            a.buffer.int_ptr, int(a_offsets[0]), la[1], strides[0],
            b.buffer.int_ptr, int(b_offsets[0]), lb[1], strides[1],
            0.0, out.buffer.int_ptr, out.offset, max(n, 1), m * n, a_offsets.size,
            ctypes.byref(queue), None,
        )  # fmt: skip
    return status == 0


def faster_than_own(device, dtype, own):
    """Whether CLBlast beats ``own(a, b)`` (ember's kernel) on ``device`` for ``dtype``; measured
    once per device and dtype unless ``EMBER_OPENCL_GEMM`` is ``own`` or ``clblast``."""
    choice = os.environ.get("EMBER_OPENCL_GEMM", "auto")
    if choice in ("own", "clblast"):
        return choice == "clblast" and available(dtype)
    key = ("clblast-faster", np.dtype(dtype))
    verdict = device.gemm_choice.get(key)
    if verdict is None:
        verdict = device.gemm_choice[key] = available(dtype) and _measured(device, np.dtype(dtype), own)
    return verdict


def _measured(device, dtype, own):
    """:func:`_measure`'s verdict, from the on-disk cache when this device and library have one."""
    name = f"clblast-faster {dtype.name} {_LIB._name}"
    stored = binary_cache.load_choice(device.cl_device, name)
    if stored in ("0", "1"):
        return stored == "1"
    verdict = _measure(device, dtype, own)
    binary_cache.store_choice(device.cl_device, name, str(int(verdict)))
    return verdict


def _measure(device, dtype, own):
    size = 256
    host = np.random.default_rng(0).standard_normal((size, size)).astype(dtype)
    a, b = from_host(host, device), from_host(host.T.copy(), device)
    offsets = np.zeros(1, np.int64)
    out = empty((size, size), dtype, device)

    def clblast():
        return gemm(device, size, size, size, a, size, 1, offsets, b, size, 1, offsets, out)

    times = {}
    for name, run in (("own", lambda: own(a, b)), ("clblast", clblast)):
        if run() is False:  # warm-up (builds the kernels); CLBlast refused or failed
            return False
        device.queue.finish()
        start = time.perf_counter()
        for _ in range(3):
            run()
        device.queue.finish()
        times[name] = time.perf_counter() - start
    return times["clblast"] < times["own"]
