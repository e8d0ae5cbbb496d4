"""Portable kernels of selection: the first elements of a stable order (``topk``'s candidates), the median's
positions, the mode's positions in short rows (no portable form: ``mode`` composes tensor ops where a
backend has none), and the positions of a running maximum or minimum (``cummax``/``cummin``)."""

from __future__ import annotations

from ..dtypes import int64, uint8
from .unsignalling import unsignalling

__all__ = ["SelectionKernels"]


class SelectionKernels:
    @unsignalling
    def stable_order_head(self, x, m, axis, descending):
        """The positions of the first ``m`` elements of ``x``'s stable order along ``axis`` (ascending, or
        descending with equal elements in position order; NaN above every number): the first ``m`` of
        ``argsort(x, stable=True)``. The default sorts the whole dimension."""
        xp = self.xp
        order = xp.argsort(x, axis=axis, descending=descending, stable=True)
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, m)
        return order[tuple(index)]

    @unsignalling
    def median_positions(self, x, axis):
        """The position along ``axis`` (kept, of size 1; ``int64``) of the median of ``x`` (``axis`` not empty):
        element ``(n - 1) // 2`` of the stable ascending order, as :func:`ember.median` takes it, or the first NaN
        of a row that has one. The default sorts the whole dimension."""
        xp = self.xp
        middle = (x.shape[axis] - 1) // 2
        index = [slice(None)] * x.ndim
        index[axis] = slice(middle, middle + 1)
        position = xp.argsort(x, axis=axis, stable=True)[tuple(index)]
        if self.backend.ember_dtype(x.dtype).is_floating_point:
            nan = xp.isnan(x)
            first_nan = xp.argmax(xp.astype(nan, self.backend.native_dtype(uint8)), axis=axis, keepdims=True)
            position = xp.where(xp.any(nan, axis=axis, keepdims=True), first_nan, position)
        return xp.astype(position, self.backend.native_dtype(int64))

    @unsignalling
    def mode_positions(self, x):
        """For the rows along the last axis of ``x`` (at most 64 long, not empty): how often each row's
        most frequent value occurs (each element compared with every other: a NaN matches nothing) and
        the last position of the smallest value occurring that often (a NaN of the row where it is the
        row's minimum), both ``int64`` with the axis kept, as :func:`ember.mode` computes them from
        tensor ops; or None, the default, where the backend has no faster way (the ops then run)."""
        return None

    def cumulative_extremum_positions(self, x, axis, largest):
        """The ``int64`` positions of the running maximum (``largest``) or minimum of ``x`` along ``axis`` (not
        empty), shaped as ``x``: at each place, the last position so far that holds the extremum, or the last NaN
        so far where there is one (``cummax``'s and ``cummin``'s indices). The default takes one slice at a time."""
        xp = self.xp
        long = self.backend.native_dtype(int64)
        floating = self.backend.ember_dtype(x.dtype).is_floating_point
        better = xp.greater_equal if largest else xp.less_equal
        lead = (slice(None),) * axis
        best = x[lead + (0,)]
        index = xp.zeros(best.shape, dtype=long)
        indices = [index]
        for i in range(1, x.shape[axis]):
            part = x[lead + (i,)]
            take = better(part, best)
            if floating:
                take = xp.logical_or(take, xp.isnan(part))
            best = xp.where(take, part, best)
            index = xp.where(take, xp.full(index.shape, i, dtype=long), index)
            indices.append(index)
        return xp.stack(indices, axis=axis)
