"""Linear algebra of the OpenCL namespace: ``matmul`` by the own tiled GEMM kernel or, where it
measured faster, CLBlast (:mod:`~ember.backends.opencl.clblast`)."""

from __future__ import annotations

import numpy as np

from . import clblast
from .array import broadcast_shapes, broadcast_strides, empty
from .elementwise import astype, copy_into, device_of, narrow_half, result_type, widen_half
from .manipulation import expand_dims, squeeze
from .runtime import cl_type

__all__ = ["matmul"]

_HALF = np.dtype("float16")
_BLOCK, _GROUP = 64, 16  # gemm.cl: a 16 x 16 work-group computes a 64 x 64 block of C


def _own_gemm(device, m, n, k, a, a_rs, a_cs, a_offsets, b, b_rs, b_cs, b_offsets, out):
    """``out[i] = a[i] @ b[i]`` per batch with gemm.cl (batch element offsets as int64 arrays)."""
    t = cl_type(out.dtype)
    kern = device.kernel(("gemm", t), "gemm.cl", "gemm", {"T": t})
    gsize = (-(-n // _BLOCK) * _GROUP, -(-m // _BLOCK) * _GROUP, a_offsets.size)
    device.enqueue(
        kern, gsize, (_GROUP, _GROUP, 1), np.int64(m), np.int64(n), np.int64(k),
        a.buffer, np.int64(a_rs), np.int64(a_cs), device.meta(a_offsets),
        b.buffer, np.int64(b_rs), np.int64(b_cs), device.meta(b_offsets), out.buffer,
    )  # fmt: skip


def _own_product(a, b):
    """``a @ b`` of two contiguous 2-D arrays with the own kernel (CLBlast's yardstick)."""
    (m, k), n = a.shape, b.shape[1]
    out = empty((m, n), a.dtype, a.device)
    zero = np.zeros(1, np.int64)
    _own_gemm(a.device, m, n, k, a, k, 1, zero, b, n, 1, zero, out)
    return out


def matmul(x1, x2, /):
    dt = result_type(x1, x2)
    if dt == _HALF:  # float16: products accumulated in float32, rounded once
        return narrow_half(matmul(widen_half(x1), widen_half(x2)), _HALF)
    a, b = astype(x1, dt, copy=False), astype(x2, dt, copy=False)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least one dimension")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = expand_dims(a, 0)
    if squeeze_b:
        b = expand_dims(b, 1)
    m, k = a.shape[-2:]
    k2, n = b.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: shapes {x1.shape} and {x2.shape} are not aligned ({k} != {k2})")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    device = device_of(a, b)
    out = empty(batch + (m, n), dt, device)
    if out.size and k == 0:
        copy_into(out, 0)
    elif out.size:
        offs = []
        for arr in (a, b):
            st = broadcast_strides(arr.shape[:-2], arr.strides[:-2], batch)
            grid = np.zeros(batch, dtype=np.int64) + arr.offset
            for d, s in enumerate(st):
                view = [1] * len(batch)
                view[d] = batch[d]
                grid = grid + (np.arange(batch[d], dtype=np.int64) * s).reshape(view)
            offs.append(grid.reshape(-1))
        operands = (m, n, k, a, a.strides[-2], a.strides[-1], offs[0], b, b.strides[-2], b.strides[-1], offs[1], out)
        if not (
            clblast.available(dt)
            and clblast.faster_than_own(device, dt, _own_product)
            and clblast.gemm(device, *operands)
        ):
            _own_gemm(device, *operands)
    if squeeze_a:
        out = squeeze(out, -2)
    if squeeze_b:
        out = squeeze(out, -1)
    return out
