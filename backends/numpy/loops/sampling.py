"""PyTorch's float32 Box-Muller (its AVX2 kernel) as a compiled loop over blocks of 16 uniforms, the
blocks split over the threads (see :mod:`.runtime`).

The arithmetic is :mod:`..sampling_math`'s, element by element: the Cephes-style logarithm and
sine/cosine polynomials in float32, each fused multiply-add rounded once (the exact float64 product
of two float32 plus the third operand, rounded to float32). Numba does not contract a product and a
sum into a hardware fused step unless asked (``fastmath``), so the loop rounds exactly as the NumPy
version does, which the tests compare over every input the sampler can meet.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..sampling_math import _COS_POLYNOMIAL, _LN2_HIGH, _LN2_LOW, _LOG_POLYNOMIAL, _PI_OVER_4, _SIN_POLYNOMIAL

__all__ = ["box_muller_float32", "fisher_yates"]

_f32 = np.float32
_f64 = np.float64
_L0, _L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8 = _LOG_POLYNOMIAL
_S0, _S1, _S2 = _SIN_POLYNOMIAL
_C0, _C1, _C2 = _COS_POLYNOMIAL
_P0, _P1, _P2 = _PI_OVER_4
_SQRT_HALF = _f32(0.707106781186547524)
_FOUR_OVER_PI = _f32(1.27323954473516)
_TWO_PI = _f32(2 * math.pi)
_ZERO, _ONE, _HALF, _MINUS_HALF, _MINUS_TWO = _f32(0), _f32(1), _f32(0.5), _f32(-0.5), _f32(-2)


@njit(inline="always")
def _fma(a, b, c):
    """``a * b + c`` in float32, rounded once."""
    return _f32(_f64(a) * _f64(b) + _f64(c))


@njit(inline="always")
def _scale_up(m, e, bits):
    """``(m * 2**bits, e - bits)`` where ``m < 2**-bits``, else ``(m, e)`` (a select, exact)."""
    below = m < _f32(2.0**-bits)
    return (m * _f32(2.0**bits) if below else m), (e - _f32(bits) if below else e)


@njit(inline="always")
def _log(x):
    """:func:`..sampling_math.log32` of one float32 in [2**-24, 1] (the sampler's ``1 - u``)."""
    # x = m * 2**e with m in [0.5, 1), by doublings (x = 1 is 0.5 * 2**1)
    one = x == _ONE
    m, e = (_HALF if one else x), (_ONE if one else _ZERO)
    m, e = _scale_up(m, e, 16)
    m, e = _scale_up(m, e, 8)
    m, e = _scale_up(m, e, 4)
    m, e = _scale_up(m, e, 2)
    m, e = _scale_up(m, e, 1)
    small = m < _SQRT_HALF  # then x = 2m * 2**(e - 1)
    e = e - _ONE if small else e
    f = (m - _ONE) + (m if small else _ZERO)
    f2 = f * f
    y = _fma(_L0, f, _L1)
    y = _fma(y, f, _L2)
    y = _fma(y, f, _L3)
    y = _fma(y, f, _L4)
    y = _fma(y, f, _L5)
    y = _fma(y, f, _L6)
    y = _fma(y, f, _L7)
    y = _fma(y, f, _L8)
    y = _fma(y * f, f2, e * _LN2_LOW)
    y = _fma(f2, _MINUS_HALF, y)
    return _fma(e, _LN2_HIGH, f + y)


@njit(inline="always")
def _sincos(x):
    """:func:`..sampling_math.sincos32` of one non-negative float32."""
    octant = np.int32(x * _FOUR_OVER_PI)
    octant = (octant + 1) & ~1
    y = _f32(octant)
    x = _fma(y, _P0, x)
    x = _fma(y, _P1, x)
    x = _fma(y, _P2, x)
    z = x * x
    cosine = _fma(_fma(_C0, z, _C1), z, _C2)
    cosine = _fma(cosine * z, z, -(z * _HALF)) + _ONE
    sine = _fma(_fma(_S0, z, _S1), z, _S2)
    sine = _fma(sine * z, x, x)
    if octant & 2:
        sine, cosine = cosine, sine
    if octant & 4:
        sine = -sine
    if ~(octant - 2) & 4:
        cosine = -cosine
    return sine, cosine


@njit(parallel=True, nogil=True, cache=True)
def box_muller_float32(blocks, mean, std):
    """Each row of ``blocks`` (``(B, 16)`` float32 uniforms in [0, 1)) into 16 normal samples, in
    place: uniforms ``j`` and ``j + 8`` give ``r cos(t) * std + mean`` and ``r sin(t) * std + mean``,
    ``r = sqrt(-2 log(1 - u_j))``, ``t = 2 pi u_{j+8}``."""
    for b in prange(blocks.shape[0]):
        row = blocks[b]
        for j in range(8):
            radius = np.sqrt(_MINUS_TWO * _log(_ONE - row[j]))
            sine, cosine = _sincos(_TWO_PI * row[j + 8])
            row[j] = _fma(radius * cosine, std, mean)
            row[j + 8] = _fma(radius * sine, std, mean)


@njit(nogil=True, cache=True)
def fisher_yates(order, targets):
    """Swap ``order[i]`` with ``order[targets[i]]`` for ``i`` from 0 on, in place (one thread: each
    swap depends on the ones before)."""
    for i in range(targets.size):
        j = targets[i]
        order[i], order[j] = order[j], order[i]
