"""NumPy's own ``fmod``, ``remainder`` and ``floor_divide`` are exact (computed from C's ``fmod``, with
PyTorch's rounding), so the NumPy backend uses them directly; its fused multiply-adds are compiled loops
(:mod:`..loops.fused`) where Numba is installed."""

from __future__ import annotations

import numpy as np

from .. import loops

__all__ = ["NumpyArithmeticKernels"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


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

    def fused_multiply_add(self, x, scale, y):
        array_scale = hasattr(scale, "shape")
        kind = x.dtype
        compiled = (
            loops.get() if kind in _FLOATS and y.dtype == kind and (not array_scale or scale.dtype == kind) else None
        )
        if compiled is None:
            return super().fused_multiply_add(x, scale, y)
        operands = np.broadcast_arrays(x, scale, y) if array_scale else np.broadcast_arrays(x, y)
        out = np.empty(operands[0].shape, dtype=kind)
        flat = [np.ascontiguousarray(a).reshape(-1) for a in operands]
        if array_scale:
            loops.launch(compiled.multiply_add_arrays, *flat, out.reshape(-1))
        else:
            loops.launch(compiled.multiply_add_scalar, flat[0], kind.type(scale), flat[1], out.reshape(-1))
        return out
