"""The meta device's kernel table: the portable defaults, but for linear algebra the shapes and
dtypes of the factors without running the factorizations.

The portable factorizations loop over the columns in Python (thousands of shape computations for a
large matrix) and the Jacobi sweeps and the matrix exponential's scaling read values back; on meta
each result is one empty array of the shape and dtype LAPACK's factor has, as PyTorch's meta
kernels give.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.kernels import Kernels

from .array import MetaArray

__all__ = ["MetaKernels"]

_INT32 = np.dtype(np.int32)


def _real(dtype: Any) -> np.dtype:
    """The real dtype of ``dtype`` (itself unless complex): the dtype of singular and eigenvalues."""
    return np.empty(0, dtype).real.dtype


class MetaKernels(Kernels):
    """The portable kernels, with the linear algebra factors computed from shapes alone."""

    def linalg_lu_factor(self, a):
        m, n = a.shape[-2:]
        pivots = MetaArray.empty((*a.shape[:-2], min(m, n)), _INT32)
        return MetaArray.empty(a.shape, a.dtype), pivots, self._info(a.shape[:-2])

    def linalg_lu_permutation(self, pivots, m):
        return MetaArray.empty((*pivots.shape[:-1], m), np.int64)

    def linalg_lu_solve(self, lu, pivots, b, adjoint=False):
        return self.xp.matmul(lu, b)

    def linalg_solve(self, a, b):
        return self.xp.matmul(a, b), self._info(a.shape[:-2])

    def linalg_inv(self, a):
        return MetaArray.empty(a.shape, a.dtype), self._info(a.shape[:-2])

    def linalg_slogdet(self, a):
        return MetaArray.empty(a.shape[:-2], a.dtype), MetaArray.empty(a.shape[:-2], _real(a.dtype))

    def linalg_det(self, a):
        return MetaArray.empty(a.shape[:-2], a.dtype)

    def linalg_solve_triangular(self, a, b, upper, unitriangular=False):
        return self.xp.matmul(a, b)

    def linalg_cholesky(self, a):
        return MetaArray.empty(a.shape, a.dtype), self._info(a.shape[:-2])

    def linalg_qr(self, a, complete=False):
        *batch, m, n = a.shape
        k = m if complete else min(m, n)
        return MetaArray.empty((*batch, m, k), a.dtype), MetaArray.empty((*batch, k, n), a.dtype)

    def linalg_svd(self, a, full_matrices=False):
        *batch, m, n = a.shape
        k = min(m, n)
        u = MetaArray.empty((*batch, m, m if full_matrices else k), a.dtype)
        vh = MetaArray.empty((*batch, n if full_matrices else k, n), a.dtype)
        return u, MetaArray.empty((*batch, k), _real(a.dtype)), vh

    def linalg_eigh(self, a, upper=False):
        return MetaArray.empty(a.shape[:-1], _real(a.dtype)), MetaArray.empty(a.shape, a.dtype)

    def linalg_matrix_exp(self, a):
        return MetaArray.empty(a.shape, a.dtype)

    def linalg_ldl_factor(self, a, hermitian=False):
        pivots = MetaArray.empty(a.shape[:-1], _INT32)
        return MetaArray.empty(a.shape, a.dtype), pivots, self._info(a.shape[:-2])

    def linalg_ldl_solve(self, ld, pivots, b, hermitian=False):
        return self.xp.matmul(ld, b)
