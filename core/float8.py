"""Rounding into the 8-bit floating types as PyTorch rounds (host NumPy arrays).

NumPy holds the float8 types through ``ml_dtypes``, whose casts differ from PyTorch's at the edges:
PyTorch's ``float8_e4m3fn`` saturates (500 and inf become 448, where ``ml_dtypes`` gives NaN), its NaNs
keep their sign with every mantissa bit set (``ml_dtypes``' ``float8_e5m2`` NaN is ``0x7e``), and its
``float8_e8m0fnu`` (a power of two, no sign) takes the magnitude of negative numbers and maps zero
to its smallest value, 2**-127. Every source type is first rounded to float32, as PyTorch converts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["to_float8"]

_E4M3FN_MAX = 448.0


def to_float8(array: np.ndarray, target: np.dtype) -> np.ndarray:
    """``array`` cast to the float8 type ``target`` (an ``ml_dtypes`` NumPy dtype) as PyTorch casts it.

    Args:
        array (numpy.ndarray): the values, of any real (or bool) type.
        target (numpy.dtype): ``float8_e4m3fn``, ``float8_e5m2``, ``float8_e4m3fnuz``,
            ``float8_e5m2fnuz`` or ``float8_e8m0fnu``.

    Example::

        >>> import numpy as np
        >>> from ember.dtypes import host_dtype
        >>> from ember.float8 import to_float8
        >>> to_float8(np.array([500.0, -np.inf]), host_dtype(ember.float8_e4m3fn)).astype(np.float32)
        array([ 448., -448.], dtype=float32)
    """
    x = np.asarray(array)
    if x.dtype.kind == "c":  # PyTorch's cast of a complex number keeps its real part
        x = x.real
    x = x.astype(np.float32)
    name = target.name
    if name == "float8_e8m0fnu":
        return _to_e8m0(x).view(target)
    if name == "float8_e4m3fn":
        x = np.where(np.isnan(x), x, np.clip(x, -_E4M3FN_MAX, _E4M3FN_MAX))
    out = x.astype(target)
    if name in ("float8_e4m3fn", "float8_e5m2"):  # the NaN with every mantissa bit set, its sign kept
        nan = np.isnan(x)
        if nan.any():
            out.view(np.uint8)[nan] = np.where(np.signbit(x[nan]), 0xFF, 0x7F)
    return out


def _to_e8m0(x: np.ndarray) -> np.ndarray:
    """The float8_e8m0fnu codes of float32 ``x``: the biased exponent of ``|x|``, one up where the
    mantissa is half or more (2**-127 itself, a float32 subnormal, stays code 0); NaN and inf are 255."""
    bits = np.abs(x).view(np.uint32)
    exponent = bits >> 23
    mantissa = bits & 0x7FFFFF
    up = (mantissa > 0x400000) | ((mantissa == 0x400000) & (exponent > 0))
    code = np.minimum(exponent + up, 255)
    return np.where(exponent == 255, 255, code).astype(np.uint8)
