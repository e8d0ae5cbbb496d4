"""NumPy overrides of the pooling kernels, where they measurably pay.

``max_pool`` finds each window's maximum and first maximal offset together, by a tournament of
adjacent offsets (one comparison and one maximum per pair, the offsets selected branch-free in
a small int array), a cache-sized block of the batch at a time, and turns the offsets into flat
plane indices through one lookup table, instead of the portable kernel's two ``where`` per
offset and per-dim index arithmetic; the blocks are split over the intra-op threads. Windows holding a NaN go to the portable kernel (PyTorch's scan
lets a later NaN win, which a maximum cannot tell). ``pool_scatter_add`` (the gradient of
every max-type pool) is one ``np.add.at`` over flat global positions (NumPy 2's fast path
for one integer index array: 2-7x faster than ``np.bincount``, which works in float64, on
the CNN benchmark's shapes; the portable kernel's per-axis index grid is slower still).

Where Numba is installed, 2-d max pooling and the scatter-add of C-contiguous float32 or float64
arrays run as compiled loops instead (:mod:`..loops.pooling`, PyTorch's scan: NaN windows too;
``MaxPool2d(2)`` on 64x32x32x32 float32, one thread: 3.7 -> 0.55 ms, its gradient 1.5 -> 0.54 ms).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ember.kernels.conv import window_keys
from ember.kernels.pooling import lowest, pool_padding
from ember.kernels.unsignalling import unsignalling

from .. import loops
from ..parallel import parallel_range

__all__ = ["NumpyPoolingKernels"]


#: bytes of one block of pooled values (the tournament's temporaries stay in the cache; few blocks, so that
#: two threads seldom queue for the GIL)
BLOCK_BYTES = 1 << 18


def _plane_strides(spatial):
    return tuple(math.prod(spatial[i + 1 :]) for i in range(len(spatial)))


def _first_max(leaves, arg_dtype):
    """The elementwise maximum of ``leaves`` and the index of the first leaf that attains it, by a
    tournament of adjacent pairs (the right one wins only when strictly greater, so ties keep the
    first): one comparison and one maximum per pair, the indices selected branch-free in
    ``arg_dtype``."""
    nodes = [(leaf, i) for i, leaf in enumerate(leaves)]
    while len(nodes) > 1:
        paired = []
        for (v1, a1), (v2, a2) in zip(nodes[0::2], nodes[1::2]):
            right = np.greater(v2, v1)
            if isinstance(a1, int) and isinstance(a2, int):
                arg = np.add(right, arg_dtype.type(a1), dtype=arg_dtype)
                if a2 - a1 != 1:
                    arg = np.add(np.multiply(right, arg_dtype.type(a2 - a1), dtype=arg_dtype), arg_dtype.type(a1))
            else:
                a1 = np.full(right.shape, a1, dtype=arg_dtype) if isinstance(a1, int) else a1
                arg = np.subtract(a2, a1, dtype=arg_dtype)
                np.multiply(arg, right, out=arg)
                np.add(arg, a1, out=arg)
            paired.append((np.maximum(v1, v2), arg))
        nodes = paired + nodes[len(paired) * 2 :]
    value, arg = nodes[0]
    return value, np.full(value.shape, arg, dtype=arg_dtype) if isinstance(arg, int) else arg


class NumpyPoolingKernels:
    """Faster NumPy versions of portable pooling kernels."""

    @unsignalling
    def max_pool(self, x, kernel, stride, padding, dilation, out_shape):
        compiled = loops.get() if len(kernel) == 2 else None
        if compiled is not None and loops.takes(x):
            n, c = x.shape[:2]
            values = np.empty((n, c) + tuple(out_shape), dtype=x.dtype)
            indices = np.empty(values.shape, dtype=np.int64)
            planes, x_planes = (n * c,) + tuple(out_shape), x.reshape((n * c,) + x.shape[2:])
            if (kernel, stride, padding, dilation) == ((2, 2), (2, 2), (0, 0), (1, 1)) and all(
                2 * o <= s for o, s in zip(out_shape, x.shape[2:])
            ):  # MaxPool2d(2), every window inside the plane
                loops.launch(compiled.max_pool2d_2x2, x_planes, values.reshape(planes), indices.reshape(planes))
            else:
                loops.launch(
                    compiled.max_pool2d, x_planes, *kernel, *stride, *padding, *dilation,
                    values.reshape(planes), indices.reshape(planes),
                )  # fmt: skip
            return values, indices
        spatial = tuple(x.shape[2:])
        xpad = self.pad_constant(
            x, pool_padding(spatial, kernel, stride, padding, dilation, out_shape), lowest(x.dtype)
        )
        keys = window_keys(kernel, stride, dilation, out_shape)
        n = x.shape[0]
        values = np.empty((n, x.shape[1]) + tuple(out_shape), dtype=x.dtype)
        indices = np.empty(values.shape, dtype=np.int64)
        arg = np.dtype(np.int8 if len(keys) < 128 else np.int64)
        strides = _plane_strides(spatial)
        table = np.array(
            [
                sum(o * d * s for o, d, s in zip(offs, dilation, strides))
                for offs in itertools.product(*map(range, kernel))
            ],
            dtype=np.int64,
        )
        base = np.zeros(tuple(out_shape), dtype=np.int64)
        for i, (o, s, p, st) in enumerate(zip(out_shape, stride, padding, strides)):
            shape = [1] * len(out_shape)
            shape[i] = o
            base += ((np.arange(o, dtype=np.int64) * s - p) * st).reshape(shape)

        step = max(1, BLOCK_BYTES // max(values[:1].nbytes, 1))  # [:1]: an empty batch has no row 0

        def run(first, last):
            for lo in range(first, last, step):
                hi = min(last, lo + step)
                src = xpad[lo:hi]
                value, offset = _first_max([src[key] for key in keys], arg)
                np.copyto(values[lo:hi], value)
                np.add(table.take(offset), base, out=indices[lo:hi])

        parallel_range(n, run, values.size * len(keys))
        if np.isnan(values).any():
            return super().max_pool(x, kernel, stride, padding, dilation, out_shape)
        return values, indices

    def pool_scatter_add(self, values, indices, plane_shape):
        n, c = values.shape[:2]
        p = math.prod(plane_shape)
        q = math.prod(values.shape[2:])
        out = np.empty(n * c * p, dtype=values.dtype)
        compiled = loops.get()
        if compiled is not None and loops.takes(values) and indices.dtype == np.int64 and indices.flags.c_contiguous:
            loops.launch(
                compiled.pool_scatter_add, values.reshape(n * c, q), indices.reshape(n * c, q), out.reshape(n * c, p)
            )
            return out.reshape((n, c) + tuple(plane_shape))

        def run(lo, hi):  # each sample's planes are its own: the samples (zeroed, then added to) split over the threads
            out[lo * c * p : hi * c * p].fill(0)
            target = indices[lo:hi].reshape((hi - lo) * c, q) + (np.arange(lo * c, hi * c) * p)[:, None]
            np.add.at(out, target.reshape(-1), values[lo:hi].reshape(-1))

        parallel_range(n, run, values.size)
        return out.reshape((n, c) + tuple(plane_shape))
