"""The portable kernel of ``lgamma``, the logarithm of the absolute value of the gamma function.

Lanczos' series (g = 7, nine terms) with the reflection formula below one half, written against
``self.xp``: within a few units in the last place away from the zeros at 1 and 2, but only within
an absolute 1e-16 or so near them (the series' terms cancel there). A backend whose library has the
C library's ``lgamma`` overrides :meth:`lgamma` with it (the NumPy backend, through Numba).
"""

from __future__ import annotations

import math

__all__ = ["SpecialKernels"]

_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
)  # fmt: skip
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_TINY = 1e-20


class SpecialKernels:
    def lgamma(self, x):
        """``log|gamma(x)|`` of the floating array ``x``, in its type: 0 at 1 and 2 exactly, +inf at the
        poles (0 and the negative integers) and at both infinities, NaN at NaN."""
        xp = self.xp
        reflect = x < 0.5
        z = xp.where(reflect, 1 - x, x) - 1  # Lanczos's series holds for z + 1 >= 0.5
        series = xp.full(x.shape, _LANCZOS[0], dtype=x.dtype)
        for i, c in enumerate(_LANCZOS[1:], start=1):
            series = series + xp.divide(c, z + i)
        t = z + (_LANCZOS_G + 0.5)
        value = xp.add(xp.subtract(xp.multiply(z + 0.5, xp.log(t)), t), xp.log(series) + _HALF_LOG_2PI)
        reflected = xp.subtract(xp.log(xp.divide(math.pi, xp.abs(xp.sin(math.pi * x)))), value)
        out = xp.where(reflect, reflected, value)
        out = xp.where(xp.logical_or(x == 1, x == 2), 0.0, out)  # exactly, as the C library's lgamma
        # -log|x| near zero, where sin(pi * x) underflows (the next term, Euler's constant times x, is below its ulp)
        out = xp.where(xp.abs(x) < _TINY, xp.negative(xp.log(xp.abs(x))), out)
        pole = xp.logical_and(x <= 0, x == xp.floor(x))  # 0 and the negative integers
        return xp.where(xp.logical_or(pole, xp.abs(x) == math.inf), math.inf, out)
