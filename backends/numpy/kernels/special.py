"""The NumPy backend's ``lgamma``: the C library's, from a compiled loop (:mod:`..loops.libm`; Numba
lowers ``math.lgamma`` to a call of it), within a unit or so in the last place of PyTorch's float64
values where the portable series loses up to 1e8 units near the zeros at 1 and 2. PyTorch's own
CPU kernel (MKL's vector math) rounds about one input in three the other way. Without Numba, the
portable kernel serves (Python's :func:`math.lgamma` is CPython's own, not the C library's)."""

from __future__ import annotations

import numpy as np

from .. import loops

__all__ = ["NumpySpecialKernels"]


class NumpySpecialKernels:
    def lgamma(self, x):
        compiled = loops.serial()  # at any size: the call costs more than a thread team's start
        if compiled is None or x.dtype != np.float64:
            return super().lgamma(x)
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty_like(flat)
        compiled.c_lgamma(flat, out)
        return out.reshape(x.shape)
