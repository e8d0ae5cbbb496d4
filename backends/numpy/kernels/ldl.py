"""The Bunch-Kaufman factorization ``A = P L D L^T P^T`` of symmetric (or Hermitian) indefinite
matrices and the solve with its factors: LAPACK's unblocked ``sytf2``/``hetf2`` and
``sytrs``/``hetrs`` on the lower triangle, in NumPy (``numpy.linalg`` has no LDL^T, and SciPy is
not a dependency), with the conventions PyTorch returns.

``LD`` holds ``L`` (unit diagonal, not stored) below the diagonal and the 1x1 and 2x2 blocks of
``D`` on it and on the subdiagonal; the strict upper triangle is zero. ``pivots`` (int32,
1-based): ``pivots[k] = p > 0`` for a 1x1 block (rows and columns ``k`` and ``p - 1``
interchanged), ``pivots[k] = pivots[k + 1] = -p`` for a 2x2 block at ``k`` (``k + 1`` and
``p - 1`` interchanged). ``info`` is the 1-based order of the first column found zero (``D``
singular), else 0. The pivot measure of a complex number is LAPACK's ``|Re| + |Im|``, and the
choices follow LAPACK's comparisons, NaN included (a NaN is never the larger).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ldl_factor", "ldl_solve"]

#: Bunch and Kaufman's threshold: the growth of a 1x1 and of a 2x2 pivot step balanced
_ALPHA = (1 + math.sqrt(17)) / 8


def _size(x):
    """LAPACK's pivot measure (``cabs1`` for complex)."""
    return np.abs(x.real) + np.abs(x.imag) if np.iscomplexobj(x) else np.abs(x)


def _largest(values):
    """``i?amax``: the first index of the largest value; a leading NaN wins, later ones never do."""
    if np.isnan(values[0]):
        return 0
    return int(np.argmax(np.where(np.isnan(values), -np.inf, values)))


def _interchange(a, kk, kp, conjugate):
    """Exchange rows and columns ``kk < kp`` of the lower triangle of the trailing matrix."""
    a[kp + 1 :, [kk, kp]] = a[kp + 1 :, [kp, kk]]
    middle = a[kk + 1 : kp, kk].copy()
    a[kk + 1 : kp, kk] = a[kp, kk + 1 : kp].conj() if conjugate else a[kp, kk + 1 : kp]
    a[kp, kk + 1 : kp] = middle.conj() if conjugate else middle
    if conjugate:
        a[kp, kk] = a[kp, kk].conj()
    a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]


