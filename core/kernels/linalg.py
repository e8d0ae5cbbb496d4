"""Portable dense linear algebra kernels: LU with partial pivoting, triangular substitution,
Cholesky, Householder QR, and the singular value and symmetric eigen decompositions by one-sided
Jacobi rotations.

Written against ``self.xp`` only, batched over the leading dimensions, with Python loops over the
columns (masks and ``where`` instead of item assignment, no host read except one per Jacobi
sweep), so that every backend has them; a backend with a native library overrides them
(``numpy.linalg``, ``cupy.linalg``). The conventions are LAPACK's, which PyTorch returns:
``pivots`` are 1-based int32 row swaps (``A = P L U``), ``info`` is int32 per matrix (0 when the
factorization succeeded, else the 1-based order of the first zero pivot or non-positive minor),
QR's reflectors make ``R[k, k] = -sign(x_k) |x|`` and leave a column already zero below the
diagonal as it is.
"""

from __future__ import annotations

import math

from .. import dtypes
from ..typeinfo import finfo
from .unsignalling import unsignalling

__all__ = ["LinalgKernels"]

#: the most sweeps over all column pairs; Jacobi converges quadratically, ~6-10 sweeps in float64
_MAX_SWEEPS = 40
#: the degree of the matrix exponential's Taylor polynomial (on a matrix of 1-norm at most 1)
_TAYLOR_DEGREE = 18


