"""NumPy's own ``fmod``, ``remainder`` and ``floor_divide`` are exact (computed from C's ``fmod``, with
PyTorch's rounding), so the NumPy backend uses them directly."""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyArithmeticKernels"]


class NumpyArithmeticKernels:
    def fmod(self, a, b):
        return np.fmod(a, b)

    def remainder(self, a, b):
        mod = np.remainder(a, b)
        if mod.dtype.kind != "f":
            return mod
        # NumPy gives a zero the sign of b; PyTorch (from C's fmod) the sign of a
        return np.where(mod == 0, np.copysign(mod, a), mod)

    def floor_divide(self, a, b):
        return np.floor_divide(a, b)
