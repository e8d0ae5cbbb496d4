"""Portable kernels of selection: the first elements of a stable order (``topk``'s candidates), and the
mode's positions in short rows (no portable form: ``mode`` composes tensor ops where a backend has none)."""

from __future__ import annotations

__all__ = ["SelectionKernels"]


class SelectionKernels:
    def stable_order_head(self, x, m, axis, descending):
        """The positions of the first ``m`` elements of ``x``'s stable order along ``axis`` (ascending, or
        descending with equal elements in position order; NaN above every number): the first ``m`` of
        ``argsort(x, stable=True)``. The default sorts the whole dimension."""
        xp = self.xp
        order = xp.argsort(x, axis=axis, descending=descending, stable=True)
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, m)
        return order[tuple(index)]

    def mode_positions(self, x):
        """For the rows along the last axis of ``x`` (at most 64 long, not empty): how often each row's
        most frequent value occurs (each element compared with every other: a NaN matches nothing) and
        the last position of the smallest value occurring that often (a NaN of the row where it is the
        row's minimum), both ``int64`` with the axis kept, as :func:`ember.mode` computes them from
        tensor ops; or None, the default, where the backend has no faster way (the ops then run)."""
        return None
