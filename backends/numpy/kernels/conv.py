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
from ember.kernels.unsignalling import unsignalling
from ember.strides import ordered_strides

from ..parallel import parallel_gemm_range, parallel_range

__all__ = ["NumpyConvKernels"]

MIN_CONTRACTION = 64

#: bytes of one batch chunk's columns (about one L2 cache): 3 samples of a 32-channel 3x3
#: layer at 16x16, 7 of a 64-channel one at 8x8
CHUNK_BYTES = 1 << 20


def _gemm_path(x, weight_shape):
    return x.dtype.kind == "f" and math.prod(weight_shape[1:]) >= MIN_CONTRACTION


def _sample_path(x, weight_shape):
    """A short contraction on a float dtype BLAS multiplies: per-sample products, the batch split."""
    return x.dtype.kind == "f" and x.dtype.itemsize >= 4 and math.prod(weight_shape[1:]) < MIN_CONTRACTION


def is_channels_last(a):
    """Whether ``a`` (``(N, C, *spatial)``) is laid out channels-last and not also C-contiguous (PyTorch's
    ``suggest_memory_format``, for the layouts a convolution meets)."""
    if a.ndim not in (4, 5) or a.flags.c_contiguous:
        return False
    order = (0, *range(2, a.ndim), 1)
    return a.strides == tuple(s * a.itemsize for s in ordered_strides(a.shape, order))


def _chunk(n, per_sample_bytes):
    """Samples per chunk: as many as fit :data:`CHUNK_BYTES`, at least one (an empty batch too: no chunk runs)."""
    return max(1, min(n, CHUNK_BYTES // max(per_sample_bytes, 1)))


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


def _rows(a):
    """``a``'s last axis (contiguous) as one opaque element: NumPy copies short rows (the 8-16 floats
    of a plane row moved between pitches) a third faster as one block each than element by element."""
    if a.shape[-1] > 1 and a.strides[-1] == a.itemsize:
        return a.view(np.dtype((np.void, a.shape[-1] * a.itemsize)))[..., 0]
    return a


def _copy_rows(dst, src):
    """``dst[...] = src``, row by row (:func:`_rows`) where both have the same dtype and contiguous rows."""
    if dst.dtype == src.dtype and dst.ndim > 1 and dst.strides[-1] == src.strides[-1] == dst.itemsize:
        dst, src = _rows(dst), _rows(src)
    np.copyto(dst, src)


class _Pitch:
    """Where a unit-stride convolution finds its windows in a pitched copy of its input.

    Each plane is laid out flat with every non-leading dim widened to
    ``size + max(before, after)`` (data first, zeros after) and the leading dim padded
    ``before``/``after`` as usual: one run of zeros then serves as the right padding of a
    row and the left padding of the next. A kernel offset ``t`` then moves every window by
    one flat distance (:attr:`bases`), so its im2col columns for one channel and sample are
    one contiguous run (:attr:`run`) of the flat plane, on an output grid
    ``(out_0, *widened[1:])`` whose extra positions (beyond ``out_d``) hold garbage that the
    caller drops or multiplies by zeros. :attr:`fits` is False when the output is wider than
    the widened dims (a padding beyond the kernel's span).
    """

    def __init__(self, spatial, kernel, padding, dilation):
        self.out = conv_output_shape(
            tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding)), kernel, (1,) * len(kernel), dilation
        )
        (lo0, hi0), rest = padding[0], padding[1:]
        self.extents = (spatial[0] + lo0 + hi0,) + tuple(s + max(p) for s, p in zip(spatial[1:], rest))
        self.fits = all(o <= e for o, e in zip(self.out[1:], self.extents[1:]))
        strides = [math.prod(self.extents[i + 1 :]) for i in range(len(spatial))]
        self.front = sum(lo * st for (lo, _), st in zip(rest, strides[1:]))
        self.kernel = tuple(kernel)
        self.steps = tuple(d * st for d, st in zip(dilation, strides))  # flat distance of one offset per dim
        self.bases = [sum(o * st for o, st in zip(offs, self.steps)) for offs in itertools.product(*map(range, kernel))]
        self.run = self.out[0] * strides[0]
        self.length = max(self.front + math.prod(self.extents), self.bases[-1] + self.run)
        self.grid = self.out[:1] + self.extents[1:]
        self.data = (slice(lo0, lo0 + spatial[0]),) + tuple(slice(0, s) for s in spatial[1:])
        self.real = tuple(slice(0, o) for o in self.out)

    def zero_planes(self, m, c, dtype):
        """Zeroed pitched planes for ``m`` samples ``(m, C, length)``; :meth:`copy_in` writes only the data
        positions, so the padding stays zero from one chunk to the next."""
        return np.zeros((m, c, self.length), dtype=dtype)

    def copy_in(self, planes, x):
        """``x`` ``(m, C, *spatial)`` copied into the data positions of ``planes`` ``(m, C, length)``;
        returns them channel-major ``(C, m, length)``."""
        body = planes[:, :, self.front : self.front + math.prod(self.extents)].reshape(x.shape[:2] + self.extents)
        _copy_rows(body[(slice(None), slice(None)) + self.data], x)
        return np.swapaxes(planes, 0, 1)

    def fill(self, cols, planes):
        """``cols[:, k] = planes[:, :, bases[k]:][..., :run]`` for every kernel offset ``k``: ``cols``
        ``(C, K, m, run)``, ``planes`` ``(C, m, length)``. One copy from a view of ``planes`` whose kernel
        axes step by the offsets' flat distances (:attr:`steps`), not one per offset: fewer calls, and
        fewer hand-offs of the GIL when two threads fill their chunks side by side."""
        c, m, item = planes.shape[0], planes.shape[1], planes.itemsize
        windows = np.lib.stride_tricks.as_strided(
            planes,
            shape=(c, *self.kernel, m, self.run),
            strides=(planes.strides[0], *(st * item for st in self.steps), planes.strides[1], planes.strides[2]),
            writeable=False,
        )
        np.copyto(cols.reshape(windows.shape), windows)


