"""Column sums of a C-contiguous matrix as a compiled loop (see :mod:`.runtime`): a linear layer's
bias gradient.

Each column adds its rows in order, starting from the first, as NumPy's ``a.sum(axis=0)`` does on
a C-contiguous array (the same bits); blocks of columns are split over the threads.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["column_sums"]

#: columns per block: a block's running sums stay in the L1 cache while the rows stream past
_BLOCK = 512


@njit(parallel=True, nogil=True, cache=True)
def column_sums(a, out):
    """``out[j] = a[0, j] + a[1, j] + ... + a[R - 1, j]``, added in that order (``a``: ``(R, C)``, ``R >= 1``)."""
    rows, columns = a.shape
    for block in prange((columns + _BLOCK - 1) // _BLOCK):
        lo = block * _BLOCK
        hi = min(columns, lo + _BLOCK)
        for j in range(lo, hi):
            out[j] = a[0, j]
        for i in range(1, rows):
            for j in range(lo, hi):
                out[j] += a[i, j]
