"""NumPy overrides of the conv kernels: channel-major columns and one GEMM per group.

The portable kernels stack the kernel offsets into ``(N, C, K, *out)`` columns and run one
small matmul per sample (NumPy loops over the batch, each product too small to thread
well). Here the columns are laid out ``(C, K, N, *out)``: each kernel offset is one strided
copy, and the whole batch is one GEMM per group, ``(C_out, C*K) @ (C*K, N*P)`` (forward),
``(C*K, C_out) @ (C_out, N*P)`` (input gradient) and ``(C_out, N*P) @ (N*P, C*K)`` (weight
gradient), which BLAS threads. The col2im of the input gradient adds each offset's columns
in place into a channel-major padded buffer. Copies are split over the intra-op threads.

With a short contraction (``C/groups * K`` under :data:`MIN_CONTRACTION`, e.g. a first layer
on RGB images) OpenBLAS runs the one wide GEMM slower than the per-sample products (3x3 on
3 channels, batch 64 at 32x32: 5.0 ms against 1.5 ms), so the portable kernels serve those.
"""

from __future__ import annotations

import math

import numpy as np

from ember.kernels.conv import conv_output_shape, window_keys

from ..parallel import parallel_range

__all__ = ["NumpyConvKernels"]

MIN_CONTRACTION = 64


def _channel_major(a):
    """``(N, C, *rest)`` as a C-contiguous ``(C, N, *rest)`` copy."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


class NumpyConvKernels:
    """Faster NumPy versions of portable conv kernels."""

    def _columns(self, x, kernel, stride, padding, dilation, out_shape):
        """Columns ``(C, prod(kernel), N, *out_shape)`` of ``x`` padded by ``padding``."""
        xt = np.swapaxes(self.pad_constant(x, padding, 0), 0, 1)
        keys = window_keys(kernel, stride, dilation, out_shape)
        c, n = xt.shape[0], xt.shape[1]
        cols = np.empty((c, len(keys), n) + tuple(out_shape), dtype=x.dtype)

        def run(lo, hi):
            for k, key in enumerate(keys):
                np.copyto(cols[lo:hi, k], xt[lo:hi][key])

        parallel_range(c, run, cols.size)
        return cols

    def conv(self, x, weight, stride, padding, dilation, groups):
        if math.prod(weight.shape[1:]) < MIN_CONTRACTION:
            return super().conv(x, weight, stride, padding, dilation, groups)
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
        out_shape = conv_output_shape(padded, kernel, stride, dilation)
        cols = self._columns(x, kernel, stride, padding, dilation, out_shape)
        cols = cols.reshape(groups, c // groups * math.prod(kernel), n * math.prod(out_shape))
        w = weight.reshape(groups, cout // groups, -1)
        out = np.matmul(w, cols).reshape((cout, n) + out_shape)
        return _channel_major(out)

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        if math.prod(weight.shape[1:]) < MIN_CONTRACTION:
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        n, cout = grad.shape[0], grad.shape[1]
        out_shape = tuple(grad.shape[2:])
        c, kernel = input_shape[1], tuple(weight.shape[2:])
        g = _channel_major(grad).reshape(groups, cout // groups, n * math.prod(out_shape))
        w = weight.reshape(groups, cout // groups, -1)
        dcols = np.matmul(np.swapaxes(w, 1, 2), g).reshape((c, math.prod(kernel), n) + out_shape)
        spatial = tuple(input_shape[2:])
        dx = np.zeros((c, n) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding)), dtype=grad.dtype)
        keys = window_keys(kernel, stride, dilation, out_shape)

        def run(lo, hi):
            part = dx[lo:hi]
            for k, key in enumerate(keys):
                view = part[key]
                np.add(view, dcols[lo:hi, k], out=view)

        parallel_range(c, run, dcols.size)
        inner = dx[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))]
        return _channel_major(inner)

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        if math.prod(weight_shape[1:]) < MIN_CONTRACTION:
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        cols = self._columns(x, kernel, stride, padding, dilation, out_shape)
        cols = cols.reshape(groups, c // groups * math.prod(kernel), n * math.prod(out_shape))
        g = _channel_major(grad).reshape(groups, cout // groups, -1)
        return np.matmul(g, np.swapaxes(cols, 1, 2)).reshape(tuple(weight_shape))
