"""bfloat16 loops on the bits (see :mod:`.runtime`): the cast from float32, ReLU and its gradient.

NumPy's bfloat16 (ml_dtypes) runs each element through a Python-free but scalar conversion to
float32 and back; these loops work on the 16-bit patterns (``uint16``/``int16`` views of the
arrays) directly, over flat C-contiguous arrays:

- the cast rounds a float32 to the nearest bfloat16, ties to even (as PyTorch and ml_dtypes), and
  turns a NaN into the canonical quiet NaN of its sign (``0x7FC0``/``0xFFC0``), as ml_dtypes does,
  so that the cast gives the same bits whichever path serves (PyTorch's gives ``0xFFFF``);
- ReLU keeps ``x`` unless ``x < 0`` (NaN and ``-0.`` pass, as in ``clamp_min(x, 0)``), its
  gradient is 0 where the output is ``<= 0`` and the incoming gradient elsewhere.

A bfloat16 pattern ``b`` (as ``int16``) is negative and ordered (neither NaN nor ``-0.``) where
``b < 0`` and ``0 < (b & 0x7FFF) <= 0x7F80`` (``0x7F80`` is infinity; above it, NaN).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["bfloat16_from_float32", "bfloat16_relu", "bfloat16_relu_backward"]

_INFINITY = 0x7F80


@njit(parallel=True, nogil=True, cache=True)
def bfloat16_from_float32(bits, out):
    """``out[i]``: the bfloat16 pattern of the float32 pattern ``bits[i]`` (``uint32`` in, ``uint16`` out)."""
    for i in prange(bits.size):
        u = np.int64(bits[i])
        if (u & 0x7FFFFFFF) > 0x7F800000:  # NaN: the quiet NaN of its sign
            out[i] = np.uint16(((u >> 16) & 0x8000) | 0x7FC0)
        else:  # round to nearest, ties to even: add half an ulp less one, plus the kept lowest bit
            out[i] = np.uint16((u + 0x7FFF + ((u >> 16) & 1)) >> 16)


@njit(parallel=True, nogil=True, cache=True)
def bfloat16_relu(bits, out):
    """``out[i] = 0 if x[i] < 0 else x[i]`` on ``int16`` patterns."""
    for i in prange(bits.size):
        b = bits[i]
        magnitude = np.int64(b) & 0x7FFF
        out[i] = 0 if b < 0 and 0 < magnitude <= _INFINITY else b


@njit(parallel=True, nogil=True, cache=True)
def bfloat16_relu_backward(grad, y, out):
    """``out[i] = 0 if y[i] <= 0 else grad[i]`` on ``int16`` patterns (``y`` the ReLU's output)."""
    for i in prange(grad.size):
        b = y[i]
        magnitude = np.int64(b) & 0x7FFF
        out[i] = 0 if magnitude == 0 or (b < 0 and magnitude <= _INFINITY) else grad[i]
