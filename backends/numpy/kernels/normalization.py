"""NumPy overrides of the normalization kernels: fewer passes and one allocation each way.

The portable kernels allocate a temporary per arithmetic step (centered, its square, the
product, the normalised output; grad * xhat and three more in backward). Here the
statistics' sums of products come from ``np.einsum`` (no squared or product temporary),
and the output is built in place in one buffer: forward ``x - mean`` then ``*= invstd``;
backward ``(grad - mean(grad) - xhat * mean(grad * xhat)) * invstd`` as ``xhat * c``,
``+= grad``, ``-= mean(grad)``, ``*= invstd``. The means themselves stay NumPy's pairwise
sums (``einsum`` accumulates naively, which is fine for the centered squares and the
gradient products but not for the mean of a large offset).

The element-wise passes go over the leading axis a cache-sized block at a time
(:data:`BLOCK_BYTES`), the blocks split over the intra-op threads: backward's four passes
meet in the cache (64x32x32x32 float32, one thread: 6.5 -> 5.9 ms) and, with two threads,
run on both cores.

Where Numba is installed, batch norm over every axis but the channels' of C-contiguous float32 or
float64 arrays runs as compiled loops instead (:mod:`..loops.normalization`: float64 statistics,
the same element-wise roundings; 64x32x32x32 float32, one thread: forward 2.95 -> 1.53 ms,
backward 2.71 -> 1.59 ms; two threads: 2.26 -> 0.84 and 2.13 -> 0.87 ms). So does the
standardisation over trailing axes of layer, group and instance norm, each row a channel.
"""

from __future__ import annotations

import math

import numpy as np

from .. import loops
from ..parallel import parallel_range

