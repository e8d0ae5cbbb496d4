"""NumPy overrides of the softmax kernels: the same formulas with one output buffer.

The portable kernels allocate a temporary per step (shifted, exp, the normalised result;
in backward exp(y) and the product); here each result is built in place in one array
that ``out=`` arguments reuse, which matters for the vocabulary-wide rows of a language
model's loss. ``softmax`` over the last axis of many rows shifts each row by its element at its
``argmax`` (:func:`_shift`), which NumPy finds faster than the row's ``maximum.reduce``; so does
``log_softmax`` where no row's maximum is a zero (:func:`_log_shift`; 64x64 float32, one thread: the
kernel ~19 -> ~13 us). Over the last axis, ``log_softmax`` and its backward go through the rows a
cache-sized block at a time (:data:`BLOCK_BYTES`), so that the row maxima, ``exp`` and the
passes that consume them meet in the cache instead of in memory (560x5000 float32, one thread:
forward 7.8 -> 5.5 ms with the maxima taken over the whole array first, about 4 ms with them
taken by blocks too; backward 5.1 -> 4.1 ms), the blocks split over the intra-op threads.
"""

from __future__ import annotations

import numpy as np

from ..parallel import parallel_range

__all__ = ["NumpySoftmaxKernels"]

#: bytes of one block of rows (well inside an L2 cache)
BLOCK_BYTES = 1 << 18

