"""float32 ``exp`` as PyTorch's vectorized CPU kernels compute it.

PyTorch's ``Vectorized<float>::exp`` on an x86 build (AVX2 or AVX-512) is Sleef's ``expf`` of 1 ULP
(``Sleef_expf8_u10``/``Sleef_expf16_u10``): ``q = rint(x / ln 2)``, the reduced ``s = x - q ln 2`` in
two fused steps (ln 2 split in a high and a low part), a degree-6 polynomial in ``s`` evaluated with
fused multiply-adds, ``1 + (s * s * p + s)``, scaled by ``2 ** q`` in two float32 products; below -104
it is 0, above 100 inf. It rounds about one result in ten the other way from the correctly rounded
exponential, which a softmax of 16-bit values turns into a unit apart now and then. PyTorch's
portable build and its scalar loops call the C library's ``expf`` (correctly rounded in nearly all
cases): :func:`c_library_exp`.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes

__all__ = ["c_library_exp", "vectorized_exp"]

#: Sleef's float constants: 1 / ln 2, ln 2 in a high part with trailing zero bits and the rest
_INV_LN2 = 1.442695040888963407359924681001892137426645954152985934135449406931
_LN2_HIGH = 0.693145751953125
_LN2_LOW = 1.428606765330187045e-06
#: the polynomial's coefficients, highest degree first
_POLYNOMIAL = (
    0.000198527617612853646278381,
    0.00139304355252534151077271,
    0.00833336077630519866943359,
    0.0416664853692054748535156,
    0.166666671633720397949219,
    0.5,
)


def vectorized_exp(backend: Any, x: Any) -> Any:
    """``exp`` of the float32 array ``x`` as ``Vectorized<float>::exp`` computes it on this machine's
    PyTorch build (see the module docstring): Sleef's where the backend's kernels see vector lanes
    (:attr:`ember.kernels.Kernels.VECTOR_LANES`), the C library's elsewhere."""
    if not backend.kernels.VECTOR_LANES:
        return c_library_exp(backend, x)
    xp = backend.xp
    fma = backend.kernels.fused_multiply_add
    wide = x.dtype
    q = xp.round(xp.multiply(x, xp.asarray(_INV_LN2, dtype=wide)))
    s = fma(q, -_LN2_HIGH, x)
    s = fma(q, -_LN2_LOW, s)
    u = xp.full(x.shape, _POLYNOMIAL[0], dtype=wide)
    for c in _POLYNOMIAL[1:]:
        u = fma(u, s, xp.full(x.shape, c, dtype=wide))
    u = xp.add(fma(xp.multiply(s, s), u, s), xp.asarray(1.0, dtype=wide))
    # 2 ** q in two float32 factors, 2 ** (q // 2) then 2 ** (q - q // 2), each exact (q is at most 150 or so)
    two = xp.asarray(2.0, dtype=wide)
    finite = xp.less(xp.abs(q), 256.0)  # NaN/inf inputs: their q leaves the powers alone
    bounded = xp.where(finite, q, 0.0)
    half = xp.floor(xp.divide(bounded, 2.0))  # Sleef's q >> 1
    u = xp.multiply(xp.multiply(u, xp.pow(two, half)), xp.pow(two, xp.subtract(bounded, half)))
    u = xp.where(xp.less(x, -104.0), xp.asarray(0.0, dtype=wide), u)
    return xp.where(xp.less(xp.asarray(100.0, dtype=wide), x), xp.asarray(math.inf, dtype=wide), u)


def c_library_exp(backend: Any, x: Any) -> Any:
    """``exp`` of the float32 array ``x`` correctly rounded, as the C library's ``expf`` nearly always is
    (computed in float64 and rounded, where the backend has float64)."""
    xp = backend.xp
    if not backend.supports_float64:
        return xp.exp(x)
    return xp.astype(xp.exp(xp.astype(x, backend.native_dtype(dtypes.float64))), x.dtype)
