"""NumPy overrides of the pooling kernels, where they measurably pay.

``max_pool`` takes the running maximum with ``np.maximum`` into one output buffer, then finds
each window's first maximal offset once (counting the leading offsets that miss the maximum,
branch-free, into a small int array) and turns it into flat plane indices through one lookup table, instead of the
portable kernel's two ``where`` per offset and per-dim index arithmetic; the batch is split
over the intra-op threads. Windows holding a NaN go to the portable kernel (PyTorch's scan
lets a later NaN win, which a maximum cannot tell). ``pool_scatter_add`` (the gradient of
every max-type pool) is one ``np.add.at`` over flat global positions (NumPy 2's fast path
for one integer index array: 2-7x faster than ``np.bincount``, which works in float64, on
the CNN benchmark's shapes; the portable kernel's per-axis index grid is slower still).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ember.kernels.conv import window_keys
from ember.kernels.pooling import lowest, pool_padding

from ..parallel import parallel_range

__all__ = ["NumpyPoolingKernels"]


def _plane_strides(spatial):
    return tuple(math.prod(spatial[i + 1 :]) for i in range(len(spatial)))


class NumpyPoolingKernels:
    """Faster NumPy versions of portable pooling kernels."""

    def max_pool(self, x, kernel, stride, padding, dilation, out_shape):
        spatial = tuple(x.shape[2:])
        xpad = self.pad_constant(
            x, pool_padding(spatial, kernel, stride, padding, dilation, out_shape), lowest(x.dtype)
        )
        keys = window_keys(kernel, stride, dilation, out_shape)
        n = x.shape[0]
        values = np.empty((n, x.shape[1]) + tuple(out_shape), dtype=x.dtype)
        indices = np.empty(values.shape, dtype=np.int64)
        arg = np.empty(values.shape, dtype=np.int8 if len(keys) < 128 else np.int64)
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

        def run(lo, hi):
            src, val, a = xpad[lo:hi], values[lo:hi], arg[lo:hi]
            np.copyto(val, src[keys[0]])
            for key in keys[1:]:
                np.maximum(val, src[key], out=val)
            # the first maximal offset = the number of leading offsets that miss the max, counted
            # branch-free (a masked write per offset runs at branch-mispredict speed on random data)
            a.fill(0)
            missed = np.ones(val.shape, dtype=bool)
            for key in keys[:-1]:
                np.logical_and(missed, np.not_equal(src[key], val), out=missed)
                np.add(a, missed, out=a, casting="unsafe")
            np.add(table.take(a), base, out=indices[lo:hi])

        parallel_range(n, run, values.size * len(keys))
        if np.isnan(values).any():
            return super().max_pool(x, kernel, stride, padding, dilation, out_shape)
        return values, indices

    def pool_scatter_add(self, values, indices, plane_shape):
        n, c = values.shape[:2]
        p = math.prod(plane_shape)
        q = math.prod(values.shape[2:])
        out = np.zeros(n * c * p, dtype=values.dtype)

        def run(lo, hi):  # each sample's planes are its own: the samples split over the threads
            target = indices[lo:hi].reshape((hi - lo) * c, q) + (np.arange(lo * c, hi * c) * p)[:, None]
            np.add.at(out, target.reshape(-1), values[lo:hi].reshape(-1))

        parallel_range(n, run, values.size)
        return out.reshape((n, c) + tuple(plane_shape))
