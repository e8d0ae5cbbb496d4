"""OpenCL convolution: the portable GEMM framing (:class:`ember.kernels.conv.ConvKernels`) over
a one-launch im2col (padding, stride and dilation handled in the kernel, no padded copy) and a
gathering col2im."""

from __future__ import annotations

import math

import numpy as np

from .array import empty
from .elementwise import astype
from .runtime import cl_type

__all__ = ["OpenCLConvKernels", "window_meta"]

_MAX_DIMS = 3


def window_meta(kernel, stride, padding, dilation, out_shape, spatial, strides=None):
    """The per-spatial-dim records of ``conv.cl``/``pool.cl``: out, kernel, stride, pad before,
    dilation, input size, input stride (``padding`` is one int per dim)."""
    strides = strides or (0,) * len(kernel)
    return [v for rec in zip(out_shape, kernel, stride, padding, dilation, spatial, strides) for v in rec]


def _conv_kernel(device, dtype, name):
    t = cl_type(dtype)
    return device.kernel(("conv", t), "conv.cl", name, {"T": t})


def _fused(x, kernel):
    """Whether ``conv.cl`` serves ``x`` (floating, up to 3 spatial dims)."""
    return len(kernel) <= _MAX_DIMS and x.dtype.kind == "f"


class OpenCLConvKernels:
    """``im2col`` / ``col2im`` in one launch each (N-d up to 3; else the portable ones)."""

    def im2col(self, x, kernel, stride, padding, dilation, out_shape):
        if not _fused(x, kernel):
            return super().im2col(x, kernel, stride, padding, dilation, out_shape)
        device = x.device
        n, c = x.shape[0], x.shape[1]
        k, p = math.prod(kernel), math.prod(out_shape)
        cols = empty((n, c, k) + tuple(out_shape), x.dtype, device)
        before = tuple(lo for lo, _ in padding)
        meta = [len(kernel), c, k, p, x.offset, x.strides[0], x.strides[1], c * k * p, p]
        meta += window_meta(kernel, stride, before, dilation, out_shape, x.shape[2:], x.strides[2:])
        total = cols.size // out_shape[-1] if cols.size else 0
        device.launch(_conv_kernel(device, x.dtype, "im2col"), total, np.int64(total), cols.buffer, x.buffer,
                      device.meta(meta))  # fmt: skip
        return cols

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation, order=None):
        if not _fused(cols, kernel):
            return super().col2im(cols, input_shape, kernel, stride, padding, dilation, order)
        if cols.offset or not cols.is_contiguous:
            cols = astype(cols, cols.dtype, copy=True)
        device = cols.device
        c, out_shape = input_shape[1], tuple(cols.shape[3:])
        k, p = math.prod(kernel), math.prod(out_shape)
        dx = empty(tuple(input_shape), cols.dtype, device)
        before = tuple(lo for lo, _ in padding)
        meta = [len(kernel), c, k, p, 0, 0, 0, 0, 0]
        meta += window_meta(kernel, stride, before, dilation, out_shape, input_shape[2:])
        total = dx.size // input_shape[-1] if dx.size else 0
        device.launch(_conv_kernel(device, cols.dtype, "col2im"), total, np.int64(total), dx.buffer, cols.buffer,
                      device.meta(meta))  # fmt: skip
        return dx
