"""2-d max pooling and the scatter-add of its gradient as compiled loops over ``(P, H, W)``
C-contiguous planes (``P = N * C``), the planes split over the threads (see :mod:`.runtime`).

Each window is scanned as PyTorch scans it: row by row from its first position inside the plane
(padding is never read), a value replaces the running maximum when it is greater or NaN (so ties
keep the first, and the last NaN wins), and the index is flat in the plane. The gradient adds each
output's gradient at its index in output order, plane by plane: the sums where windows overlap come
out as PyTorch's.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["max_pool2d", "max_pool2d_2x2", "pool_scatter_add"]


@njit(parallel=True, nogil=True, cache=True)
def max_pool2d(x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, values, indices):
    """Each window's maximum into ``values`` and its flat plane index into ``indices`` (both ``(P, OH, OW)``)."""
    planes, height, width = x.shape
    out_h, out_w = values.shape[1], values.shape[2]
    for p in prange(planes):
        for oh in range(out_h):
            top = oh * stride_h - pad_h
            for ow in range(out_w):
                left = ow * stride_w - pad_w
                best = -np.inf
                arg = -1
                for a in range(kernel_h):
                    h = top + a * dilation_h
                    if h < 0 or h >= height:
                        continue
                    for b in range(kernel_w):
                        w = left + b * dilation_w
                        if w < 0 or w >= width:
                            continue
                        value = x[p, h, w]
                        take = (value > best) | (value != value) | (arg < 0)  # no branch: a select
                        best = value if take else best
                        arg = h * width + w if take else arg
                values[p, oh, ow] = best
                indices[p, oh, ow] = arg


@njit(inline="always")
def _take(value, best, arg, index):
    """The running maximum and its index after ``value`` at ``index``: taken when greater or NaN."""
    take = (value > best) | (value != value)
    return (value if take else best), (index if take else arg)


@njit(parallel=True, nogil=True, cache=True)
def max_pool2d_2x2(x, values, indices):
    """:func:`max_pool2d` for 2x2 windows at stride 2 without padding or dilation (``MaxPool2d(2)``),
    the four positions unrolled: branch-free selects that vectorize."""
    planes, width = x.shape[0], x.shape[2]
    out_h, out_w = values.shape[1], values.shape[2]
    for p in prange(planes):
        for oh in range(out_h):
            top, bottom = 2 * oh, 2 * oh + 1
            for ow in range(out_w):
                left = 2 * ow
                best, arg = x[p, top, left], top * width + left
                best, arg = _take(x[p, top, left + 1], best, arg, top * width + left + 1)
                best, arg = _take(x[p, bottom, left], best, arg, bottom * width + left)
                best, arg = _take(x[p, bottom, left + 1], best, arg, bottom * width + left + 1)
                values[p, oh, ow] = best
                indices[p, oh, ow] = arg


@njit(parallel=True, nogil=True, cache=True)
def pool_scatter_add(grad, indices, out):
    """``out[p]`` zeroed, then ``grad[p, q]`` added at ``out[p, indices[p, q]]`` in the order of ``q``
    (``grad``, ``indices``: ``(P, Q)``; ``out``: ``(P, plane)``)."""
    planes, count = grad.shape
    for p in prange(planes):
        out[p, :] = 0
        for q in range(count):
            out[p, indices[p, q]] += grad[p, q]
