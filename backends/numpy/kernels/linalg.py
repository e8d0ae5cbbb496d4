"""NumPy overrides of the linear algebra kernels: LAPACK through ``numpy.linalg``.

``numpy.linalg`` raises on a singular or indefinite matrix anywhere in a batch instead of
reporting which; then the portable kernel runs and returns the ``info`` of each matrix (the
error path only). The LU factorization and triangular solves stay portable (``numpy.linalg``
has neither)."""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyLinalgKernels"]


def _success(a):
    return np.zeros(a.shape[:-2], dtype=np.int32)


class NumpyLinalgKernels:
    """``numpy.linalg`` for the factorizations LAPACK has under NumPy's names."""

    def linalg_solve(self, a, b):
        try:
            return np.linalg.solve(a, b), _success(a)
        except np.linalg.LinAlgError:
            return super().linalg_solve(a, b)

    def linalg_inv(self, a):
        try:
            return np.linalg.inv(a), _success(a)
        except np.linalg.LinAlgError:
            return super().linalg_inv(a)

    def linalg_cholesky(self, a):
        try:
            return np.linalg.cholesky(a), _success(a)
        except np.linalg.LinAlgError:
            return super().linalg_cholesky(a)

    def linalg_det(self, a):
        return np.linalg.det(a)

    def linalg_slogdet(self, a):
        sign, logabsdet = np.linalg.slogdet(a)
        return sign, logabsdet

    def linalg_qr(self, a, complete=False):
        q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
        return q, r

    def linalg_svd(self, a, full_matrices=False):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        return u, s, vh

    def linalg_eigh(self, a, upper=False):
        w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
        return w, v
