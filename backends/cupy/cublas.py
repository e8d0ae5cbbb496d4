"""Matrix products through cuBLAS called with ctypes: under CUDA-graph capture, and in eager mode for 2-D.

CuPy refuses every cuBLAS call while a stream is capturing (``NotImplementedError:
calling cuBLAS API during stream capture is currently unsupported``), although cuBLAS
itself captures: with a handle of one's own, bound to the capturing stream and given a
preallocated workspace (so that cuBLAS allocates nothing during capture). While a capture
is in progress the backend's ``xp.matmul`` is :func:`matmul` (see :mod:`.capture`).
In eager mode the backend's ``xp.matmul`` sends products of two 2-D float32/float64 arrays
to :func:`matmul_2d` (the linear layers' and the recurrent cells' products): fewer host
steps per call than ``cupy.matmul`` (about 24 us of host time per call on the H200 box).
Precision follows ``ember.backends.cuda.matmul.allow_tf32`` either way.
"""

from __future__ import annotations

import ctypes

import cupy
import numpy as np

from ember.backends import cuda as cuda_flags

__all__ = ["prepare", "matmul", "matmul_2d"]

_WORKSPACE_BYTES = 32 << 20  # what cuBLAS recommends for Hopper
_OP_N, _OP_T = 0, 1
_GEMM_DEFAULT = -1
_COMPUTE_32F, _COMPUTE_32F_FAST_TF32, _COMPUTE_64F = 68, 77, 70
# dtype -> (cudaDataType, alpha = 1 and beta = 0 in the ctypes type cuBLAS reads for them)
_TYPES = {
    np.dtype(np.float32): (0, ctypes.c_float(1), ctypes.c_float(0)),
    np.dtype(np.float64): (1, ctypes.c_double(1), ctypes.c_double(0)),
    np.dtype(np.float16): (2, ctypes.c_float(1), ctypes.c_float(0)),
}
_lib = None
_handles = {}


def _library():
    """libcublas as CuPy loaded it (the same copy, found by its soname or in the process's maps)."""
    global _lib
    if _lib is not None:
        return _lib
    from cupy_backends.cuda.libs import cublas  # noqa: F401 - makes sure CuPy has loaded libcublas

    candidates = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"]
    with open("/proc/self/maps") as maps:
        candidates += sorted({line.split()[-1] for line in maps if "libcublas.so" in line and "Lt" not in line})
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("matmul under CUDA-graph capture needs libcublas, which could not be loaded")
    p, i, ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong
    lib.cublasCreate_v2.argtypes = [ctypes.POINTER(p)]
    lib.cublasSetStream_v2.argtypes = [p, p]
    lib.cublasSetWorkspace_v2.argtypes = [p, p, ctypes.c_size_t]
    lib.cublasGemmEx.argtypes = [p, i, i, i, i, i, p, p, i, i, p, i, i, p, p, i, i, i, i]
    lib.cublasGemmStridedBatchedEx.argtypes = [p, i, i, i, i, i, p, p, i, i, ll, p, i, i, ll, p, p, i, i, ll, i, i, i]
    _lib = lib
    return lib


def _check(status, call):
    if status != 0:
        raise RuntimeError(f"matmul under CUDA-graph capture: {call} failed with cuBLAS status {status}")


