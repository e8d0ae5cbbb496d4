"""OpenCL convolution: one-launch im2col (padding, stride and dilation handled in the kernel,
no padded copy) and a gathering col2im, around the backend's batched GEMM."""

from __future__ import annotations

import math

import numpy as np

from ember.kernels.conv import conv_output_shape

from .array import empty
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


class OpenCLConvKernels:
    """Convolution kernels over one-launch im2col / col2im (N-d up to 3; else the portable ones)."""

    def _cols(self, x, kernel, stride, padding, dilation, out_shape):
        """Columns ``(N, C*K, P)`` of the unpadded ``x``."""
        device = x.device
        n, c = x.shape[0], x.shape[1]
        k, p = math.prod(kernel), math.prod(out_shape)
        cols = empty((n, c * k, p), x.dtype, device)
        before = tuple(lo for lo, _ in padding)
        meta = [len(kernel), c, k, p, x.offset, x.strides[0], x.strides[1], c * k * p, p]
        meta += window_meta(kernel, stride, before, dilation, out_shape, x.shape[2:], x.strides[2:])
        total = cols.size // out_shape[-1] if cols.size else 0
        device.launch(_conv_kernel(device, x.dtype, "im2col"), total, np.int64(total), cols.buffer, x.buffer,
                      device.meta(meta))  # fmt: skip
        return cols

    @staticmethod
    def _fused(x):
        return x.ndim - 2 <= _MAX_DIMS and x.dtype.kind == "f"

    def conv(self, x, weight, stride, padding, dilation, groups):
        if not self._fused(x):
            return super().conv(x, weight, stride, padding, dilation, groups)
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
        out_shape = conv_output_shape(padded, kernel, stride, dilation)
        k, p = math.prod(kernel), math.prod(out_shape)
        cols = xp.reshape(self._cols(x, kernel, stride, padding, dilation, out_shape), (n, groups, c // groups * k, p))
        w = xp.reshape(weight, (groups, cout // groups, c // groups * k))
        return xp.reshape(xp.matmul(w, cols), (n, cout) + out_shape)

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        if not self._fused(grad):
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        xp = self.xp
        device = grad.device
        n, cout = grad.shape[0], grad.shape[1]
        out_shape = tuple(grad.shape[2:])
        c, kernel = input_shape[1], tuple(weight.shape[2:])
        k, p = math.prod(kernel), math.prod(out_shape)
        g = xp.reshape(grad, (n, groups, cout // groups, p))
        w = xp.reshape(weight, (groups, cout // groups, c // groups * k))
        dcols = xp.matmul(xp.permute_dims(w, (0, 2, 1)), g)  # contiguous (N, C*K, P)
        dx = empty(tuple(input_shape), grad.dtype, device)
        before = tuple(lo for lo, _ in padding)
        meta = [len(kernel), c, k, p, 0, 0, 0, 0, 0]
        meta += window_meta(kernel, stride, before, dilation, out_shape, input_shape[2:])
        total = dx.size // input_shape[-1] if dx.size else 0
        device.launch(_conv_kernel(device, grad.dtype, "col2im"), total, np.int64(total), dx.buffer, dcols.buffer,
                      device.meta(meta))  # fmt: skip
        return dx

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        if not self._fused(x):
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        k, p = math.prod(kernel), math.prod(out_shape)
        cols = self._cols(x, kernel, stride, padding, dilation, out_shape)
        cols = xp.reshape(cols, (n, groups, c // groups * k, p))
        g = xp.reshape(grad, (n, groups, cout // groups, p))
        dw = xp.sum(xp.matmul(g, xp.permute_dims(cols, (0, 1, 3, 2))), axis=0)
        return xp.reshape(dw, tuple(weight_shape))
