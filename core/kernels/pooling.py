"""Portable pooling kernels, written against ``self.xp`` only.

Inputs are ``(N, C, *spatial)``. Max-type pools return the values and the indices PyTorch
returns: for each output element, the flat position of the chosen element in its input
plane (``sum(coord[i] * prod(spatial[i+1:]))``), first occurrence on ties, NaN wins.
The gradient of every max-type pool is a scatter-add of the output gradient at those
indices (:meth:`pool_scatter_add`), whose adjoint is :meth:`pool_gather`.
"""

from __future__ import annotations

import math

from .. import dtypes
from .conv import window_keys
from .unsignalling import unsignalling

__all__ = ["PoolingKernels", "lowest", "pool_padding"]


def pool_padding(spatial, kernel, stride, padding, dilation, out_shape):
    """``(before, after)`` pads that make every window of the output lie inside the input.

    With ``ceil_mode`` the last window may hang over the right padding; ``after`` grows to
    cover it (and never shrinks below what the output needs).
    """
    return tuple(
        (p, max((o - 1) * s + d * (k - 1) + 1 - n - p, 0))
        for n, k, s, p, d, o in zip(spatial, kernel, stride, padding, dilation, out_shape)
    )


def _floating(dtype):
    """Whether a native ``dtype`` is a floating one (ml_dtypes' bfloat16 has NumPy kind "V", not "f")."""
    named = getattr(dtypes, getattr(dtype, "name", ""), None)
    return dtype.kind == "f" or isinstance(named, dtypes.dtype) and named.is_floating_point


def lowest(dtype):
    """The smallest value of a native ``dtype`` (-inf for a floating one): what max pooling pads
    with, so that padding never wins a window."""
    if _floating(dtype):
        return -math.inf
    if dtype.kind == "i":
        return -(1 << (8 * dtype.itemsize - 1))
    return 0  # unsigned and bool


