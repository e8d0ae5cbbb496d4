"""NumPy overrides of the vision kernels, where they measurably pay."""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyVisionKernels"]


class NumpyVisionKernels:
    """Faster NumPy versions of portable vision kernels."""

    def take_axis_backward(self, grad, index, axis, size):
        """Scatter-add by rounds of unique targets: ``np.add.at`` is several times slower.

        The index vector is short (one entry per output position along ``axis``) and every
        target repeats only a few times (padding, interpolation taps), so the ``k``-th
        occurrences of all targets form a round without duplicates that fancy indexing adds.
        """
        shape = list(grad.shape)
        shape[axis] = size
        out = np.zeros(shape, dtype=grad.dtype)
        order = np.argsort(index, kind="stable")
        targets = index[order]
        starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
        rank = np.arange(len(targets)) - np.repeat(starts, np.diff(np.r_[starts, len(targets)]))
        lead = (slice(None),) * (axis % grad.ndim)
        for r in range(int(rank.max(initial=-1)) + 1):
            chosen = order[rank == r]
            out[lead + (index[chosen],)] += grad[lead + (chosen,)]
        return out