#: the dtypes whose row sums go through BLAS (a matrix-vector product)
_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _by_row_blocks(rows, fn):
    """Run ``fn(lo, hi)`` over ``rows`` (a 2-d array) in cache-sized blocks, split over the threads."""
    step = max(1, BLOCK_BYTES // max(rows.shape[1] * rows.itemsize, 1))

    def run(first, last):
        for lo in range(first, last, step):
            fn(lo, min(last, lo + step))

    parallel_range(rows.shape[0], run, rows.size)


def _by_rows(x, axis):
    """Whether ``x`` (C-contiguous, the reduction over its last axis) can be worked on as rows."""
    return x.ndim >= 1 and axis % x.ndim == x.ndim - 1 and x.size > 0 and x.flags.c_contiguous


def _log_softmax_into(x, out, axis, ones=None):
    """``log_softmax(x)`` over ``axis``, written into ``out`` (x's shape and dtype). With ``ones``
    (a vector of ``x.shape[1]`` ones, for 2-d ``x`` and axis 1), the sums of the rows of ``exp``
    are one matrix-vector product, which BLAS runs faster than NumPy's row reduction."""
    np.subtract(x, _log_shift(x, axis), out=out)
    if ones is None:  # the ufunc's reduce: the sum method adds a Python wrapper
        total = np.add.reduce(np.exp(out), axis=axis, keepdims=True)
    else:
        total = np.matmul(np.exp(out), ones)[:, None]
    np.subtract(out, np.log(total, out=total), out=out)


#: rows of at least this many elements, at least :data:`MANY_ROWS` of them, take their maxima at their argmax:
#: NumPy's ``maximum.reduce`` along a row costs about 0.1 us a row (64x64 float32: 6.9 us, against 3.2 us)
ARGMAX_ROW = 16
MANY_ROWS = 32


def _at_argmax(x, axis):
    """Whether the maxima of ``x`` along ``axis`` are taken at the rows' ``argmax``: many rows of float32 or
    float64 along the last axis, C-contiguous."""
    n = x.shape[-1] if x.ndim else 0
    return (
        n >= ARGMAX_ROW
        and axis % x.ndim == x.ndim - 1
        and x.size >= MANY_ROWS * n
        and x.dtype in _BLAS_DTYPES
        and x.flags.c_contiguous
    )


def _row_tops(x):
    """Each last-axis row's element at its ``argmax`` (NaN where the row has one), kept as a size-1 last axis."""
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    top = rows[np.arange(rows.shape[0]), rows.argmax(axis=1)]  # the method: no Python wrapper
    return top.reshape(x.shape[:-1] + (1,))


def _shift(x, axis):
    """The maxima of ``x`` along ``axis`` (kept) by which softmax shifts its input: where :func:`_at_argmax`,
    each row's element at its ``argmax``, which can differ from ``maximum.reduce``'s only in the sign of a
    zero maximum or which NaN, where ``exp(x - max)`` is the same."""
    if _at_argmax(x, axis):
        return _row_tops(x)
    # the ufuncs' reduce methods: NumPy's np.max/np.sum add a Python wrapper (~1.5 us a call)
    return np.maximum.reduce(x, axis=axis, keepdims=True)


def _log_shift(x, axis):
    """The maxima of ``x`` along ``axis`` (kept) by which log_softmax shifts its input: ``maximum.reduce``'s
    values, taken at the rows' ``argmax`` where :func:`_at_argmax` and no maximum is a zero (``x - max`` is
    then the same, but for which NaN; a zero's sign can reach the result where ``log(sum(exp))`` is 0)."""
    if _at_argmax(x, axis):
        top = _row_tops(x)
        if np.count_nonzero(top) == top.size:  # NaN counts as nonzero
            return top
    return np.maximum.reduce(x, axis=axis, keepdims=True)


class NumpySoftmaxKernels:
    """Faster NumPy versions of portable softmax kernels."""

    def softmax(self, x, axis):
        if x.itemsize == 2:  # float16/bfloat16: the portable kernel's float32 and order
            return super().softmax(x, axis)
        out = np.subtract(x, _shift(x, axis))
        np.exp(out, out=out)
        np.divide(out, np.add.reduce(out, axis=axis, keepdims=True), out=out)
        return out

    def log_softmax(self, x, axis):
        if x.itemsize == 2:  # float16/bfloat16: the portable kernel's float32, which calls this one off the last axis
            return super().log_softmax(x, axis)
        out = np.empty(x.shape, dtype=x.dtype)
        if x.nbytes <= BLOCK_BYTES or not _by_rows(x, axis):  # one block, or no rows: whole arrays
            _log_softmax_into(x, out, axis)
            return out
        rows, source = out.reshape(-1, x.shape[-1]), x.reshape(-1, x.shape[-1])
        ones = np.ones(x.shape[-1], dtype=x.dtype) if x.dtype in _BLAS_DTYPES else None
        # the maximum by blocks too: x is read once, out written once
        _by_row_blocks(rows, lambda lo, hi: _log_softmax_into(source[lo:hi], rows[lo:hi], 1, ones))
        return out

    def softmax_backward(self, grad, y, axis):
        if grad.itemsize == 2:  # float16/bfloat16: the portable kernel's float32, which calls this one
            return super().softmax_backward(grad, y, axis)
        out = np.multiply(grad, y)
        total = np.add.reduce(out, axis=axis, keepdims=True)
        np.subtract(grad, total, out=out)
        np.multiply(out, y, out=out)
        return out

    def log_softmax_backward(self, grad, y, axis):
        if grad.itemsize == 2:  # float16/bfloat16: the portable kernel's float32 and order
            return super().log_softmax_backward(grad, y, axis)
        total = np.add.reduce(grad, axis=axis, keepdims=True)
        out = np.empty(y.shape, dtype=y.dtype)
        if not (_by_rows(out, axis) and grad.shape == y.shape):
            np.exp(y, out=out)
            np.multiply(out, total, out=out)
            np.subtract(grad, out, out=out)
            return out
        rows, g, ys, totals = (a.reshape(-1, a.shape[-1]) for a in (out, grad, y, total))

        def block(lo, hi):
            part = rows[lo:hi]
            np.exp(ys[lo:hi], out=part)
            np.multiply(part, totals[lo:hi], out=part)
            np.subtract(g[lo:hi], part, out=part)

        _by_row_blocks(rows, block)
        return out
