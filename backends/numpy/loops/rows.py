"""Row-wise loops over C-contiguous ``(N, C)`` matrices (see :mod:`.runtime`), the rows split over the
threads: the cross entropy's row sums, and the scaling of its gradient's rows.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["row_sums", "scale_rows"]


@njit(parallel=True, nogil=True, cache=True, fastmath={"reassoc"})
def row_sums(x, out):
    """``out[i]`` the sum of row ``i``, accumulated in float64 (in vector lanes: the order is free)."""
    rows, columns = x.shape
    for i in prange(rows):
        total = 0.0
        for j in range(columns):
            total += x[i, j]
        out[i] = total


@njit(parallel=True, nogil=True, cache=True)
def scale_rows(x, factor):
    """``x[i] *= factor[i]`` for each row, in place."""
    rows, columns = x.shape
    for i in prange(rows):
        scale = factor[i]
        for j in range(columns):
            x[i, j] *= scale
