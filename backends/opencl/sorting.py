"""Sorting primitives of the OpenCL namespace: a bitonic sort of rows (values and the indices
that sort them)."""

from __future__ import annotations

import math

import numpy as np

from .array import contiguous_strides, empty
from .creation import zeros
from .elementwise import astype, copy_into, map_into, narrow_half, widen_half
from .manipulation import moveaxis_last, normalize_axis, permute_dims
from .runtime import cl_type

__all__ = ["bitonic", "sort", "argsort"]

_INT64, _HALF = np.dtype("int64"), np.dtype("float16")


def bitonic(x, descending):
    """Sort the rows (last axis) of ``x``; returns (keys, index, row width) padded buffers."""
    rows_shape, n = x.shape[:-1], x.shape[-1]
    rows = math.prod(rows_shape)
    width = 1 << max(n - 1, 0).bit_length()
    device = x.device
    keys = empty((rows * width,), x.dtype, device)
    index = empty((rows * width,), _INT64, device)
    view_strides = tuple(s * width for s in contiguous_strides(rows_shape)) + (1,)
    copy_into(keys.view(x.shape, view_strides, 0), x)
    map_into(index, [np.int64(width)], "i % x0", ["long"])
    t = cl_type(x.dtype)
    defines = {"T": t, "DESCENDING": int(bool(descending))}
    subs = {"ISNAN": "isnan(v)" if x.dtype.kind == "f" else "0"}
    kern = device.kernel(("bitonic", t, bool(descending)), "sort.cl", "bitonic_step", defines, subs)
    total = rows * width
    k = 2
    while k <= width:
        j = k // 2
        while j >= 1:
            device.launch(
                kern,
                total,
                np.int64(total),
                keys.buffer,
                index.buffer,
                np.int64(width),
                np.int64(n),
                np.int64(k),
                np.int64(j),
            )
            j //= 2
        k *= 2
    return keys, index, view_strides


def _sorted(x, axis, descending, want_values):
    if x.dtype == _HALF:  # float16: sorted as float32 (exact)
        return narrow_half(_sorted(widen_half(x), axis, descending, want_values), _HALF if want_values else _INT64)
    if x.ndim == 0:
        return astype(x, x.dtype) if want_values else zeros((), dtype=_INT64, device=x.device)
    axis = normalize_axis(axis, x.ndim)
    xm, order = moveaxis_last(x, axis)
    keys, index, strides = bitonic(xm, descending)
    result = (keys if want_values else index).view(xm.shape, strides, 0)
    inverse = [order.index(d) for d in range(x.ndim)]
    return permute_dims(result, inverse)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    return _sorted(x, axis, descending, False)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    return _sorted(x, axis, descending, True)
