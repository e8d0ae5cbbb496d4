"""NumPy overrides of the linear algebra kernels: LAPACK through ``numpy.linalg``.

``numpy.linalg`` raises on a singular or indefinite matrix anywhere in a batch instead of
reporting which; then the portable kernel runs and returns the ``info`` of each matrix (the
error path only). ``numpy.linalg`` has neither an LU factorization nor a triangular solver: the
LU is the portable algorithm in place (row swaps and the trailing update only, no masks), and a
triangular system goes to LAPACK's general solver with the other triangle zeroed (the portable
substitution where the diagonal has a zero, which gives PyTorch's non-finite values)."""

from __future__ import annotations

import numpy as np

from ember.kernels.unsignalling import unsignalling
from ember.linalg import LinAlgError

from .ldl import ldl_factor, ldl_solve

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
            lower = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            return super().linalg_cholesky(a)
        if not np.isfinite(lower).all():  # NaN passes numpy's check, not LAPACK's (info > 0)
            return super().linalg_cholesky(a)
        return lower, _success(a)

    def linalg_lu_factor(self, a):
        if a.size == 0:
            return super().linalg_lu_factor(a)
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        flat = np.array(a, copy=True).reshape(-1, m, n)
        rows = np.arange(flat.shape[0])
        pivots = np.zeros((flat.shape[0], min(m, n)), dtype=np.int32)
        info = np.zeros(flat.shape[0], dtype=np.int32)
        for k in range(min(m, n)):
            p = k + self._pivot_row(flat[:, k:, k])
            pivots[:, k] = p + 1
            swap = flat[rows, p].copy()
            flat[rows, p] = flat[:, k]
            flat[:, k] = swap
            pivot = flat[:, k, k]
            singular = pivot == 0
            info[np.logical_and(singular, info == 0)] = k + 1
            flat[:, k + 1 :, k] /= np.where(singular, 1, pivot)[:, None]
            flat[:, k + 1 :, k + 1 :] -= flat[:, k + 1 :, k, None] * flat[:, k, None, k + 1 :]
        return flat.reshape(a.shape), pivots.reshape(*batch, -1), info.reshape(batch)

    @unsignalling
    def linalg_lu_permutation(self, pivots, m):
        if pivots.size == 0:
            return super().linalg_lu_permutation(pivots, m)
        swaps = pivots.reshape(-1, pivots.shape[-1]).astype(np.int64) - 1
        rows = np.arange(swaps.shape[0])
        perm = np.tile(np.arange(m), (swaps.shape[0], 1))
        for k in range(swaps.shape[1]):
            p = swaps[:, k]
            at_k = perm[:, k].copy()
            perm[:, k] = perm[rows, p]
            perm[rows, p] = at_k
        return perm.reshape(*pivots.shape[:-1], m)

    def linalg_solve_triangular(self, a, b, upper, unitriangular=False):
        triangle = np.triu(a) if upper else np.tril(a)
        if unitriangular:
            diagonal = np.eye(a.shape[-1], dtype=bool)
            triangle = np.where(diagonal, np.ones((), dtype=a.dtype), triangle)
        try:
            return np.linalg.solve(triangle, b)
        except np.linalg.LinAlgError:
            return super().linalg_solve_triangular(a, b, upper, unitriangular)

    def linalg_det(self, a):
        return np.linalg.det(a)

    def linalg_slogdet(self, a):
        sign, logabsdet = np.linalg.slogdet(a)
        return sign, logabsdet

    def linalg_qr(self, a, complete=False):
        q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
        return q, r

    def linalg_svd(self, a, full_matrices=False):
        try:
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        except np.linalg.LinAlgError:  # NumPy's ValueError, PyTorch's LinAlgError
            finite = np.isfinite(a).reshape(-1, a.shape[-2] * a.shape[-1]).all(axis=-1)
            batch = f"(Batch element {int(np.argmin(finite))}): " if a.ndim > 2 else ""
            raise LinAlgError(
                f"linalg.svd: {batch}The algorithm failed to converge because the input matrix contained "
                "non-finite values."
            ) from None
        return u, s, vh

    def linalg_eigh(self, a, upper=False):
        w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
        return w, v

    def linalg_ldl_factor(self, a, hermitian=False):
        return ldl_factor(a, hermitian)

    def linalg_ldl_solve(self, ld, pivots, b, hermitian=False):
        return ldl_solve(ld, pivots, b, hermitian)

    def linalg_eig(self, a):
        """LAPACK's ``geev``, complex results also for a real ``a`` (NumPy returns real arrays when
        every eigenvalue is real); NaN where ``a`` is not finite (``geev`` refuses it)."""
        complex_type = np.result_type(a.dtype, np.complex64)
        if not np.isfinite(a).all():
            nan = np.full(a.shape, np.nan, dtype=complex_type)
            return nan[..., 0], nan
        w, v = np.linalg.eig(a)
        return w.astype(complex_type, copy=False), v.astype(complex_type, copy=False)