def _factor(a, hermitian):
    """Factor the square ``a`` in place; returns ``(pivots, info)``."""
    n = a.shape[0]
    conjugate = hermitian and np.iscomplexobj(a)
    diagonal_size = (lambda x: abs(x.real)) if conjugate else _size
    pivots = np.zeros(n, dtype=np.int32)
    info = 0
    k = 0
    while k < n:
        step = 1
        absakk = diagonal_size(a[k, k])
        imax, colmax = k, 0.0
        if k < n - 1:
            column = _size(a[k + 1 :, k])
            imax = k + 1 + _largest(column)
            colmax = column[imax - k - 1]
        if np.fmax(absakk, colmax) == 0:  # column k is zero: D singular, nothing to eliminate
            info = info or k + 1
            kp = k
            if conjugate:
                a[k, k] = a[k, k].real
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                row = _size(a[imax, k:imax])
                rowmax = row[_largest(row)]
                if imax < n - 1:
                    below = _size(a[imax + 1 :, imax])
                    rowmax = max(rowmax, below[_largest(below)])
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif diagonal_size(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp, step = imax, 2
            kk = k + step - 1
            if kp != kk:
                _interchange(a, kk, kp, conjugate)
                if step == 2:
                    a[[k + 1, kp], k] = a[[kp, k + 1], k]
            if conjugate:
                a[k, k] = a[k, k].real
                a[k + step - 1, k + step - 1] = a[k + step - 1, k + step - 1].real
            if step == 1:
                _eliminate_one(a, k, conjugate)
            else:
                _eliminate_two(a, k, conjugate)
        if step == 1:
            pivots[k] = kp + 1
        else:
            pivots[k] = pivots[k + 1] = -(kp + 1)
        k += step
    return pivots, info


def _eliminate_one(a, k, conjugate):
    """The trailing update of a 1x1 pivot ``d``: ``A -= x x^T / d`` (``x^H``), ``x /= d``."""
    x = a[k + 1 :, k]
    if not x.size:
        return
    r = 1 / (a[k, k].real if conjugate else a[k, k])
    a[k + 1 :, k + 1 :] -= r * np.outer(x, x.conj() if conjugate else x)
    if conjugate:
        trailing = a[k + 1 :, k + 1 :]
        np.fill_diagonal(trailing, trailing.diagonal().real)
    a[k + 1 :, k] = x * r


def _eliminate_two(a, k, conjugate):
    """The trailing update of a 2x2 pivot block (``sytf2``'s and ``hetf2``'s arithmetic)."""
    if k + 2 >= a.shape[0]:
        return
    first, second = a[k + 2 :, k].copy(), a[k + 2 :, k + 1].copy()
    if conjugate:
        d = abs(a[k + 1, k])
        d11, d22 = a[k + 1, k + 1].real / d, a[k, k].real / d
        d21 = a[k + 1, k] / d
        scale = (1 / (d11 * d22 - 1)) / d
        wk = scale * (d11 * first - d21 * second)
        wkp1 = scale * (d22 * second - np.conj(d21) * first)
        a[k + 2 :, k + 2 :] -= np.outer(first, wk.conj()) + np.outer(second, wkp1.conj())
        trailing = a[k + 2 :, k + 2 :]
        np.fill_diagonal(trailing, trailing.diagonal().real)
    else:
        d21 = a[k + 1, k]
        d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
        d21 = (1 / (d11 * d22 - 1)) / d21
        wk = d21 * (d11 * first - second)
        wkp1 = d21 * (d22 * second - first)
        a[k + 2 :, k + 2 :] -= np.outer(first, wk) + np.outer(second, wkp1)
    a[k + 2 :, k], a[k + 2 :, k + 1] = wk, wkp1


def ldl_factor(a, hermitian):
    """``(LD, pivots, info)`` of the lower triangle of ``a`` (..., n, n)."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    flat = np.array(a, copy=True).reshape(math.prod(batch), n, n)
    pivots = np.zeros((flat.shape[0], n), dtype=np.int32)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    for i, matrix in enumerate(flat):
        pivots[i], info[i] = _factor(matrix, hermitian)
    return np.tril(flat).reshape(a.shape), pivots.reshape(*batch, n), info.reshape(batch)


def _solve(ld, pivots, b, hermitian):
    """``X`` with ``A X = B`` from one factorization, ``b`` (n, k) overwritten."""
    n = ld.shape[0]
    conjugate = hermitian and np.iscomplexobj(ld)
    adjoint = np.conj if conjugate else (lambda x: x)
    k = 0
    while k < n:  # P L D y = B
        if pivots[k] > 0:
            kp = pivots[k] - 1
            b[[k, kp]] = b[[kp, k]]
            b[k + 1 :] -= np.outer(ld[k + 1 :, k], b[k])
            b[k] /= ld[k, k].real if conjugate else ld[k, k]
            k += 1
        else:
            kp = -pivots[k] - 1
            b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2 :] -= np.outer(ld[k + 2 :, k], b[k]) + np.outer(ld[k + 2 :, k + 1], b[k + 1])
            off = ld[k + 1, k]
            akm1, ak = ld[k, k] / adjoint(off), ld[k + 1, k + 1] / off
            denominator = akm1 * ak - 1
            bkm1, bk = b[k] / adjoint(off), b[k + 1] / off
            b[k], b[k + 1] = (ak * bkm1 - bk) / denominator, (akm1 * bk - bkm1) / denominator
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T X = y (L^H for a Hermitian factorization)
        block = 1 if pivots[k] > 0 else 2
        for row in range(k, k - block, -1):
            b[row] -= adjoint(ld[k + 1 :, row]) @ b[k + 1 :]
        kp = abs(pivots[k]) - 1
        b[[k, kp]] = b[[kp, k]]
        k -= block
    return b


def ldl_solve(ld, pivots, b, hermitian):
    """``X`` with ``A X = B`` for ``ld`` (..., n, n), ``pivots`` (..., n) and ``b`` (..., n, k) of one batch shape."""
    n, k = b.shape[-2:]
    count = math.prod(b.shape[:-2])
    flat_b = np.array(b, copy=True).reshape(count, n, k)
    flat_ld, flat_pivots = ld.reshape(count, n, n), pivots.reshape(count, n)
    for i in range(flat_b.shape[0]):
        _solve(flat_ld[i], flat_pivots[i], flat_b[i], hermitian)
    return flat_b.reshape(b.shape)
