"""Portable kernels of selection: the first elements of a stable order (``topk``'s candidates)."""

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