def _rounds(n):
    """Round-robin pairings of ``n`` (even) columns: each round pairs every column once, and the
    ``n - 1`` rounds of a sweep pair every two columns once."""
    others = list(range(1, n))
    rounds = []
    for r in range(n - 1):
        order = [0, *others[r:], *others[:r]]
        rounds.append((order[: n // 2], order[n // 2 :][::-1]))
    return rounds


class LinalgKernels:
    """Portable default linear algebra kernels, written against ``self.xp`` only."""

    # -- small helpers --------------------------------------------------------------------------
    def _mT(self, a):
        return self.xp.permute_dims(a, (*range(a.ndim - 2), a.ndim - 1, a.ndim - 2))

    def _is_complex(self, a):
        return self.backend.ember_dtype(a.dtype).is_complex

    def _mH(self, a):
        """The conjugate transpose (the transpose of a real array)."""
        return self._mT(self.xp.conj(a) if self._is_complex(a) else a)

    def _pivot_row(self, column):
        """LAPACK's ``i?amax`` along the last axis of ``column``: the first index of the largest
        ``|a|`` (``|Re a| + |Im a|`` for complex ``a``); a leading NaN is taken, a later one never."""
        xp = self.xp
        size = xp.abs(xp.real(column)) + xp.abs(xp.imag(column)) if self._is_complex(column) else xp.abs(column)
        nan = xp.isnan(size)
        largest = xp.argmax(xp.where(nan, xp.asarray(-math.inf, dtype=size.dtype), size), axis=-1)
        return xp.where(nan[..., 0], xp.asarray(0, dtype=largest.dtype), largest)

    def _real_only(self, a, op):
        if self._is_complex(a):
            raise NotImplementedError(f"{op}: the {type(self.backend).__name__} backend factors real matrices only")

    def _positions(self, n, axis):
        """``arange(n)`` shaped ``(n, 1)`` (``axis=-2``, row numbers) or ``(1, n)`` (column numbers)."""
        xp = self.xp
        index = xp.arange(n, dtype=self.backend.native_dtype(dtypes.int64))
        return xp.reshape(index, (n, 1) if axis == -2 else (1, n))

    def _info(self, batch):
        return self.xp.full(batch, 0, dtype=self.backend.native_dtype(dtypes.int32))

    def _eye(self, n, like):
        xp = self.xp
        return xp.broadcast_to(xp.eye(n, dtype=like.dtype), (*like.shape[:-2], n, n))

    # -- LU -------------------------------------------------------------------------------------
    def linalg_lu_factor(self, a):
        """``(lu, pivots, info)`` of square or rectangular ``a`` (..., m, n): ``L`` (unit diagonal)
        below the diagonal of ``lu`` and ``U`` on and above it, ``pivots`` (..., min(m, n))."""
        xp = self.xp
        m, n = a.shape[-2:]
        long = self.backend.native_dtype(dtypes.int64)
        int32 = self.backend.native_dtype(dtypes.int32)
        rows, cols = self._positions(m, -2), self._positions(n, -1)
        row_ids = xp.arange(m, dtype=long)
        zero, one = xp.asarray(0, dtype=a.dtype), xp.asarray(1, dtype=a.dtype)
        info = self._info(a.shape[:-2])
        pivots = []
        for k in range(min(m, n)):
            p = self._pivot_row(a[..., k:, k]) + k
            pivots.append(p)
            p = xp.expand_dims(p, axis=-1)
            source = xp.where(row_ids == k, p, xp.where(row_ids == p, xp.asarray(k, dtype=long), row_ids))
            a = xp.take_along_axis(a, xp.broadcast_to(xp.expand_dims(source, axis=-1), a.shape), axis=-2)
            pivot = a[..., k : k + 1, k : k + 1]
            singular = pivot == 0
            info = xp.where(xp.logical_and(singular[..., 0, 0], info == 0), xp.asarray(k + 1, dtype=int32), info)
            below = rows > k
            multipliers = xp.where(below, a[..., :, k : k + 1] / xp.where(singular, one, pivot), zero)
            a = a - multipliers * xp.where(cols > k, a[..., k : k + 1, :], zero)
            a = xp.where(xp.logical_and(below, cols == k), multipliers, a)
        if not pivots:
            return a, xp.full((*a.shape[:-2], 0), 0, dtype=int32), info
        return a, xp.astype(xp.stack(pivots, axis=-1) + 1, int32), info

    @unsignalling
    def linalg_lu_permutation(self, pivots, m):
        """The row order ``perm`` (..., m) of 1-based ``pivots`` (..., k): ``A = P L U`` with
        ``(P^T A)[i] = A[perm[i]]``."""
        xp = self.xp
        long = self.backend.native_dtype(dtypes.int64)
        ids = xp.arange(m, dtype=long)
        perm = xp.broadcast_to(ids, (*pivots.shape[:-1], m))
        pivots = xp.astype(pivots, long) - 1
        for k in range(pivots.shape[-1]):
            p = pivots[..., k : k + 1]
            at_k = perm[..., k : k + 1]
            at_p = xp.take_along_axis(perm, p, axis=-1)
            perm = xp.where(ids == k, at_p, xp.where(ids == p, at_k, perm))
        return perm

    def linalg_lu_solve(self, lu, pivots, b, adjoint=False):
        """``X`` with ``A X = B`` (``A^H X = B`` when ``adjoint``) from ``A``'s LU factors; ``b``
        (..., n, k) with the batch of ``lu``."""
        xp = self.xp
        perm = self.linalg_lu_permutation(pivots, lu.shape[-1])
        if not adjoint:  # L U X = P^T B
            rows = xp.take_along_axis(b, xp.broadcast_to(xp.expand_dims(perm, axis=-1), b.shape), axis=-2)
            y = self.linalg_solve_triangular(lu, rows, upper=False, unitriangular=True)
            return self.linalg_solve_triangular(lu, y, upper=True, unitriangular=False)
        # U^H L^H (P^T X) = B
        lut = self._mH(lu)
        y = self.linalg_solve_triangular(lut, b, upper=False, unitriangular=False)
        y = self.linalg_solve_triangular(lut, y, upper=True, unitriangular=True)
        inverse = xp.argsort(perm, axis=-1)
        return xp.take_along_axis(y, xp.broadcast_to(xp.expand_dims(inverse, axis=-1), y.shape), axis=-2)

    def linalg_solve(self, a, b):
        """``(x, info)``: ``X`` with ``A X = B`` for square ``a`` (..., n, n), ``b`` (..., n, k)
        of the same batch."""
        lu, pivots, info = self.linalg_lu_factor(a)
        return self.linalg_lu_solve(lu, pivots, b), info

    def linalg_inv(self, a):
        """``(inverse, info)`` of square ``a`` (..., n, n)."""
        return self.linalg_solve(a, self._eye(a.shape[-1], a))

    def _lu_diagonal(self, a):
        """``(diagonal of U, parity of P)`` of square ``a``: ``det(A) = parity * prod(diagonal)``."""
        xp = self.xp
        n = a.shape[-1]
        lu, pivots, _ = self.linalg_lu_factor(a)
        on = self._positions(n, -2) == self._positions(n, -1)
        diagonal = xp.sum(xp.where(on, lu, xp.asarray(0, dtype=lu.dtype)), axis=-1)
        swaps = xp.sum(xp.astype(pivots != xp.arange(1, n + 1, dtype=pivots.dtype), pivots.dtype), axis=-1)
        return diagonal, xp.astype(1 - 2 * xp.remainder(swaps, 2), lu.dtype)

    def linalg_slogdet(self, a):
        """``(sign, logabsdet)`` of square ``a`` (..., n, n); sign 0 and ``-inf`` when singular."""
        xp = self.xp
        diagonal, parity = self._lu_diagonal(a)
        return parity * xp.prod(xp.sign(diagonal), axis=-1), xp.sum(xp.log(xp.abs(diagonal)), axis=-1)

    def linalg_det(self, a):
        """The determinant of square ``a`` (..., n, n)."""
        diagonal, parity = self._lu_diagonal(a)
        return parity * self.xp.prod(diagonal, axis=-1)

    # -- triangular systems ---------------------------------------------------------------------
    def linalg_solve_triangular(self, a, b, upper, unitriangular=False):
        """``X`` with ``A X = B`` for triangular ``a`` (..., n, n) (only its ``upper`` or lower
        triangle is read; its diagonal taken as ones when ``unitriangular``), ``b`` (..., n, k)."""
        xp = self.xp
        n = a.shape[-1]
        order = range(n - 1, -1, -1) if upper else range(n)
        solved = []  # the rows of X found so far, in the order they are found
        for i in order:
            row = b[..., i : i + 1, :]
            if solved:
                known = slice(i + 1, n) if upper else slice(0, i)
                done = xp.concat(solved[::-1] if upper else solved, axis=-2)
                row = row - xp.matmul(a[..., i : i + 1, known], done)
            if not unitriangular:
                row = row / a[..., i : i + 1, i : i + 1]
            solved.append(row)
        if not solved:
            return b
        return xp.concat(solved[::-1] if upper else solved, axis=-2)

    # -- Cholesky -------------------------------------------------------------------------------
    def linalg_cholesky(self, a):
        """``(L, info)``: lower ``L`` with ``A = L L^H`` of the lower triangle of ``a`` (..., n, n);
        ``info`` the order of the first leading minor that is not positive-definite (LAPACK's: the
        real part of a complex diagonal is read). Where it fails, ``L`` is what LAPACK's ``potf2``
        leaves: the failed column's reduced diagonal element, the original lower triangle after it."""
        xp = self.xp
        n = a.shape[-1]
        int32 = self.backend.native_dtype(dtypes.int32)
        rows, cols = self._positions(n, -2), self._positions(n, -1)
        zero = xp.asarray(0, dtype=a.dtype)
        complex_input = self._is_complex(a)
        lower = xp.broadcast_to(zero, a.shape)
        info = self._info(a.shape[:-2])
        for j in range(n):  # left-looking: column j from the columns before it
            column = a[..., :, j : j + 1] - xp.matmul(lower, self._mH(lower[..., j : j + 1, :]))
            d = column[..., j : j + 1, :]
            d = xp.real(d) if complex_input else d
            bad = xp.logical_not(d > 0)
            failed_before = xp.expand_dims(xp.expand_dims(info != 0, axis=-1), axis=-1)
            fails_here = xp.logical_and(bad, xp.logical_not(failed_before))
            info = xp.where(fails_here[..., 0, 0], xp.asarray(j + 1, dtype=int32), info)
            root = xp.sqrt(xp.where(bad, xp.asarray(1, dtype=d.dtype), d))
            root = xp.astype(root, a.dtype) if complex_input else root
            original = xp.where(rows >= j, a[..., :, j : j + 1], zero)
            column = xp.where(
                failed_before,
                original,
                xp.where(
                    fails_here,  # LAPACK stores the (real) reduced diagonal element there
                    xp.where(rows == j, xp.astype(d, a.dtype) if complex_input else d, original),
                    xp.where(rows > j, column / root, xp.where(rows == j, root, zero)),
                ),
            )
            lower = xp.where(cols == j, column, lower)
        return lower, info

    # -- QR -------------------------------------------------------------------------------------
    def linalg_qr(self, a, complete=False):
        """``(Q, R)`` of ``a`` (..., m, n) by Householder reflections: ``Q`` (..., m, m) and ``R``
        (..., m, n) when ``complete``, else ``Q`` (..., m, k) and ``R`` (..., k, n), ``k = min(m, n)``."""
        self._real_only(a, "linalg.qr")
        xp = self.xp
        m, n = a.shape[-2:]
        rows = self._positions(m, -2)
        zero, one = xp.asarray(0, dtype=a.dtype), xp.asarray(1, dtype=a.dtype)
        r = a
        q = self._eye(m, a)
        for k in range(min(m - 1, n)):
            x = xp.where(rows >= k, r[..., :, k : k + 1], zero)
            head = r[..., k : k + 1, k : k + 1]
            tail = xp.sum(xp.where(rows > k, x * x, zero), axis=-2, keepdims=True)
            norm = xp.sqrt(head * head + tail)
            v = x - xp.where(rows == k, xp.where(head >= 0, -norm, norm), zero)
            reflect = tail > 0  # a column already zero below the diagonal is left as it is
            beta = xp.where(reflect, 2 / xp.where(reflect, xp.sum(v * v, axis=-2, keepdims=True), one), zero)
            r = r - (beta * v) * xp.matmul(self._mT(v), r)
            q = q - xp.matmul(q, v) * self._mT(beta * v)
        r = xp.where(rows <= self._positions(n, -1), r, zero)
        if complete:
            return q, r
        k = min(m, n)
        return q[..., :, :k], r[..., :k, :]

    # -- Jacobi: singular values and symmetric eigenvalues ---------------------------------------
    def _orthogonalize(self, a, v, eps):
        """Rotate the columns of ``a`` (..., m, n; ``n`` even) pairwise until they are orthogonal,
        applying the same rotations to ``v``; returns ``(a, v)``."""
        xp, backend = self.xp, self.backend
        n = a.shape[-1]
        long = backend.native_dtype(dtypes.int64)
        pairs = []
        for p, q in _rounds(n):
            inverse = [0] * n
            for position, column in enumerate(p + q):
                inverse[column] = position
            pairs.append(tuple(xp.asarray(i, dtype=long) for i in (p, q, inverse)))
        one = xp.asarray(1, dtype=a.dtype)
        for _ in range(_MAX_SWEEPS):
            off = xp.asarray(False, dtype=backend.native_dtype(dtypes.bool))
            for p, q, inverse in pairs:
                ap, aq = xp.take(a, p, axis=-1), xp.take(a, q, axis=-1)
                alpha, beta, gamma = (xp.sum(x * y, axis=-2) for x, y in ((ap, ap), (aq, aq), (ap, aq)))
                rotate = xp.abs(gamma) > eps * xp.sqrt(alpha * beta)
                off = xp.logical_or(off, xp.any(rotate))
                zeta = (beta - alpha) / (2 * xp.where(rotate, gamma, one))
                t = xp.where(zeta >= 0, one, -one) / (xp.abs(zeta) + xp.sqrt(1 + zeta * zeta))
                t = xp.where(rotate, t, 0 * one)
                c = 1 / xp.sqrt(1 + t * t)
                s = c * t
                c, s = xp.expand_dims(c, axis=-2), xp.expand_dims(s, axis=-2)
                a = xp.take(xp.concat([c * ap - s * aq, s * ap + c * aq], axis=-1), inverse, axis=-1)
                vp, vq = xp.take(v, p, axis=-1), xp.take(v, q, axis=-1)
                v = xp.take(xp.concat([c * vp - s * vq, s * vp + c * vq], axis=-1), inverse, axis=-1)
            if not bool(backend.to_host(off)):  # one host read per sweep
                break
        return a, v

    def _jacobi(self, a):
        """``(u, s, v)`` of ``a`` (..., m, n) with ``m >= n``: ``a = u diag(s) v^T``, ``s``
        descending, ``u`` (..., m, n) and ``v`` (..., n, n)."""
        xp = self.xp
        n = a.shape[-1]
        padded = n + n % 2  # an even count of columns for the round-robin pairing (a zero column is inert)
        if padded != n:
            a = xp.concat([a, xp.zeros((*a.shape[:-1], 1), dtype=a.dtype)], axis=-1)
        v = self._eye(padded, a)
        if padded > 1:
            a, v = self._orthogonalize(a, v, 4 * finfo(self.backend.ember_dtype(a.dtype)).eps)
        a, v = a[..., :n], v[..., :n, :n]
        s = xp.sqrt(xp.sum(a * a, axis=-2))
        u = a / xp.expand_dims(xp.where(s > 0, s, xp.asarray(1, dtype=s.dtype)), axis=-2)
        order = xp.argsort(-s, axis=-1, stable=True)
        s = xp.take_along_axis(s, order, axis=-1)
        order = xp.expand_dims(order, axis=-2)
        u = xp.take_along_axis(u, xp.broadcast_to(order, u.shape), axis=-1)
        v = xp.take_along_axis(v, xp.broadcast_to(order, v.shape), axis=-1)
        # a zero singular value leaves its column of u zero, a tiny one noisy: the QR of u keeps the
        # other columns (up to the sign R's diagonal gives back) and makes those orthonormal
        q, r = self.linalg_qr(u)
        n = r.shape[-1]
        diagonal = xp.sum(xp.where(self._positions(n, -2) == self._positions(n, -1), r, 0 * r), axis=-2)
        one = xp.asarray(1, dtype=u.dtype)
        return q * xp.expand_dims(xp.where(diagonal < 0, -one, one), axis=-2), s, v

    def _complete(self, u):
        """``u`` (..., m, k) with orthonormal columns extended to an orthogonal (..., m, m)."""
        m, k = u.shape[-2:]
        if m == k:
            return u
        q, _ = self.linalg_qr(u, complete=True)
        return self.xp.concat([u, q[..., :, k:]], axis=-1)

    def linalg_svd(self, a, full_matrices=False):
        """``(U, S, Vh)`` of ``a`` (..., m, n): ``a = U diag(S) Vh``, ``S`` descending; ``U``
        (..., m, k) and ``Vh`` (..., k, n), ``k = min(m, n)``, or square when ``full_matrices``."""
        self._real_only(a, "linalg.svd")
        wide = a.shape[-2] < a.shape[-1]
        u, s, v = self._jacobi(self._mT(a) if wide else a)
        if wide:
            u, v = v, u
        if full_matrices:
            u, v = self._complete(u), self._complete(v)
        return u, s, self._mT(v)

    def linalg_eigh(self, a, upper=False):
        """``(w, V)`` of the symmetric matrix whose ``upper`` (or lower) triangle ``a`` (..., n, n)
        holds: ``A = V diag(w) V^T``, ``w`` ascending.

        The eigenvectors of ``A + c I`` with ``c = |A|_F`` are its right singular vectors (it is
        positive semi-definite), and its singular values are ``w + c``."""
        self._real_only(a, "linalg.eigh")
        xp = self.xp
        n = a.shape[-1]
        rows, cols = self._positions(n, -2), self._positions(n, -1)
        kept = rows <= cols if upper else rows >= cols
        a = xp.where(kept, a, self._mT(a))
        shift = xp.sqrt(xp.sum(a * a, axis=(-2, -1), keepdims=True))
        _, s, v = self._jacobi(a + shift * self._eye(n, a))
        w = s - shift[..., 0]
        return xp.flip(w, axis=-1), xp.flip(v, axis=-1)

    def linalg_eig(self, a):
        """``(L, V)`` of a general square ``a``: no portable algorithm (PyTorch's GPU builds, too,
        compute it on the host with LAPACK)."""
        raise NotImplementedError(
            f"linalg.eig: the {type(self.backend).__name__} backend has no general eigen decomposition"
        )

    def linalg_ldl_factor(self, a, hermitian=False):
        """``(LD, pivots, info)``: the Bunch-Kaufman factorization of the symmetric (Hermitian when
        ``hermitian``) matrix whose lower triangle ``a`` (..., n, n) holds, in LAPACK's compact form
        (``sytrf``). No portable algorithm: its pivoting is a data-dependent choice per matrix and
        step; a backend provides it (NumPy's runs LAPACK's algorithm)."""
        raise NotImplementedError(
            f"linalg.ldl_factor: the {type(self.backend).__name__} backend has no LDL factorization"
        )

    def linalg_ldl_solve(self, ld, pivots, b, hermitian=False):
        """``X`` with ``A X = B`` from :meth:`linalg_ldl_factor`'s ``ld`` and ``pivots``, ``b``
        (..., n, k) with their batch shape."""
        raise NotImplementedError(f"linalg.ldl_solve: the {type(self.backend).__name__} backend has no LDL solver")

    # -- matrix exponential ---------------------------------------------------------------------
    def linalg_matrix_exp(self, a):
        """``exp(a)`` of square ``a`` (..., n, n): scaled by ``2^-s`` to a 1-norm at most 1 (one
        host read for ``s``, the largest over the batch), a degree-18 Taylor polynomial (truncation
        below ``1 / 19!``), then squared ``s`` times."""
        xp = self.xp
        if math.prod(a.shape) == 0:
            return a
        norm = float(self.backend.to_host(xp.max(xp.sum(xp.abs(a), axis=-2))))
        squarings = max(0, math.ceil(math.log2(norm))) if norm > 0 and math.isfinite(norm) else 0
        a = a / (2.0**squarings)
        identity = self._eye(a.shape[-1], a)
        result = identity
        for k in range(_TAYLOR_DEGREE, 0, -1):
            result = identity + xp.matmul(a, result) / k
        for _ in range(squarings):
            result = xp.matmul(result, result)
        return result