class PoolingKernels:
    """Portable default pooling kernels (they use :meth:`ConvKernels.pad_constant` of the same table)."""

    @property
    def _int64(self):
        return self.backend.native_dtype(dtypes.int64)

    def _flat_index(self, coords, spatial):
        """Flat plane positions from per-dim coordinate arrays."""
        flat = None
        for i, c in enumerate(coords):
            term = c * math.prod(spatial[i + 1 :])
            flat = term if flat is None else flat + term
        return flat

    def _grid(self, values, axis, ndim):
        """``values`` (1-d) shaped to broadcast along spatial ``axis`` of an ``ndim``-spatial array."""
        shape = [1] * ndim
        shape[axis] = values.shape[0]
        return self.xp.reshape(values, (1, 1) + tuple(shape))

    @unsignalling
    def max_pool(self, x, kernel, stride, padding, dilation, out_shape):
        """Max pooling; returns ``(values, indices)`` (indices int64, flat in the input plane).

        A running max over the kernel offsets, element-wise on strided views (no window
        copies); like PyTorch's scan, a later element wins when greater or NaN.
        """
        xp = self.xp
        nd = len(kernel)
        spatial = tuple(x.shape[2:])
        xpad = self.pad_constant(
            x, pool_padding(spatial, kernel, stride, padding, dilation, out_shape), lowest(x.dtype)
        )
        keys = window_keys(kernel, stride, dilation, out_shape)
        values = xpad[keys[0]]
        arg = xp.zeros(tuple(values.shape), dtype=self._int64)
        for k, key in enumerate(keys[1:], start=1):
            candidate = xpad[key]
            wins = xp.logical_or(candidate > values, xp.isnan(candidate))
            values = xp.where(wins, candidate, values)
            arg = xp.where(wins, k, arg)
        coords = []
        for i in range(nd):
            k_i = (arg // math.prod(kernel[i + 1 :])) % kernel[i]
            start = xp.arange(out_shape[i], dtype=self._int64) * stride[i] - padding[i]
            coords.append(self._grid(start, i, nd) + k_i * dilation[i])
        return values, self._flat_index(coords, spatial)

    @unsignalling
    def pool_gather(self, x, indices):
        """``x`` read at flat plane ``indices``: ``out[n, c, *o] = x[n, c].flat[indices[n, c, *o]]``."""
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        flat = xp.reshape(x, (n, c, math.prod(x.shape[2:])))
        idx = xp.reshape(indices, (n, c, math.prod(indices.shape[2:])))
        return xp.reshape(xp.take_along_axis(flat, idx, axis=2), tuple(indices.shape))

    def pool_scatter_add(self, values, indices, plane_shape):
        """Zeros of ``(N, C, *plane_shape)`` with ``values`` added at flat plane ``indices``."""
        xp = self.xp
        n, c = values.shape[0], values.shape[1]
        out = xp.zeros((n, c, math.prod(plane_shape)), dtype=values.dtype)
        q = math.prod(values.shape[2:])
        self.backend.scatter_add(out, 2, xp.reshape(indices, (n, c, q)), xp.reshape(values, (n, c, q)))
        return xp.reshape(out, (n, c) + tuple(plane_shape))

    def max_unpool(self, values, indices, plane_shape):
        """Zeros of ``(N, C, *plane_shape)`` with ``values`` written (not added) at flat plane ``indices``."""
        xp = self.xp
        n, c = values.shape[0], values.shape[1]
        p = math.prod(plane_shape)
        q = math.prod(values.shape[2:])
        base = xp.reshape(xp.arange(n * c, dtype=indices.dtype) * p, (n * c, 1))
        target = xp.reshape(xp.reshape(indices, (n * c, q)) + base, (n * c * q,))
        out = xp.zeros((n * c * p,), dtype=values.dtype)
        out[target] = xp.reshape(values, (n * c * q,))
        return xp.reshape(out, (n, c) + tuple(plane_shape))

    def _avg_divisor(self, spatial, kernel, stride, padding, out_shape, count_include_pad, divisor_override, dtype):
        """The divisor of every output position, PyTorch's rule, as a broadcastable array."""
        xp = self.xp
        if divisor_override:
            return divisor_override
        divisor = None
        for i, (n, k, s, p, o) in enumerate(zip(spatial, kernel, stride, padding, out_shape)):
            sizes = []
            for j in range(o):
                start = j * s - p
                end = min(start + k, n + p)
                sizes.append(end - start if count_include_pad else min(end, n) - max(start, 0))
            term = self._grid(xp.asarray(sizes, dtype=dtype), i, len(kernel))
            divisor = term if divisor is None else divisor * term
        return divisor

    def avg_pool(self, x, kernel, stride, padding, out_shape, count_include_pad, divisor_override):
        """Average pooling (PyTorch's divisor rule for padding and ``ceil_mode``)."""
        spatial = tuple(x.shape[2:])
        ones = (1,) * len(kernel)
        xpad = self.pad_constant(x, pool_padding(spatial, kernel, stride, padding, ones, out_shape), 0)
        total = None
        for key in window_keys(kernel, stride, ones, out_shape):
            total = xpad[key] if total is None else total + xpad[key]
        divisor = self._avg_divisor(
            spatial, kernel, stride, padding, out_shape, count_include_pad, divisor_override, x.dtype
        )
        return total / divisor

    def avg_pool_backward(self, grad, input_shape, kernel, stride, padding, count_include_pad, divisor_override):
        """Adjoint of :meth:`avg_pool`: ``grad`` spread evenly over each window."""
        xp = self.xp
        spatial = tuple(input_shape[2:])
        out_shape = tuple(grad.shape[2:])
        ones = (1,) * len(kernel)
        pads = pool_padding(spatial, kernel, stride, padding, ones, out_shape)
        divisor = self._avg_divisor(
            spatial, kernel, stride, padding, out_shape, count_include_pad, divisor_override, grad.dtype
        )
        g = grad / divisor
        padded = tuple(input_shape[:2]) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, pads))
        dx = xp.zeros(padded, dtype=grad.dtype)
        for key in window_keys(kernel, stride, ones, out_shape):
            dx[key] = dx[key] + g
        return dx[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, pads))]

    def _windowed_max(self, gathered, starts, lengths, out_shape, spatial):
        """Max over gathered windows ``(N, C, O0, K0, O1, K1, ...)``; starts/lengths per dim.

        ``starts[i]`` broadcasts against ``(N, C, *out_shape)``; window element ``j`` of dim
        ``i`` sits at ``starts[i] + min(j, lengths[i] - 1)`` (short windows repeat their last
        element, which never changes the max nor the first-occurrence argmax); ``lengths``
        is None when every window is full.
        """
        xp = self.xp
        nd = len(out_shape)
        n, c = gathered.shape[0], gathered.shape[1]
        ks = tuple(gathered.shape[3 + 2 * i] for i in range(nd))
        order = (0, 1) + tuple(2 + 2 * i for i in range(nd)) + tuple(3 + 2 * i for i in range(nd))
        windows = xp.reshape(xp.permute_dims(gathered, order), (n, c) + tuple(out_shape) + (math.prod(ks),))
        if not windows.shape[-1]:  # empty windows (a fractional pool's kernel of 0): -inf at each window's start
            coords = [xp.broadcast_to(start, (n, c) + tuple(out_shape)) for start in starts]
            return xp.full(tuple(windows.shape[:-1]), -math.inf, dtype=windows.dtype), self._flat_index(coords, spatial)
        values = xp.max(windows, axis=-1)
        arg = xp.argmax(windows, axis=-1)
        if _floating(windows.dtype):  # like PyTorch's scan (and :meth:`max_pool`), the last NaN wins
            nan = xp.isnan(windows)
            last_nan = windows.shape[-1] - 1 - xp.argmax(xp.flip(nan, axis=-1), axis=-1)
            arg = xp.where(xp.any(nan, axis=-1), last_nan, arg)
        coords = []
        for i in range(nd):
            j = (arg // math.prod(ks[i + 1 :])) % ks[i]
            coords.append(starts[i] + (j if lengths is None else xp.minimum(j, lengths[i] - 1)))
        return values, self._flat_index(coords, spatial)

    def adaptive_max_pool(self, x, out_shape):
        """Adaptive max pooling with bins ``[floor(i*L/O), ceil((i+1)*L/O))``; returns ``(values, indices)``."""
        xp = self.xp
        nd = len(out_shape)
        spatial = tuple(x.shape[2:])
        gathered = x
        starts, lengths = [], []
        for i, (size, o) in enumerate(zip(spatial, out_shape)):
            begin = [(j * size) // o for j in range(o)]
            end = [-((-(j + 1) * size) // o) for j in range(o)]
            k = max((e - b for b, e in zip(begin, end)), default=1)  # an empty output (o = 0): any k
            table = [min(b + t, e - 1) for b, e in zip(begin, end) for t in range(k)]
            gathered = xp.take(gathered, xp.asarray(table, dtype=self._int64), axis=2 + 2 * i)
            shape = tuple(gathered.shape)
            gathered = xp.reshape(gathered, shape[: 2 + 2 * i] + (o, k) + shape[3 + 2 * i :])
            starts.append(self._grid(xp.asarray(begin, dtype=self._int64), i, nd))
            lengths.append(self._grid(xp.asarray([e - b for b, e in zip(begin, end)], dtype=self._int64), i, nd))
        return self._windowed_max(gathered, starts, lengths, out_shape, spatial)

    def fractional_max_pool(self, x, kernel, out_shape, samples):
        """Fractional max pooling (PyTorch's pseudo-random intervals); returns ``(values, indices)``.

        ``samples`` is ``(N, C, nd)`` in ``x``'s dtype; dim ``i`` uses ``samples[..., order[i]]``
        with PyTorch's order (``(1, 0)`` in 2-d, ``(0, 1, 2)`` in 3-d).
        """
        xp = self.xp
        nd = len(kernel)
        spatial = tuple(x.shape[2:])
        order = (1, 0) if nd == 2 else tuple(range(nd))
        i64 = self._int64
        gathered = x
        starts = []
        for i, (size, k, o) in enumerate(zip(spatial, kernel, out_shape)):
            sample = samples[:, :, order[i]]
            start = xp.full(tuple(sample.shape) + (1,), size - k, dtype=i64)
            if o > 1:
                alpha = xp.asarray(size - k, dtype=x.dtype) / xp.asarray(o - 1, dtype=x.dtype)
                steps = (xp.expand_dims(sample, axis=2) + xp.arange(o - 1, dtype=x.dtype)) * alpha
                first = xp.astype(steps, i64) - xp.expand_dims(xp.astype(sample * alpha, i64), axis=2)
                start = xp.concat([first, start], axis=2)
            # start: (N, C, O_i) -> window positions (N, C, O_i * k)
            k = max(k, 0)  # a kernel of 0 or less (which PyTorch takes) gathers empty windows
            pos = xp.reshape(xp.expand_dims(start, axis=3) + xp.arange(k, dtype=i64), tuple(start.shape[:2]) + (o * k,))
            idx_shape = [1] * (2 + 2 * i) + [o * k] + [1] * (nd - i - 1)
            idx_shape[0], idx_shape[1] = start.shape[0], start.shape[1]
            gathered = xp.take_along_axis(gathered, xp.reshape(pos, tuple(idx_shape)), axis=2 + 2 * i)
            shape = tuple(gathered.shape)
            gathered = xp.reshape(gathered, shape[: 2 + 2 * i] + (o, k) + shape[3 + 2 * i :])
            grid = [1] * nd
            grid[i] = o
            starts.append(xp.reshape(start, tuple(start.shape[:2]) + tuple(grid)))
        return self._windowed_max(gathered, starts, None, out_shape, spatial)