def prepare(device):
    """Create device ``device``'s handle and workspace; must run before the capture begins."""
    if device in _handles:
        return
    lib = _library()
    handle = ctypes.c_void_p()
    with cupy.cuda.Device(device):
        _check(lib.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate")
        workspace = cupy.empty(_WORKSPACE_BYTES, dtype=cupy.uint8)
    _check(lib.cublasSetWorkspace_v2(handle, workspace.data.ptr, _WORKSPACE_BYTES), "cublasSetWorkspace")
    _handles[device] = (handle, workspace)


def _operand(x):
    """``(array, op, leading dimension)`` of a row-major (..., rows, cols) operand seen column-major."""
    rows, cols = x.shape[-2:]
    itemsize = x.itemsize
    batch_ok = x.ndim == 2 or x.strides[0] == rows * cols * itemsize
    if batch_ok and x.strides[-1] == itemsize and x.strides[-2] == cols * itemsize:
        return x, _OP_N, max(cols, 1)
    if batch_ok and x.strides[-2] == itemsize and x.strides[-1] == rows * itemsize:
        return x, _OP_T, max(rows, 1)
    x = cupy.ascontiguousarray(x)
    return x, _OP_N, max(cols, 1)


def _compute_type(dtype):
    if dtype == np.float64:
        return _COMPUTE_64F
    if dtype == np.float32 and cuda_flags.matmul.allow_tf32:
        return _COMPUTE_32F_FAST_TF32
    return _COMPUTE_32F


def matmul(a, b):
    """``a @ b`` with NumPy's matmul rules for float16/32/64 CuPy arrays, through cuBLAS, capturable."""
    if a.dtype != b.dtype or a.dtype not in _TYPES:
        raise RuntimeError(
            f"matmul cannot be captured in a CUDA graph for dtypes {a.dtype} and {b.dtype} "
            "(only float16, float32 and float64 products of one dtype are)"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: both arguments must have at least one dimension")
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    a = a[None, :] if vector_a else a
    b = b[:, None] if vector_b else b
    m, k = a.shape[-2:]
    if b.shape[-2] != k:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match in the contracted dimension")
    n = b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = int(np.prod(batch, dtype=np.int64))
    out = cupy.empty(batch + (m, n), dtype=a.dtype)
    if out.size and k == 0:
        out.fill(0)
    elif out.size:
        if batch:
            a = cupy.broadcast_to(a, batch + (m, k)).reshape((count, m, k))
            b = cupy.broadcast_to(b, batch + (k, n)).reshape((count, k, n))
        _gemm(a, b, out, m, n, k, count if batch else 0)
    if vector_a:
        out = out[..., 0, :]
    if vector_b:
        out = out[..., 0]
    return out


def matmul_2d(a, b):
    """``a @ b`` for 2-D float32/float64 CuPy arrays of one dtype whose inner dimensions match."""
    m, k = a.shape
    n = b.shape[1]
    out = cupy.empty((m, n), dtype=a.dtype)
    if k == 0:
        out.fill(0)
    elif out.size:
        _gemm(a, b, out, m, n, k, 0)
    return out


def _gemm(a, b, out, m, n, k, count):
    """``out = a @ b`` (row-major) as cuBLAS's column-major ``out^T = b^T a^T``."""
    lib = _library()
    device = out.device.id
    prepare(device)
    handle, _ = _handles[device]
    _check(lib.cublasSetStream_v2(handle, cupy.cuda.get_current_stream().ptr), "cublasSetStream")
    data_type, one, zero = _TYPES[out.dtype]
    b, op_b, ld_b = _operand(b)
    a, op_a, ld_a = _operand(a)
    compute = _compute_type(out.dtype)
    if count == 0:
        status = lib.cublasGemmEx(
            handle, op_b, op_a, n, m, k, ctypes.byref(one), b.data.ptr, data_type, ld_b,
            a.data.ptr, data_type, ld_a, ctypes.byref(zero), out.data.ptr, data_type, n, compute, _GEMM_DEFAULT,
        )  # fmt: skip
        _check(status, "cublasGemmEx")
        return
    status = lib.cublasGemmStridedBatchedEx(
        handle, op_b, op_a, n, m, k, ctypes.byref(one), b.data.ptr, data_type, ld_b, k * n,
        a.data.ptr, data_type, ld_a, m * k, ctypes.byref(zero), out.data.ptr, data_type, n, m * n,
        count, compute, _GEMM_DEFAULT,
    )  # fmt: skip
    _check(status, "cublasGemmStridedBatchedEx")
