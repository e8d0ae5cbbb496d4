"""Small batched Cholesky factorization and triangular solves, composed of ember ops (private).

``ember.linalg`` has no ``cholesky``/``solve_triangular`` in this tree yet; MultivariateNormal needs
them for matrices of a few rows, so they are written here with matmuls over one column (row) at a time:
autograd and every backend come for free. Cost: ``n`` matmuls for an ``n x n`` matrix.
"""

from __future__ import annotations

import ember


def _column_masks(n, like):
    """``masks[j]``: a float vector that is 1 at rows ``>= j`` and 0 above."""
    rows = ember.arange(n, device=like.device)
    return [(rows >= j).to(like.dtype) for j in range(n)]


def _pivots(a):
    """The Cholesky factor's columns before scaling, and the pivots (the squared diagonal)."""
    n = a.shape[-1]
    masks = _column_masks(n, a)
    columns, pivots = [], []
    for j in range(n):
        column = a[..., :, j]
        if columns:
            done = ember.stack(columns, -1)
            column = column - (done @ done[..., j, :].unsqueeze(-1)).squeeze(-1)
        pivot = column[..., j]
        pivots.append(pivot)
        columns.append(column * masks[j] / pivot.clamp(min=ember.finfo(a.dtype).tiny).sqrt().unsqueeze(-1))
    return columns, ember.stack(pivots, -1)


def cholesky(a):
    """Lower Cholesky factor of the symmetric positive-definite matrices ``a`` (..., n, n).

    Raises ``RuntimeError`` (as ``torch.linalg.cholesky``) when a matrix is not positive-definite. The
    input is symmetrized first, so that its gradient is symmetric as PyTorch's.
    """
    columns, pivots = _pivots((a + a.mT) / 2)
    failed = ~(pivots > 0)
    if bool(failed.any()):
        order = int(failed.reshape(-1, a.shape[-1]).to(ember.int64).argmax(-1).max()) + 1
        raise RuntimeError(
            "linalg.cholesky: The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {order} is not positive-definite)."
        )
    return ember.stack(columns, -1)


def cholesky_info(a):
    """Boolean tensor of the batch shape: ``True`` where ``a`` is positive-definite."""
    with ember.no_grad():
        return (_pivots(a)[1] > 0).all(-1)


def solve_lower(lower, b):
    """``X`` with ``lower @ X = b`` for lower-triangular ``lower`` (..., n, n) and ``b`` (..., n, k)."""
    rows = []
    for i in range(lower.shape[-1]):
        row = b[..., i, :]
        if rows:
            done = ember.stack(rows, -2)
            row = row - (lower[..., i : i + 1, :i] @ done).squeeze(-2)
        rows.append(row / lower[..., i, i : i + 1])
    return ember.stack(rows, -2)


def tril_inverse(lower):
    """The inverse of lower-triangular matrices ``lower`` (..., n, n)."""
    eye = ember.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
    return solve_lower(lower, eye.expand(lower.shape))
