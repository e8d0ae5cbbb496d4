"""Fused multiply-adds (``x * scale + y`` rounded once) as compiled loops over flat C-contiguous float32 or
float64 arrays (see :mod:`.runtime`), through LLVM's ``fma`` intrinsic: PyTorch's CPU kernels of ``add``
with ``alpha``, ``addcmul`` and ``lerp`` compute with the processor's fused multiply-add, which NumPy has
no function for."""

from __future__ import annotations

from numba import njit, prange, types
from numba.extending import intrinsic

__all__ = ["multiply_add_arrays", "multiply_add_scalar"]


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