def _unit_pitch(input_shape, kernel, stride, padding, dilation):
    """The :class:`_Pitch` of a unit-stride convolution of an ``input_shape`` input, or None (strided, or
    it does not fit)."""
    if any(s != 1 for s in stride):
        return None
    pitch = _Pitch(tuple(input_shape[2:]), kernel, padding, dilation)
    return pitch if pitch.fits else None


class NumpyConvKernels:
    """Faster NumPy versions of portable conv kernels."""

    def im2col(self, x, kernel, stride, padding, dilation, out_shape):
        """The portable kernel's columns ``(N, C, prod(kernel), *out_shape)`` by one copy from a view of the
        padded input whose kernel axes step by the dilation and output axes by the stride, instead of
        one copy per kernel offset and a stack."""
        xp = self.pad_constant(x, padding, 0)
        spatial = xp.strides[2:]
        windows = np.lib.stride_tricks.as_strided(
            xp,
            shape=(*xp.shape[:2], *kernel, *out_shape),
            strides=(
                *xp.strides[:2],
                *(s * d for s, d in zip(spatial, dilation)),
                *(s * t for s, t in zip(spatial, stride)),
            ),
            writeable=False,
        )
        cols = np.empty((*xp.shape[:2], math.prod(kernel), *out_shape), dtype=x.dtype)
        np.copyto(cols.reshape(windows.shape), windows)
        return cols

    def conv(self, x, weight, stride, padding, dilation, groups):
        if weight.dtype == x.dtype and _sample_path(x, weight.shape):
            return self._sample_conv(x, weight, None, stride, padding, dilation, groups)
        if not _gemm_path(x, weight.shape) or weight.dtype != x.dtype:
            return super().conv(x, weight, stride, padding, dilation, groups)
        return self._gemm_conv(x, weight, None, stride, padding, dilation, groups)

    def conv_bias(self, x, weight, bias, stride, padding, dilation, groups):
        if weight.dtype == x.dtype == bias.dtype and _sample_path(x, weight.shape):
            return self._sample_conv(x, weight, bias, stride, padding, dilation, groups)
        if not _gemm_path(x, weight.shape) or weight.dtype != x.dtype or bias.dtype != x.dtype:
            return super().conv_bias(x, weight, bias, stride, padding, dilation, groups)
        return self._gemm_conv(x, weight, bias, stride, padding, dilation, groups)

    def _sample_conv(self, x, weight, bias, stride, padding, dilation, groups):
        """The portable kernel's per-sample products (which OpenBLAS runs faster than one wide GEMM on a
        short contraction) a cache-sized batch chunk at a time, each chunk's products written straight
        into the output (``bias``, or None, added in place), the chunks split over the threads."""
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        out_shape = conv_output_shape(
            tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)), kernel, stride, dilation
        )
        p, k = math.prod(out_shape), math.prod(kernel)
        w = weight.reshape(groups, cout // groups, c // groups * k)
        out = np.empty((n, cout) + out_shape, dtype=x.dtype)
        step = _chunk(n, c * k * p * x.itemsize)

        def work(first, last):
            for lo in range(first, last, step):
                m = min(last, lo + step) - lo
                cols = self.im2col(x[lo : lo + m], kernel, stride, padding, dilation, out_shape)
                part = out[lo : lo + m]
                np.matmul(w, cols.reshape(m, groups, -1, p), out=part.reshape(m, groups, cout // groups, p))
                if bias is not None:
                    np.add(part, bias.reshape((-1,) + (1,) * len(out_shape)), out=part)

        _by_chunks(n, step, work, out.size * c * k)
        return out

    def _sample_weight_grad(self, x, grad, weight_shape, stride, padding, dilation, groups):
        """The weight gradient by per-sample products (as :meth:`_sample_conv`), a batch chunk at a time,
        summed over each thread's chunks, the threads' sums added in batch order."""
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        p, k = math.prod(out_shape), math.prod(kernel)
        step = _chunk(n, c * k * p * x.itemsize)
        sums = []

        def work(first, last):
            dw = np.zeros((groups, cout // groups, c // groups * k), dtype=x.dtype)
            for lo in range(first, last, step):
                m = min(last, lo + step) - lo
                cols = self.im2col(x[lo : lo + m], kernel, stride, padding, dilation, out_shape)
                g = grad[lo : lo + m].reshape(m, groups, cout // groups, p)
                np.add(dw, np.matmul(g, np.swapaxes(cols.reshape(m, groups, -1, p), 2, 3)).sum(axis=0), out=dw)
            sums.append((first, dw))

        _by_chunks(n, step, work, grad.size * c * k)
        return _ordered_sum(sums).reshape(tuple(weight_shape))

    def _gemm_conv(self, x, weight, bias, stride, padding, dilation, groups):
        """The convolution by chunks of im2col columns and one GEMM each; ``bias`` (or None) is added
        as each chunk's product is copied into the output."""
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        pitch = _unit_pitch(x.shape, kernel, stride, padding, dilation)
        if pitch is not None:
            return _pitched_conv(x, weight, bias, pitch, groups)
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

    @unsignalling
    def col2im_order(self, k, grad, weight):
        """Last to first on a 2-d channels-last gradient or weight, as PyTorch's im2col kernels
        (``col2im_channels_last`` walks the output positions outermost); else first to last."""
        if grad.ndim == 4 and (is_channels_last(grad) or is_channels_last(weight)):
            return range(k - 1, -1, -1)
        return range(k)

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        if not _gemm_path(grad, weight.shape) or weight.dtype != grad.dtype:
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        n, cout = grad.shape[0], grad.shape[1]
        out_shape = tuple(grad.shape[2:])
        c, kernel = input_shape[1], tuple(weight.shape[2:])
        p, k = math.prod(out_shape), math.prod(kernel)
        spatial = tuple(input_shape[2:])
        pitch = _unit_pitch(input_shape, kernel, stride, padding, dilation)
        order = self.col2im_order(k, grad, weight)
        # (a transposed convolution's output_padding can make grad shorter than the pitch's output)
        if pitch is not None and pitch.out == out_shape and np.isfinite(weight).all():
            return _pitched_col2im(grad, weight, input_shape, pitch, groups, order)
        w_t = np.ascontiguousarray(np.swapaxes(weight.reshape(groups, cout // groups, -1), 1, 2))
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
                for i in order:
                    view = rows[keys[i]]
                    np.add(view, dcols[first:last, i], out=view)

            parallel_range(c, run, dcols.size)
        inner = dx[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))]
        return np.ascontiguousarray(inner)

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        if x.shape[0] == 0:  # an empty batch: no chunks to sum (the portable kernel gives the zeros)
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        if grad.dtype == x.dtype and _sample_path(x, weight_shape):
            return self._sample_weight_grad(x, grad, weight_shape, stride, padding, dilation, groups)
        if not _gemm_path(x, weight_shape) or grad.dtype != x.dtype:
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        p, k = math.prod(out_shape), math.prod(kernel)
        pitch = _unit_pitch(x.shape, kernel, stride, padding, dilation)
        if pitch is not None and pitch.out == out_shape:  # (see conv_backward_input)
            dw = _pitched_weight_grad(x, grad, weight_shape, pitch, groups)
            if np.isfinite(dw).all():  # else a non-finite input met the grid's zeros: the strided path
                return dw
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


def _by_chunks(n, step, fn, elements):
    """Run ``fn(lo, hi)`` (a contiguous run of whole chunks of ``step`` samples, ``hi - lo`` of them) over
    the batch, the chunks split over the intra-op threads, each calling BLAS on its own thread.

    Each thread copies, multiplies and copies back its own chunks: one hand-off per kernel
    instead of one per copy, and the GEMMs of cache-sized chunks run side by side instead of
    each on two BLAS threads."""
    if not n:  # an empty batch: nothing to compute
        return
    chunks = -(-n // step)
    parallel_gemm_range(chunks, lambda first, last: fn(first * step, min(n, last * step)), elements)


def _ordered_sum(sums):
    """The sum of the threads' ``(first sample, partial sum)`` pairs, added in batch order (into the first)."""
    sums.sort(key=lambda part: part[0])
    total = sums[0][1]
    for _, part in sums[1:]:
        np.add(total, part, out=total)
    return total


def _pitched_conv(x, weight, bias, pitch, groups):
    """The unit-stride convolution on :class:`_Pitch` columns: per batch chunk, the chunk's pitched planes,
    one contiguous copy per kernel offset, channel and sample, one GEMM per group on the output grid,
    whose real positions are copied into the output. ``bias`` (or None) rides in the GEMM, as one
    more weight column against a row of ones under the columns: adding it while copying the output
    broadcast it over 8-16 float rows (32->64 3x3 at 16x16, b64: 0.7 ms against 0.25 for the copy)."""
    n, c = x.shape[0], x.shape[1]
    cout, k, run = weight.shape[0], len(pitch.bases), pitch.run
    cg, og = c // groups, cout // groups
    w = weight.reshape(groups, og, cg * k)
    rows = cg * k + (bias is not None)  # per group: the columns, then the row of ones
    if bias is not None:
        w = np.concatenate([w, bias.reshape(groups, og, 1)], axis=2)
    step = _chunk(n, c * k * run * x.itemsize)
    out = np.empty((n, cout) + pitch.out, dtype=x.dtype)
    real = (slice(None), slice(None)) + pitch.real

    def work(first, last):
        planes = pitch.zero_planes(min(step, last - first), c, x.dtype)
        cols, res = _Scratch(groups * rows * step * run, x.dtype), _Scratch(cout * step * run, x.dtype)
        for lo in range(first, last, step):
            m = min(last, lo + step) - lo
            chunk_cols = cols.view((groups, rows, m, run))
            chunk_planes = pitch.copy_in(planes[:m], x[lo : lo + m])
            for gi in range(groups):
                pitch.fill(chunk_cols[gi, : cg * k].reshape(cg, k, m, run), chunk_planes[gi * cg : (gi + 1) * cg])
            if bias is not None:
                chunk_cols[:, -1].fill(1)
            product = res.view((groups, og, m * run))
            np.matmul(w, chunk_cols.reshape(groups, rows, m * run), out=product)
            _copy_rows(out[lo : lo + m], np.swapaxes(product.reshape((cout, m) + pitch.grid)[real], 0, 1))

    _by_chunks(n, step, work, out.size * c * k)
    return out


def _pitched_weight_grad(x, grad, weight_shape, pitch, groups):
    """The weight gradient on :class:`_Pitch` columns: the columns times the output gradient on the grid
    (zeros at its extra positions, so the garbage columns add ``0 * x``: exact when ``x`` is finite),
    transposed, accumulated over batch chunks (one sum per thread, the threads' sums added at the end).
    ``cols @ g.T`` rather than ``g @ cols.T``: OpenBLAS runs the long contraction 20-25% faster with
    the wide operand first (32->64 3x3 at 16x16, b64: 6.1 -> 4.9 ms)."""
    n, c = x.shape[0], x.shape[1]
    cout, k, run = weight_shape[0], len(pitch.bases), pitch.run
    step = _chunk(n, c * k * run * x.itemsize)
    real = (slice(None), slice(None)) + pitch.real
    sums = []

    def work(first, last):
        planes = pitch.zero_planes(min(step, last - first), c, x.dtype)
        cols = _Scratch(c * k * step * run, x.dtype)
        g = np.zeros((cout, min(step, last - first)) + pitch.grid, dtype=x.dtype)  # extra positions stay zero
        dw_t = np.zeros((groups, c // groups * k, cout // groups), dtype=x.dtype)
        for lo in range(first, last, step):
            m = min(last, lo + step) - lo
            if m < g.shape[1]:  # a shorter last chunk: a grid of its own
                g = np.zeros((cout, m) + pitch.grid, dtype=x.dtype)
            _copy_rows(g[real], np.swapaxes(grad[lo : lo + m], 0, 1))
            chunk_cols = cols.view((c, k, m, run))
            pitch.fill(chunk_cols, pitch.copy_in(planes[:m], x[lo : lo + m]))
            product = np.matmul(
                chunk_cols.reshape(groups, -1, m * run), np.swapaxes(g.reshape(groups, cout // groups, m * run), 1, 2)
            )
            np.add(dw_t, product, out=dw_t)
        sums.append((first, dw_t))

    _by_chunks(n, step, work, grad.size * c * k)
    return np.swapaxes(_ordered_sum(sums), 1, 2).reshape(tuple(weight_shape))


def _pitched_col2im(grad, weight, input_shape, pitch, groups, order):
    """The input gradient of a unit-stride convolution on :class:`_Pitch` columns: the weights' transpose
    times the output gradient on the grid (zeros at its extra positions, so their columns are exact
    zeros when the weights are finite), one GEMM per sample into rows of the planes' full length
    whose tails stay zero, then each kernel offset's columns added into the pitched planes as one
    flat shifted run per group (what a row's tail adds to the next row is zero), whose data part is
    the gradient. One flat add per offset instead of one per channel and sample: an in-place add into
    strided views runs at half speed (32->64 3x3 at 16x16, b64: 3.3 -> 0.6 ms of adds). The offsets are
    added in ``order`` (see :meth:`NumpyConvKernels.col2im_order`)."""
    n, cout = grad.shape[0], grad.shape[1]
    c, k, run, length = input_shape[1], len(pitch.bases), pitch.run, pitch.length
    cg, og = c // groups, cout // groups
    # rows ordered (group, offset, channel): one offset's columns of a group are one contiguous block
    w_t = weight.reshape((groups, og, cg, k)).transpose(0, 3, 2, 1).reshape(groups, k * cg, og)
    w_t = np.ascontiguousarray(w_t)
    step = _chunk(n, c * k * length * grad.itemsize)
    real = (slice(None), slice(None)) + pitch.real
    body = slice(pitch.front, pitch.front + math.prod(pitch.extents))
    dx = np.empty(tuple(input_shape), dtype=grad.dtype)

    def work(first, last):
        g = d = None
        acc = _Scratch(c * step * length, grad.dtype)
        for lo in range(first, last, step):
            m = min(last, lo + step) - lo
            if g is None or m < g.shape[2]:  # the grid's extra positions and the rows' tails stay zero
                g = np.zeros((groups, og, m) + pitch.grid, dtype=grad.dtype)
                d = np.zeros((groups, k * cg, m, length), dtype=grad.dtype)
            _copy_rows(g.reshape((cout, m) + pitch.grid)[real], np.swapaxes(grad[lo : lo + m], 0, 1))
            # (groups, og, m, run) -> per sample (m, groups, og, run) @ -> (m, groups, k * cg, run)
            np.matmul(w_t, np.moveaxis(g.reshape(groups, og, m, run), 2, 0), out=np.moveaxis(d[..., :run], 2, 0))
            planes = acc.view((c * m * length,))
            planes.fill(0)
            block = cg * m * length
            cols = d.reshape(groups, k, block)
            for gi in range(groups):
                for i in order:
                    base = pitch.bases[i]
                    view = planes[gi * block + base : (gi + 1) * block + base]  # where this offset's columns land
                    np.add(view, cols[gi, i, : view.size], out=view)
            inner = planes.reshape(c, m, length)[:, :, body].reshape((c, m) + pitch.extents)
            _copy_rows(dx[lo : lo + m], np.swapaxes(inner[(slice(None), slice(None)) + pitch.data], 0, 1))

    _by_chunks(n, step, work, grad.size * c * k)
    return dx