__all__ = ["NumpyNormalizationKernels"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"

#: bytes of one block of the leading axis (inside an L2 cache; few enough blocks that two threads seldom
#: queue for the GIL between their NumPy calls: 256 KB blocks ran slower on 2 threads than on 1)
BLOCK_BYTES = 1 << 20


def _by_leading_blocks(out, fn):
    """Run ``fn(lo, hi)`` over ``out``'s leading axis in cache-sized blocks, split over the threads."""
    step = max(1, BLOCK_BYTES // max(out[:1].nbytes, 1))

    def run(first, last):
        for lo in range(first, last, step):
            fn(lo, min(last, lo + step))

    parallel_range(out.shape[0], run, out.size)


def _block_sums(out, fn):
    """The sum of ``fn(lo, hi)`` over ``out``'s leading axis in cache-sized blocks, the blocks split over
    the threads; the blocks and the order of the sum do not depend on the thread count."""
    step = max(1, BLOCK_BYTES // max(out[:1].nbytes, 1))
    starts = range(0, out.shape[0], step)
    parts = [None] * len(starts)

    def run(first, last):
        for i in range(first, last):
            parts[i] = fn(starts[i], min(out.shape[0], starts[i] + step))

    parallel_range(len(starts), run, out.size)
    return sum(parts[1:], parts[0])


def _rows(a, lo, hi):
    """``a[lo:hi]`` unless ``a`` broadcasts along the leading axis (size 1 there)."""
    return a if a.ndim == 0 or a.shape[0] == 1 else a[lo:hi]


def _dot_over(a, b, axes):
    """``sum(a * b)`` over ``axes`` (keeping them, size 1) without the product temporary."""
    if a.ndim > len(_LETTERS) or a.dtype.kind != "f":  # einsum has no bfloat16 (an ml_dtypes extension type)
        return np.sum(a * b, axis=axes, keepdims=True)
    axes = {ax % a.ndim for ax in axes}
    full = _LETTERS[: a.ndim]
    kept = "".join(ch for i, ch in enumerate(full) if i not in axes)
    out = np.einsum(f"{full},{full}->{kept}", a, b)
    return out.reshape(tuple(1 if i in axes else s for i, s in enumerate(a.shape)))


def _centered_stats(x, axes, eps):
    """``(x - mean, mean, var, invstd)`` over ``axes``, the centered values in one fresh buffer."""
    count = math.prod(x.shape[a] for a in axes)
    mean = np.mean(x, axis=axes, keepdims=True)
    centered = np.subtract(x, mean)
    var = _dot_over(centered, centered, axes) / count
    return centered, mean, var, 1.0 / np.sqrt(var + eps)


def _channel(param, shape):
    return None if param is None else param.reshape(shape)


def _spread(a, like):
    """Per-channel ``a`` (size 1 along the leading axis, or None) as a contiguous row ``(1, *like.shape[1:])``:
    an op between a block of ``like`` and the row runs one long inner loop, not one per channel (and
    position), which costs a third less (64x64x16x16 float32: 0.51 -> 0.34 ms a product)."""
    return None if a is None else np.ascontiguousarray(np.broadcast_to(a, (1,) + like.shape[1:]))


class NumpyNormalizationKernels:
    """Faster NumPy versions of portable normalization kernels."""

    def normalize_forward(self, x, axes, eps):
        compiled = _compiled_over_rows(x, axes)
        if compiled is not None:
            return _compiled_normalize_forward(compiled, x, axes, eps)
        out, mean, var, invstd = _centered_stats(x, axes, eps)
        np.multiply(out, invstd, out=out)
        return out, mean, var, invstd

    def batch_norm_forward(self, x, axes, eps, weight, bias):
        compiled = _compiled_over_channels(x, axes)
        if compiled is not None and all(p is None or p.dtype == x.dtype for p in (weight, bias)):
            return _compiled_batch_norm_forward(compiled, x, eps, weight, bias)
        if (weight is None and bias is None) or x.ndim == 0 or x.size == 0:
            return super().batch_norm_forward(x, axes, eps, weight, bias)
        count = math.prod(x.shape[a] for a in axes)
        mean = np.mean(x, axis=axes, keepdims=True)
        xhat = np.empty(x.shape, dtype=np.result_type(x, mean))
        mean_row = _spread(mean, x)

        def center(lo, hi):  # the centered values, and their squares summed while the block is in cache
            rows = xhat[lo:hi]
            np.subtract(x[lo:hi], mean_row, out=rows)
            return _dot_over(rows, rows, axes)

        var = _block_sums(xhat, center) / count
        invstd = 1.0 / np.sqrt(var + eps)
        weight, bias = _channel(weight, invstd.shape), _channel(bias, invstd.shape)
        # y = centered * (invstd * weight) + bias, each block while its centered values are in cache
        scale = invstd if weight is None else invstd * weight
        y = np.empty(xhat.shape, dtype=np.result_type(*(a for a in (xhat, scale, bias) if a is not None)))
        scale_row, bias_row, invstd_row = _spread(scale, x), _spread(bias, x), _spread(invstd, x)

        def block(lo, hi):
            part, rows = y[lo:hi], xhat[lo:hi]
            np.multiply(rows, scale_row, out=part)
            if bias is not None:
                np.add(part, bias_row, out=part)
            np.multiply(rows, invstd_row, out=rows)

        _by_leading_blocks(y, block)
        return y, xhat, mean, var, invstd

    def normalize_backward(self, grad, xhat, invstd, axes):
        if xhat.ndim == 0 or xhat.size == 0:
            return super().normalize_backward(grad, xhat, invstd, axes)
        compiled = _compiled_over_rows(grad, axes, xhat)
        if compiled is not None and invstd.dtype == grad.dtype:
            return _compiled_normalize_backward(compiled, grad, xhat, invstd, axes)
        return _normalize_backward(grad, xhat, invstd, axes)

    def batch_norm_backward(self, grad, xhat, invstd, axes, weight):
        compiled = _compiled_over_channels(grad, axes, xhat)
        if compiled is not None and (weight is None or weight.dtype == grad.dtype):
            return _compiled_batch_norm_backward(compiled, grad, xhat, invstd, weight)
        if xhat.ndim == 0 or xhat.size == 0:
            return super().batch_norm_backward(grad, xhat, invstd, axes, weight)
        count = math.prod(grad.shape[a] for a in axes)
        scale = invstd if weight is None else invstd * weight.reshape(invstd.shape)
        # float16 sums accumulate in float32 (as np.mean does)
        wide = np.float32 if grad.dtype == np.float16 else None

        def both_sums(lo, hi):  # sum(grad) and sum(grad * xhat), the block read once from memory
            rows = grad[lo:hi]
            return np.stack([np.sum(rows, axis=axes, keepdims=True, dtype=wide), _dot_over(rows, xhat[lo:hi], axes)])

        sum_grad, sum_grad_xhat = _block_sums(grad, both_sums)
        mean_grad = (sum_grad / count).astype(grad.dtype, copy=False)
        coeff = -(sum_grad_xhat / count)
        grad_x = _grad_input(grad, xhat, _spread(scale, grad), _spread(mean_grad, grad), _spread(coeff, grad))
        return grad_x, sum_grad_xhat.reshape(-1), sum_grad.astype(grad.dtype, copy=False).reshape(-1)


def _normalize_backward(grad, xhat, scale, axes):
    """``(grad - mean(grad) - xhat * mean(grad * xhat)) * scale``, means over ``axes``."""
    count = math.prod(grad.shape[a] for a in axes)
    mean_grad = np.mean(grad, axis=axes, keepdims=True)  # float16 accumulates in float32 here
    return _grad_input(grad, xhat, scale, mean_grad, -(_dot_over(grad, xhat, axes) / count))


def _grad_input(grad, xhat, scale, mean_grad, coeff):
    """``(xhat * coeff + grad - mean_grad) * scale`` in one buffer, by cache-sized blocks."""
    out = np.empty(xhat.shape, dtype=np.result_type(xhat, coeff, scale))

    def block(lo, hi):
        part = out[lo:hi]
        np.multiply(xhat[lo:hi], _rows(coeff, lo, hi), out=part)
        np.add(part, grad[lo:hi], out=part)
        np.subtract(part, _rows(mean_grad, lo, hi), out=part)
        np.multiply(part, _rows(scale, lo, hi), out=part)

    _by_leading_blocks(out, block)
    return out


def _compiled_over_channels(x, axes, *others):
    """The compiled loops where they serve a normalization of ``x`` over every axis but axis 1, else None."""
    if x.ndim < 2 or set(axes) != {a for a in range(x.ndim) if a != 1}:
        return None
    compiled = loops.get()
    return compiled if compiled is not None and loops.takes(x, *others) else None


def _compiled_over_rows(x, axes, *others):
    """The compiled loops where they serve a standardisation of ``x`` over its trailing axes (each row of
    the leading ones a channel), else None."""
    if not axes or x.size == 0 or tuple(sorted(axes)) != tuple(range(x.ndim - len(axes), x.ndim)):
        return None
    compiled = loops.get()
    return compiled if compiled is not None and loops.takes(x, *others) else None


def _as_rows(a, axes):
    """``a`` (C-contiguous) viewed as ``(1, rows, row size)``: its trailing ``axes`` flattened into rows."""
    return a.reshape(1, -1, math.prod(a.shape[a.ndim - len(axes) :]))


def _compiled_normalize_forward(compiled, x, axes, eps):
    rows = _as_rows(x, axes)
    keep = x.shape[: x.ndim - len(axes)] + (1,) * len(axes)
    mean, var, invstd = _compiled_moments(compiled, rows, eps)
    xhat = np.empty(x.shape, dtype=x.dtype)
    loops.launch(compiled.standardize, rows, mean, invstd, _as_rows(xhat, axes))
    return xhat, mean.reshape(keep), var.reshape(keep), invstd.reshape(keep)


def _compiled_normalize_backward(compiled, grad, xhat, invstd, axes):
    scale = np.ascontiguousarray(invstd.reshape(-1))
    out, _, _ = _compiled_gradient(compiled, _as_rows(grad, axes), _as_rows(xhat, axes), scale)
    return out.reshape(grad.shape)


def _as_channels(a):
    """``a`` (C-contiguous, channels on axis 1) viewed as ``(N, C, S)``."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _compiled_moments(compiled, x, eps):
    """Each channel's ``(mean, var, invstd)`` of an ``(N, C, S)`` view ``x``: float64 sums, rounded to
    ``x``'s dtype."""
    dtype = x.dtype
    mean64, var64 = np.empty(x.shape[1]), np.empty(x.shape[1])
    loops.launch(compiled.channel_moments, x, mean64, var64)
    mean, var = mean64.astype(dtype), var64.astype(dtype)
    return mean, var, 1.0 / np.sqrt(var + dtype.type(eps))


def _compiled_gradient(compiled, grad, xhat, scale):
    """``(grad_x, sum_grad, sum_grad_xhat)`` of ``(N, C, S)`` views: each channel's float64 sums of
    ``grad`` and ``grad * xhat``, and the input gradient ``(xhat * coeff + grad - mean_grad) * scale``
    (``(N, C, S)``, ``scale`` per channel) that the means of those sums give."""
    channels, dtype = grad.shape[1], grad.dtype
    count = grad.size // channels
    sum_grad, sum_grad_xhat = np.empty(channels), np.empty(channels)
    loops.launch(compiled.channel_gradient_sums, grad, xhat, sum_grad, sum_grad_xhat)
    coeff = (-(sum_grad_xhat / count)).astype(dtype)
    mean_grad = (sum_grad / count).astype(dtype)
    out = np.empty(grad.shape, dtype=dtype)
    loops.launch(compiled.normalize_backward, grad, xhat, coeff, mean_grad, scale, out)
    return out, sum_grad, sum_grad_xhat


def _compiled_batch_norm_forward(compiled, x, eps, weight, bias):
    channels, dtype = x.shape[1], x.dtype
    keep = (1, channels) + (1,) * (x.ndim - 2)
    mean, var, invstd = _compiled_moments(compiled, _as_channels(x), eps)
    scale = invstd if weight is None else invstd * weight.reshape(-1)  # (the caller checked the dtypes)
    shift = np.zeros(channels, dtype=dtype) if bias is None else np.ascontiguousarray(bias.reshape(-1))
    y, xhat = np.empty(x.shape, dtype=dtype), np.empty(x.shape, dtype=dtype)
    loops.launch(compiled.normalize, _as_channels(x), mean, invstd, scale, shift, _as_channels(y), _as_channels(xhat))
    return y, xhat, mean.reshape(keep), var.reshape(keep), invstd.reshape(keep)


def _compiled_batch_norm_backward(compiled, grad, xhat, invstd, weight):
    dtype = grad.dtype
    invstd = invstd.reshape(-1).astype(dtype, copy=False)
    scale = invstd if weight is None else invstd * weight.reshape(-1)  # (the caller checked the dtypes)
    out, sum_grad, sum_grad_xhat = _compiled_gradient(compiled, _as_channels(grad), _as_channels(xhat), scale)
    return out.reshape(grad.shape), sum_grad_xhat.astype(dtype), sum_grad.astype(dtype)
