"""The factorizations the multivariate families use (private), from :mod:`ember.linalg`."""

from __future__ import annotations

import ember

from ..linalg import cholesky, cholesky_ex, solve_triangular
from ..tensor import Tensor

__all__ = ["cholesky", "cholesky_info", "solve_lower", "tril_inverse"]


def cholesky_info(a: Tensor) -> Tensor:
    """Boolean tensor of the batch shape: ``True`` where ``a`` is positive-definite."""
    return cholesky_ex(a).info == 0


def solve_lower(lower: Tensor, b: Tensor) -> Tensor:
    """``X`` with ``lower @ X = b`` for lower-triangular ``lower`` (..., n, n) and ``b`` (..., n, k)."""
    return solve_triangular(lower, b, upper=False)


def tril_inverse(lower: Tensor) -> Tensor:
    """The inverse of lower-triangular matrices ``lower`` (..., n, n)."""
    eye = ember.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
    return solve_triangular(lower, eye.expand(lower.shape), upper=False)
