"""Fused multiply-adds (``x * scale + y`` rounded once) as compiled loops over flat C-contiguous float32 or
float64 arrays (see :mod:`.runtime`), through LLVM's ``fma`` intrinsic: PyTorch's CPU kernels of ``add``
with ``alpha``, ``addcmul`` and ``lerp`` compute with the processor's fused multiply-add, which NumPy has
no function for. Each loop has a serial twin, for arrays too small to pay for waking the threads
(a launch costs about 5 us, the serial call under 1 us); Numba caches a function compiled one way
only, hence the two definitions."""

from __future__ import annotations

from numba import njit, prange, types
from numba.extending import intrinsic

__all__ = ["multiply_add_arrays", "multiply_add_arrays_serial", "multiply_add_scalar", "multiply_add_scalar_serial"]


@intrinsic
def _fma(typingctx, x, scale, y):
    """``x * scale + y`` rounded once (three floating operands of one type)."""
    if not (isinstance(x, types.Float) and x == scale == y):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return x(x, scale, y), codegen


@njit(parallel=True, nogil=True, cache=True)
def multiply_add_scalar(x, scale, y, out):
    """``out[i] = fma(x[i], scale, y[i])`` (``scale`` a number of the arrays' type)."""
    for i in prange(x.size):
        out[i] = _fma(x[i], scale, y[i])


@njit(parallel=True, nogil=True, cache=True)
def multiply_add_arrays(x, scale, y, out):
    """``out[i] = fma(x[i], scale[i], y[i])``."""
    for i in prange(x.size):
        out[i] = _fma(x[i], scale[i], y[i])


@njit(nogil=True, cache=True)
def multiply_add_scalar_serial(x, scale, y, out):
    """:func:`multiply_add_scalar` on the calling thread."""
    for i in range(x.size):
        out[i] = _fma(x[i], scale, y[i])


@njit(nogil=True, cache=True)
def multiply_add_arrays_serial(x, scale, y, out):
    """:func:`multiply_add_arrays` on the calling thread."""
    for i in range(x.size):
        out[i] = _fma(x[i], scale[i], y[i])
