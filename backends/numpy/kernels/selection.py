"""NumPy's selection kernels: the head of a stable order found by partitioning, not by a whole sort; the
median's positions from a sort of the values and the first equal element (no stable argsort); the
mode's counts and positions in short rows by a few NumPy calls (``mode`` composes some 20 tensor ops); the
positions of a running extremum from NumPy's accumulating ufuncs (the default takes one slice at a time)."""

from __future__ import annotations

import numpy as np

from ember.kernels.selection import SelectionKernels
from ember.kernels.unsignalling import unsignalling

__all__ = ["NumpySelectionKernels"]

#: partition where the head is at most this fraction of the dimension (below it a whole sort is as fast)
_HEAD_FRACTION = 16
#: up to this many elements a whole stable sort costs less than the partition's dozen NumPy calls (every dtype)
_SORTED_SIZE = 1024
_PARTITIONED_KINDS = "fiub"  # NumPy's own numbers
_NATIVE_NUMBERS = "?bBhHiIlLqQefd"  # NumPy's own bool, integer and floating types (no ml_dtypes)


class NumpySelectionKernels(SelectionKernels):
    @unsignalling
    def stable_order_head(self, x, m, axis, descending):
        n = x.shape[axis]
        if x.dtype.kind == "V" and x.dtype.itemsize <= 2:  # ml_dtypes' bfloat16 and float8s: float32 holds them
            x = x.astype(np.float32)
        if m * _HEAD_FRACTION > n or x.size <= _SORTED_SIZE or x.dtype.kind not in _PARTITIONED_KINDS:
            return super().stable_order_head(x, m, axis, descending)
        last = axis == x.ndim - 1  # (np.moveaxis normalises its axes in Python, twice per call)
        rows = x if last else np.moveaxis(x, axis, -1)
        # the m-th element of the order: NaN sorts last in NumPy's partition, PyTorch's NaN is the largest
        threshold = np.partition(rows, n - m if descending else m - 1, axis=-1)[..., n - m if descending else m - 1]
        threshold = threshold[..., None]
        before = rows > threshold if descending else rows < threshold
        equal = rows == threshold
        if rows.dtype.kind == "f":
            nan, nan_threshold = np.isnan(rows), np.isnan(threshold)
            before |= (nan & ~nan_threshold) if descending else (~nan & nan_threshold)
            equal |= nan & nan_threshold
        # all that come before the m-th, then the equal ones in position order until there are m
        needed = m - np.add.reduce(before, axis=-1, keepdims=True, dtype=np.intp)
        taken = before | (equal & (np.cumsum(equal, axis=-1) <= needed))
        positions = np.nonzero(taken)[-1].reshape(rows.shape[:-1] + (m,))
        values = np.take_along_axis(rows, positions, axis=-1)
        order = self.xp.argsort(values, axis=-1, descending=descending, stable=True)
        head = np.take_along_axis(positions, order, axis=-1)
        return head if last else np.moveaxis(head, -1, axis)

    @unsignalling
    def median_positions(self, x, axis):
        if x.dtype.kind == "V" and x.dtype.itemsize <= 2:  # ml_dtypes' bfloat16 and float8s: float32 holds them
            x = x.astype(np.float32)
        if x.dtype.kind not in _PARTITIONED_KINDS:
            return super().median_positions(x, axis)
        n = x.shape[axis]
        # (the array methods, not NumPy's functions: those add Python wrappers, and np.moveaxis normalises axes)
        rows = (x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1)).reshape(-1, n)
        middle = (n - 1) // 2
        # the median's value (NaN sorts last), and the first element equal to it: the one the stable order puts
        # there unless equal ones come before it in the order (few rows; -0. equals 0.)
        ordered = rows.copy()
        ordered.sort(axis=1)
        value = ordered[:, middle : middle + 1]
        equal = rows == value
        position = equal.argmax(axis=1)
        tied = (ordered[:, middle - 1] == ordered[:, middle]).nonzero()[0] if middle else ()
        if len(tied):  # the equal one with as many equal ones before it as the order places before the median
            before = np.add.reduce(ordered[tied, :middle] == value[tied], axis=1, dtype=np.intp)
            position[tied] = (np.cumsum(equal[tied], axis=1, dtype=np.intp) > before[:, None]).argmax(axis=1)
        if rows.dtype.kind == "f":  # a row with NaN (sorted last): its first NaN
            nan = np.isnan(ordered[:, -1]).nonzero()[0]
            if len(nan):
                position[nan] = np.isnan(rows[nan]).argmax(axis=1)
        shape = list(x.shape)
        shape[axis] = 1  # a reshape, not a moveaxis: the strides of a fresh array, as PyTorch's
        return position.astype(np.int64, copy=False).reshape(shape)

    @unsignalling
    def mode_positions(self, x):
        if x.dtype.char not in _NATIVE_NUMBERS or not x.size:
            return None
        # the pairwise counts of ember.ops.statistics._longest_run and the last hit of mode(), step for step
        # (the ufuncs' reduce methods: np.max, np.min and count_nonzero add Python wrappers)
        counts = np.add.reduce(x[..., :, None] == x[..., None, :], axis=-1, dtype=np.int64)
        best = np.maximum.reduce(counts, axis=-1, keepdims=True)
        floating = x.dtype.kind == "f"
        fill = np.array(np.inf if floating else np.maximum.reduce(x, axis=None), dtype=x.dtype)
        value = np.minimum.reduce(np.where(counts == best, x, fill), axis=-1, keepdims=True)  # NaN wins, as amin
        hit = x == value
        if floating:
            hit |= np.isnan(x) & np.isnan(value)
        positions = np.arange(x.shape[-1], dtype=np.int64)
        return best, np.maximum.reduce(np.where(hit, positions, np.int64(-1)), axis=-1, keepdims=True)

    def cumulative_extremum_positions(self, x, axis, largest):
        if x.dtype.kind not in _PARTITIONED_KINDS:
            return super().cumulative_extremum_positions(x, axis, largest)
        # a place holds a new extremum where it is at least (at most) the extremum before it, or NaN (which
        # the accumulating ufunc propagates, so only a later NaN follows it); the position is the last such place
        running = (np.maximum if largest else np.minimum).accumulate(x, axis=axis)
        rest = (slice(None),) * axis + (slice(1, None),)
        before = (slice(None),) * axis + (slice(None, -1),)
        records = np.ones(x.shape, dtype=bool)
        (np.greater_equal if largest else np.less_equal)(x[rest], running[before], out=records[rest])
        if x.dtype.kind == "f":
            records[rest] |= np.isnan(x[rest])
        places = np.arange(x.shape[axis], dtype=np.int64).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        positions = np.where(records, places, np.int64(0))
        return np.maximum.accumulate(positions, axis=axis, out=positions)
