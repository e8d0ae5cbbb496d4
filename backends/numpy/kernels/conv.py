"""NumPy overrides of the conv kernels: channel-major columns, a cache-sized batch chunk at a time.

The portable kernels stack the kernel offsets into ``(N, C, K, *out)`` columns and run one
small matmul per sample (NumPy loops over the batch, each product too small to thread
well). Here the batch goes through in chunks of a few samples, sized so that one chunk's
columns (:data:`CHUNK_BYTES`) stay in the cache between the copy that makes them and the
GEMM that reads them (the whole batch's columns, 19 MB for a 32-channel 16x16 layer at
batch 64, made a round trip through memory). A chunk's columns are laid out
``(C, K, m, *out)``: each kernel offset is one strided copy, and the chunk is one GEMM per
group, ``(C_out, C*K) @ (C*K, m*P)`` (forward), ``(C*K, C_out) @ (C_out, m*P)`` (input
gradient, whose col2im adds each offset's columns in place into the chunk's padded rows)
and ``(C_out, m*P) @ (m*P, C*K)`` (weight gradient, accumulated over the chunks), which
BLAS threads. Copies are split over the intra-op threads.

With a short contraction (``C/groups * K`` under :data:`MIN_CONTRACTION`, e.g. a first layer
on RGB images) OpenBLAS runs the wide GEMM slower than the per-sample products (3x3 on
3 channels, batch 64 at 32x32: 5.0 ms against 1.5 ms), so the portable kernels serve those,
and the dtypes BLAS does not multiply in their own precision (bfloat16, integers).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ember.kernels.conv import conv_output_shape, window_keys

from ..parallel import parallel_range

__all__ = ["NumpyConvKernels"]

MIN_CONTRACTION = 64

#: bytes of one batch chunk's columns (about one L2 cache): 3 samples of a 32-channel 3x3
#: layer at 16x16, 7 of a 64-channel one at 8x8
CHUNK_BYTES = 1 << 20


def _gemm_path(x, weight_shape):
    return x.dtype.kind == "f" and math.prod(weight_shape[1:]) >= MIN_CONTRACTION


def _chunk(n, per_sample_bytes):
    """Samples per chunk: as many as fit :data:`CHUNK_BYTES`, at least one."""
    return min(n, max(1, CHUNK_BYTES // max(per_sample_bytes, 1)))


class _Scratch:
    """One flat buffer whose leading elements serve as a C-contiguous array of any smaller shape."""

    def __init__(self, size, dtype):
        self.flat = np.empty(size, dtype=dtype)

    def view(self, shape):
        return self.flat[: math.prod(shape)].reshape(shape)


def _fill_columns(cols, xt, keys):
    """``cols[:, k] = xt[keys[k]]`` for every kernel offset ``k``; ``xt`` is ``(C, m, *padded)``."""

    def run(lo, hi):
        for k, key in enumerate(keys):
            np.copyto(cols[lo:hi, k], xt[lo:hi][key])

    parallel_range(cols.shape[0], run, cols.size)


class NumpyConvKernels:
    """Faster NumPy versions of portable conv kernels."""

    def conv(self, x, weight, stride, padding, dilation, groups):
        if not _gemm_path(x, weight.shape) or weight.dtype != x.dtype:
            return super().conv(x, weight, stride, padding, dilation, groups)
        return self._gemm_conv(x, weight, None, stride, padding, dilation, groups)

    def conv_bias(self, x, weight, bias, stride, padding, dilation, groups):
        if not _gemm_path(x, weight.shape) or weight.dtype != x.dtype or bias.dtype != x.dtype:
            return super().conv_bias(x, weight, bias, stride, padding, dilation, groups)
        return self._gemm_conv(x, weight, bias, stride, padding, dilation, groups)

    def _gemm_conv(self, x, weight, bias, stride, padding, dilation, groups):
        """The convolution by chunks of im2col columns and one GEMM each; ``bias`` (or None) is added
        as each chunk's product is copied into the output."""
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        xp = self.pad_constant(x, padding, 0)
        out_shape = conv_output_shape(xp.shape[2:], kernel, stride, dilation)
        p, k = math.prod(out_shape), math.prod(kernel)
        keys = window_keys(kernel, stride, dilation, out_shape)
        w = weight.reshape(groups, cout // groups, c // groups * k)
        step = _chunk(n, c * k * p * x.itemsize)
        cols, res = _Scratch(c * k * step * p, x.dtype), _Scratch(cout * step * p, x.dtype)
        out = np.empty((n, cout, p), dtype=x.dtype)
        for lo in range(0, n, step):
            m = min(n, lo + step) - lo
            chunk_cols = cols.view((c, k, m) + out_shape)
            _fill_columns(chunk_cols, np.swapaxes(xp[lo : lo + m], 0, 1), keys)
            product = res.view((groups, cout // groups, m * p))
            np.matmul(w, chunk_cols.reshape(groups, -1, m * p), out=product)
            product = np.swapaxes(product.reshape(cout, m, p), 0, 1)
            if bias is None:
                np.copyto(out[lo : lo + m], product)
            else:
                np.add(product, bias[:, None], out=out[lo : lo + m])
        return out.reshape((n, cout) + out_shape)

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        if not _gemm_path(grad, weight.shape) or weight.dtype != grad.dtype:
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        n, cout = grad.shape[0], grad.shape[1]
        out_shape = tuple(grad.shape[2:])
        c, kernel = input_shape[1], tuple(weight.shape[2:])
        p, k = math.prod(out_shape), math.prod(kernel)
        spatial = tuple(input_shape[2:])
        w_t = np.ascontiguousarray(np.swapaxes(weight.reshape(groups, cout // groups, -1), 1, 2))
        if all(s == 1 for s in stride) and np.isfinite(w_t).all():
            return self._backward_input_flat(grad, w_t, input_shape, kernel, padding, dilation, groups)
        keys = window_keys(kernel, stride, dilation, out_shape)
        step = _chunk(n, c * k * p * grad.itemsize)
        g, d = _Scratch(cout * step * p, grad.dtype), _Scratch(c * k * step * p, grad.dtype)
        dx = np.zeros((n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding)), dtype=grad.dtype)
        for lo in range(0, n, step):
            m = min(n, lo + step) - lo
            chunk_g = g.view((cout, m, p))
            np.copyto(chunk_g, np.swapaxes(grad[lo : lo + m].reshape(m, cout, p), 0, 1))
            dcols = d.view((groups, c // groups * k, m * p))
            np.matmul(w_t, chunk_g.reshape(groups, cout // groups, m * p), out=dcols)
            dcols = dcols.reshape((c, k, m) + out_shape)
            part = np.swapaxes(dx[lo : lo + m], 0, 1)

            def run(first, last, part=part, dcols=dcols):
                rows = part[first:last]
                for i, key in enumerate(keys):
                    view = rows[key]
                    np.add(view, dcols[first:last, i], out=view)

            parallel_range(c, run, dcols.size)
        inner = dx[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))]
        return np.ascontiguousarray(inner)

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        if not _gemm_path(x, weight_shape) or grad.dtype != x.dtype:
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        p, k = math.prod(out_shape), math.prod(kernel)
        xp = self.pad_constant(x, padding, 0)
        keys = window_keys(kernel, stride, dilation, out_shape)
        step = _chunk(n, c * k * p * x.itemsize)
        cols, g = _Scratch(c * k * step * p, x.dtype), _Scratch(cout * step * p, x.dtype)
        dw = np.zeros((groups, cout // groups, c // groups * k), dtype=x.dtype)
        for lo in range(0, n, step):
            m = min(n, lo + step) - lo
            chunk_cols, chunk_g = cols.view((c, k, m) + out_shape), g.view((cout, m, p))
            _fill_columns(chunk_cols, np.swapaxes(xp[lo : lo + m], 0, 1), keys)
            np.copyto(chunk_g, np.swapaxes(grad[lo : lo + m].reshape(m, cout, p), 0, 1))
            product = np.matmul(
                chunk_g.reshape(groups, cout // groups, m * p), np.swapaxes(chunk_cols.reshape(groups, -1, m * p), 1, 2)
            )
            np.add(dw, product, out=dw)
        return dw.reshape(tuple(weight_shape))

    def _backward_input_flat(self, grad, w_t, input_shape, kernel, padding, dilation, groups):
        """The input gradient of a unit-stride conv, col2im on flat rows.

        The strided col2im adds each offset's columns row by row of the last spatial dim (16
        floats at 16x16: NumPy's per-row overhead dominates). With unit stride, offset
        ``o`` moves a window by a fixed flat distance ``base(o)`` in the padded input, so the
        gradient is laid out on a grid ``(out_0, *padded[1:])`` (zeros where the padded dims
        are wider than the output) and each offset's columns add to one flat run of the
        padded buffer per channel and sample. The zero columns cost a wider GEMM (12-25% on
        3x3 layers at 16x16-8x8); their products are exact zeros because ``w_t`` is finite
        (the caller checks), so they add nothing where they land.
        """
        n, cout = grad.shape[0], grad.shape[1]
        c, k = input_shape[1], math.prod(kernel)
        out_shape, spatial = tuple(grad.shape[2:]), tuple(input_shape[2:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
        grid = out_shape[:1] + padded[1:]
        length = math.prod(grid)
        strides = [math.prod(padded[i + 1 :]) for i in range(len(padded))]
        bases = [
            sum(o * d * s for o, d, s in zip(offs, dilation, strides))
            for offs in itertools.product(*(range(size) for size in kernel))
        ]
        run_size = max(math.prod(padded), bases[-1] + length)
        step = _chunk(n, c * k * length * grad.itemsize)
        real = tuple(slice(0, size) for size in out_shape)
        inner = tuple(slice(lo, lo + size) for size, (lo, _) in zip(spatial, padding))
        g = np.zeros((cout, step) + grid, dtype=grad.dtype)  # the grid's extra columns stay zero
        d, acc = _Scratch(c * k * step * length, grad.dtype), _Scratch(c * step * run_size, grad.dtype)
        dx = np.empty(tuple(input_shape), dtype=grad.dtype)
        for lo in range(0, n, step):
            m = min(n, lo + step) - lo
            if m < step:  # a shorter last chunk: a grid of its own, zero outside the gradient
                g = np.zeros((cout, m) + grid, dtype=grad.dtype)
            chunk_g = g[:, :m]
            np.copyto(chunk_g[(slice(None), slice(None)) + real], np.swapaxes(grad[lo : lo + m], 0, 1))
            dcols = d.view((groups, c // groups * k, m * length))
            np.matmul(w_t, chunk_g.reshape(groups, cout // groups, m * length), out=dcols)
            dcols = dcols.reshape(c, k, m, length)
            rows = acc.view((c, m, run_size))
            rows.fill(0)

            def run(first, last, rows=rows, dcols=dcols):
                for i, base in enumerate(bases):
                    view = rows[first:last, :, base : base + length]
                    np.add(view, dcols[first:last, i], out=view)

            parallel_range(c, run, dcols.size)
            planes = rows[:, :, : math.prod(padded)].reshape((c, m) + padded)
            np.copyto(dx[lo : lo + m], np.swapaxes(planes[(slice(None), slice(None)) + inner], 0, 1))
        return dx
