"""CuPy overrides of the linear algebra kernels: cuSOLVER through ``cupy.linalg`` for the
decompositions that report no failure (SVD, symmetric eigen, QR, determinants).

The factorizations whose failure PyTorch reports per matrix (``info`` of LU solves, inverses,
Cholesky) stay portable: ``cupy.linalg`` checks for errors only when its configuration says so,
and then for the whole batch."""

from __future__ import annotations

import cupy

__all__ = ["CupyLinalgKernels"]


class CupyLinalgKernels:
    """``cupy.linalg`` for the SVD, ``eigh``, QR and the determinants."""

    def linalg_svd(self, a, full_matrices=False):
        if a.size == 0:
            return super().linalg_svd(a, full_matrices)
        u, s, vh = cupy.linalg.svd(a, full_matrices=full_matrices)
        return u, s, vh

    def linalg_eigh(self, a, upper=False):
        if a.size == 0:
            return super().linalg_eigh(a, upper)
        w, v = cupy.linalg.eigh(a, UPLO="U" if upper else "L")
        return w, v

    def linalg_qr(self, a, complete=False):
        if a.ndim != 2 or a.size == 0:  # cupy.linalg.qr factors one matrix at a time
            return super().linalg_qr(a, complete)
        q, r = cupy.linalg.qr(a, mode="complete" if complete else "reduced")
        return q, r

    def linalg_det(self, a):
        return cupy.linalg.det(a)

    def linalg_slogdet(self, a):
        sign, logabsdet = cupy.linalg.slogdet(a)
        return sign, logabsdet
