"""NumPy's own ``fmod``, ``remainder`` and ``floor_divide`` are exact (computed from C's ``fmod``, with
PyTorch's rounding), so the NumPy backend uses them directly; its fused multiply-adds are compiled loops
(:mod:`..loops.fused`) where Numba is installed."""

from __future__ import annotations

import numpy as np

from .. import loops

__all__ = ["NumpyArithmeticKernels", "fused_multiply_add"]

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
        out = fused_multiply_add(x, scale, y)
        return super().fused_multiply_add(x, scale, y) if out is None else out


def fused_multiply_add(x, scale, y, out=None, serial=False):
    """``x * scale + y`` rounded once by the compiled loops (:mod:`..loops.fused`), written into ``out``
    (a C-contiguous array of the result's shape, or None: a new one) and returned; None where they do
    not serve (no Numba, other dtypes). ``serial``: on the calling thread whatever the size (a caller
    already running on the pool's threads)."""
    array_scale = hasattr(scale, "shape")
    kind = x.dtype
    if kind not in _FLOATS or y.dtype != kind or (array_scale and scale.dtype != kind):
        return None
    if array_scale and not scale.shape:  # a NumPy scalar or 0-d array of the arrays' type: a number
        array_scale = False
    shape = x.shape
    if array_scale:
        operands = (x, scale, y)
        if not all(a.shape == shape and a.flags.c_contiguous for a in operands):
            if not (scale.shape == shape and y.shape == shape):  # (one shape: no broadcast to work out)
                operands = np.broadcast_arrays(*operands)
            operands = tuple(np.ascontiguousarray(a) for a in operands)
            shape = operands[0].shape
        flat = [a.reshape(-1) for a in operands]
    else:  # (the common case, spelled out: no generator, no list insert)
        if not (y.shape == shape and x.flags.c_contiguous and y.flags.c_contiguous):
            x, y = (np.ascontiguousarray(a) for a in (np.broadcast_arrays(x, y) if y.shape != shape else (x, y)))
            shape = x.shape
        flat = [x.reshape(-1), kind.type(scale), y.reshape(-1)]
    serial = serial or flat[0].size < loops.runtime.MIN_ELEMENTWISE
    compiled = loops.serial() if serial else loops.get()
    if compiled is None:
        return None
    direct = out is not None and out.shape == shape and out.flags.c_contiguous
    target = out if direct else np.empty(shape, dtype=kind)
    if serial:
        loop = compiled.multiply_add_arrays_serial if array_scale else compiled.multiply_add_scalar_serial
        loop(*flat, target.reshape(-1))
    else:
        loop = compiled.multiply_add_arrays if array_scale else compiled.multiply_add_scalar
        loops.launch(loop, *flat, target.reshape(-1))
    if out is None or direct:
        return target
    np.copyto(out, target)  # a strided ``out``: its own layout
    return out
