"""The arithmetic of PyTorch's CPU sampling kernels, in NumPy, for :mod:`.cpu_generator`.

PyTorch's x86 kernels are compiled with fused multiply-adds, so ``a * b + c`` there rounds once;
its float32 Box-Muller kernel (AVX2) takes logarithms, sines and cosines from Cephes-style
polynomials rather than from the C library. Reproducing its samples bit for bit needs both:

* :func:`fma32` and :func:`fma64`: ``a * b + c`` rounded once;
* :func:`log32` and :func:`sincos32`: the polynomial approximations, evaluated in float32 with
  the same fused steps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fma32", "fma64", "log32", "sincos32"]

_f32 = np.float32
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant for float64


def fma32(a, b, c, out=None):
    """``a * b + c`` in float32, rounded once (the float64 product of two float32 is exact), into
    ``out`` (a float32 array, which may be ``a``, ``b`` or ``c``) when given."""
    total = np.multiply(a, b, dtype=np.float64)
    if out is None:
        out = np.empty(total.shape, np.float32)
    return np.add(total, c, out=out, dtype=np.float64, casting="same_kind")


def _split(v):
    high = _SPLIT * v
    high = high - (high - v)
    return high, v - high


def fma64(a, b, c):
    """``a * b + c`` in float64, rounded once: the product kept exactly as a sum of two float64
    (Dekker), then added to ``c`` with its rounding error (Knuth's two-sum)."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    virtual = total - product
    sum_error = (product - (total - virtual)) + (c - virtual)
    return total + (sum_error + product_error)


# log(x) for x in (0, 1]: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log(1 + f) by a polynomial
_LOG_POLYNOMIAL = tuple(
    _f32(c)
    for c in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
)
_LN2_HIGH, _LN2_LOW = _f32(0.693359375), _f32(-2.12194440e-4)


def log32(x):
    """The natural logarithm of positive float32 ``x``, as PyTorch's AVX2 Box-Muller computes it."""
    bits = np.asarray(x, np.float32).view(np.int32)
    mantissa = ((bits & np.int32(0x007FFFFF)) | np.int32(0x3F000000)).view(np.float32)  # in [0.5, 1)
    small = mantissa < _f32(0.707106781186547524)
    exponent = ((bits >> 23) - (small + np.int32(0x7E))).astype(np.float32)  # x positive: no sign bit
    f = mantissa - _f32(1)
    f += np.where(small, mantissa, _f32(0))  # m - 1, or 2m - 1 below sqrt(1/2)
    f2 = f * f
    y = fma32(f, _LOG_POLYNOMIAL[0], _LOG_POLYNOMIAL[1])
    for coefficient in _LOG_POLYNOMIAL[2:]:
        fma32(y, f, coefficient, out=y)
    y *= f
    fma32(y, f2, exponent * _LN2_LOW, out=y)
    fma32(f2, _f32(-0.5), y, out=y)
    y += f
    return fma32(exponent, _LN2_HIGH, y, out=y)


_FOUR_OVER_PI = _f32(1.27323954473516)
_PI_OVER_4 = (_f32(-0.78515625), _f32(-2.4187564849853515625e-4), _f32(-3.77489497744594108e-8))
_SIN_POLYNOMIAL = (_f32(-1.9515295891e-4), _f32(8.3321608736e-3), _f32(-1.6666654611e-1))
_COS_POLYNOMIAL = (_f32(2.443315711809948e-5), _f32(-1.388731625493765e-3), _f32(4.166664568298827e-2))


def sincos32(x):
    """``(sin(x), cos(x))`` of float32 ``x``, as PyTorch's AVX2 Box-Muller computes them: reduced
    by multiples of pi/4 (in three parts), then a polynomial in the reduced argument."""
    x = np.asarray(x, np.float32)
    sin_negative = np.signbit(x)
    x = np.abs(x)
    octant = (x * _FOUR_OVER_PI).astype(np.int32)
    octant += 1
    octant &= ~1
    y = octant.astype(np.float32)
    for part in _PI_OVER_4:
        fma32(y, part, x, out=x)
    sin_negative ^= (octant & 4) != 0
    cos_negative = (~(octant - 2) & 4) != 0
    sine_first = (octant & 2) == 0
    z = x * x
    cosine = fma32(z, _COS_POLYNOMIAL[0], _COS_POLYNOMIAL[1])
    fma32(cosine, z, _COS_POLYNOMIAL[2], out=cosine)
    cosine *= z
    fma32(cosine, z, -(z * _f32(0.5)), out=cosine)
    cosine += _f32(1)
    sine = fma32(z, _SIN_POLYNOMIAL[0], _SIN_POLYNOMIAL[1])
    fma32(sine, z, _SIN_POLYNOMIAL[2], out=sine)
    sine *= z
    fma32(sine, x, x, out=sine)
    sin, cos = np.where(sine_first, sine, cosine), np.where(sine_first, cosine, sine)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)
