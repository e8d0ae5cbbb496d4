"""Portable kernels of floating-point division with rounding: ``fmod``, ``remainder`` and floor
division, computed as PyTorch computes them, from an exact ``fmod``.

``remainder`` and ``floor_divide`` of the array API are often computed as ``a - b * floor(a / b)``
and ``floor(a / b)`` (CuPy, OpenCL), which round ``a / b`` first: ``1 // 0.1`` gives 10 and
``1 % 0.1`` gives -5.6e-17 where PyTorch gives 9 and 0.1. Here both derive from ``fmod``, which is
exact, with PyTorch's corrections; a backend whose library has an exact ``fmod`` overrides
:meth:`fmod` (and may override all three with its own exact functions).
"""

from __future__ import annotations

import math

from ..dtypes import float64

__all__ = ["ArithmeticKernels"]


class ArithmeticKernels:
    def _integral(self, a):
        return not self.backend.ember_dtype(a.dtype).is_floating_point

    def fmod(self, a, b):
        """C's ``fmod``: ``a - b * trunc(a / b)``, with the sign of ``a``."""
        xp = self.xp
        rem = xp.remainder(a, b)  # the sign of b; differs from fmod by b where the signs differ
        mod = xp.where((rem != 0) & ((a < 0) != (b < 0)), rem - b, rem)
        if self._integral(a):
            return mod
        mod = xp.where(mod == 0, a * 0, mod)  # a zero has the sign of a (remainder gave it b's)
        # an infinite divisor leaves a finite dividend as it is (remainder(-1, inf) is inf)
        if not hasattr(b, "shape"):  # a Python scalar
            return xp.where(xp.isfinite(a), a, mod) if math.isinf(b) else mod
        return xp.where(xp.isinf(b) & xp.isfinite(a), a, mod)

    def remainder(self, a, b):
        """Python's ``%``: the result has the sign of ``b``."""
        xp = self.xp
        if self._integral(a):  # exact in integer arithmetic
            return xp.remainder(a, b)
        mod = self.fmod(a, b)
        return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    def floor_divide(self, a, b):
        """``floor(a / b)``, for floating operands rounded as PyTorch rounds it."""
        xp = self.xp
        if self._integral(a):  # exact in integer arithmetic
            return xp.floor_divide(a, b)
        mod = self.fmod(a, b)
        div = (a - mod) / b
        div = xp.where((mod != 0) & ((b < 0) != (mod < 0)), div - 1, div)
        floor = xp.floor(div)
        floor = xp.where(div - floor > 0.5, floor + 1, floor)
        quotient = a / b  # where b == 0 the result; where div == 0, zero times it is zero with its sign
        result = xp.where(div == 0, quotient * 0, floor)
        if not hasattr(b, "shape"):  # a Python scalar divisor
            return quotient if b == 0 else result
        return xp.where(b == 0, quotient, result)

    def contracted_multiply_add(self, a, b, c):
        """``a * b + c`` of float32 arrays (broadcast together) as PyTorch's vectorized CPU kernels compute
        it in their float32 arithmetic on 16-bit values: its x86 builds let the compiler contract a product
        added to a sum into one fused multiply-add, rounded once (:meth:`fused_multiply_add`). Where the
        table sees no vector lanes (:attr:`VECTOR_LANES` 0: PyTorch's portable build, which does not
        contract), a product and a sum, each rounded."""
        if not self.VECTOR_LANES:
            return a * b + c
        return self.fused_multiply_add(a, b, c)

    def fused_multiply_add(self, x, scale, y):
        """``x * scale + y`` rounded once, as a fused multiply-add (PyTorch's CPU kernels of ``add`` and
        ``sub`` with ``alpha``, ``addcmul`` and ``lerp`` compute so): ``x`` and ``y`` arrays of one
        floating dtype, ``scale`` an array of it or a Python number (first rounded to that dtype, as
        PyTorch casts a scalar to the op's type), broadcast together.

        Portably, float32 operands are multiplied and added in float64, where their product is exact,
        and the sum rounded back: PyTorch's result but for a double rounding about once in 2**29
        elements. Other operands (float64, float32 on a backend without float64, and 16-bit ones, which
        PyTorch's scalar loop multiplies and adds in their own type) are multiplied and added with two
        roundings; a backend with a fused operation overrides this."""
        xp = self.xp
        dtype = x.dtype
        if not hasattr(scale, "shape"):
            scale = xp.asarray(scale, dtype=dtype)
        if dtype.itemsize == 4 and self.backend.supports_float64:
            wide = self.backend.native_dtype(float64)
            product = xp.multiply(xp.astype(x, wide), xp.astype(scale, wide))
            return xp.astype(xp.add(product, xp.astype(y, wide)), dtype)
        return xp.add(xp.multiply(x, scale), y)
