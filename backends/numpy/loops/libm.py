"""The C library's float64 ``log``, ``log1p``, ``exp``, ``sin``, ``cos``, ``tan``, ``erf`` and ``lgamma`` as compiled loops
over flat arrays, for :mod:`..libm` and the ``lgamma`` kernel: on the calling thread, as PyTorch's scalar samplers run (waking a
thread team costs more than these calls for all but very large arrays).

Numba lowers ``math.log`` and its kin to calls of the C library's functions, which are PyTorch's
scalar samplers' (NumPy's own vectorized versions round a few inputs the other way on AVX-512).
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["c_cos", "c_erf", "c_exp", "c_lgamma", "c_log", "c_log1p", "c_sin", "c_tan"]


@njit(nogil=True, cache=True)
def c_log(x, out):
    """``out[i] = log(x[i])``."""
    for i in range(x.size):
        out[i] = math.log(x[i])


@njit(nogil=True, cache=True)
def c_log1p(x, out):
    """``out[i] = log1p(x[i])``."""
    for i in range(x.size):
        out[i] = math.log1p(x[i])


@njit(nogil=True, cache=True)
def c_exp(x, out):
    """``out[i] = exp(x[i])``."""
    for i in range(x.size):
        out[i] = math.exp(x[i])


@njit(nogil=True, cache=True)
def c_sin(x, out):
    """``out[i] = sin(x[i])``."""
    for i in range(x.size):
        out[i] = math.sin(x[i])


@njit(nogil=True, cache=True)
def c_cos(x, out):
    """``out[i] = cos(x[i])``."""
    for i in range(x.size):
        out[i] = math.cos(x[i])


@njit(nogil=True, cache=True)
def c_tan(x, out):
    """``out[i] = tan(x[i])``."""
    for i in range(x.size):
        out[i] = math.tan(x[i])


@njit(nogil=True, cache=True)
def c_erf(x, out):
    """``out[i] = erf(x[i])``."""
    for i in range(x.size):
        out[i] = math.erf(x[i])


@njit(nogil=True, cache=True)
def c_lgamma(x, out):
    """``out[i] = lgamma(x[i])``."""
    for i in range(x.size):
        out[i] = math.lgamma(x[i])
