"""OpenBLAS's small-matrix GEMM, and products split into blocks that it takes.

OpenBLAS (SkylakeX kernels and later) multiplies small float32 operands without packing them
when ``rows * inner * columns`` is at most :data:`SMALL_PRODUCT` (and, with the left operand
transposed, the result has at most 1200 elements). A product just over the limit runs on the
packed path, which for a thin operand costs more than the arithmetic: ``(16, 256) @ (256, 1024)``
takes about 105 us whole and 80 us as 8 blocks of 128 columns, ``(256, 1024) @ (1024, 10)``
120 us whole and 60 us as 4 blocks of 64 rows (one thread; PyTorch: 85 and 75 us).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SMALL_PRODUCT", "block_width", "matmul_by_rows"]

#: the largest ``rows * inner * columns`` of OpenBLAS's small-matrix GEMM
SMALL_PRODUCT = 1_000_000


def block_width(size, inner, other):
    """The widest power of two ``w`` with ``w * inner * other`` within :data:`SMALL_PRODUCT`, for
    splitting ``size`` rows or columns; ``size`` itself where it fits whole or the blocks would be
    narrower than 16."""
    fits = SMALL_PRODUCT // max(inner * other, 1)
    width = 1 << (fits.bit_length() - 1) if fits else 0
    return size if width >= size or width < 16 else width


def matmul_by_rows(a, b):
    """``a @ b`` (2-d, the raw ``np.matmul``), by blocks of ``a``'s rows that the small-matrix GEMM
    takes where the whole product is over its limit and the blocks are 16 rows or more."""
    rows = a.shape[0]
    if rows <= 16:  # blocks are never narrower: whole, without working out the width
        return np.matmul(a, b)
    width = block_width(rows, a.shape[1], b.shape[1])
    if not b.flags.c_contiguous:  # a transposed right operand: blocks of at most 1200 results
        width = min(width, 1 << max((1200 // max(b.shape[1], 1)).bit_length() - 1, 0))
    if width >= rows or width < 16:
        return np.matmul(a, b)
    out = np.empty((rows, b.shape[1]), dtype=np.result_type(a, b))
    for lo in range(0, rows, width):
        np.matmul(a[lo : lo + width], b, out=out[lo : lo + width])
    return out
