"""Portable activation kernels: forward and backward of threshold, GELU, the backward of ReLU, tanh
and sigmoid from their outputs, and dropout. A backend overrides them with one fused kernel each."""

from __future__ import annotations

import math

from ..dtypes import float16, float32, float64
from .unsignalling import unsignalling

__all__ = ["ActivationKernels"]

_SQRT_HALF = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_SCALE = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715


class ActivationKernels:
    def threshold(self, x, threshold, value):
        """``(y, keep)``: ``y = value`` where ``x <= threshold``, else ``x`` (NaN passes, as in PyTorch);
        ``keep`` the boolean mask of the passing elements."""
        xp = self.xp
        keep = xp.logical_not(x <= threshold)
        same = value == threshold and math.copysign(1.0, value) == math.copysign(1.0, threshold)
        if same and self.backend.ember_dtype(x.dtype).is_floating_point:
            # max(x, t) is branch-free (a select on a random mask is 20-50x slower in NumPy) and
            # keeps NaN; it equals the select everywhere when value == threshold
            return xp.maximum(x, xp.asarray(threshold, dtype=x.dtype)), keep
        return xp.where(keep, x, xp.asarray(value, dtype=x.dtype)), keep

    @unsignalling
    def threshold_backward(self, grad, keep):
        """``grad`` where ``keep``, else 0 (selected, so a non-finite ``grad`` elsewhere gives 0, as in PyTorch)."""
        xp = self.xp
        return xp.where(keep, grad, xp.zeros((), dtype=grad.dtype))

    @unsignalling
    def relu(self, x):
        """``max(0, x)`` keeping ``-0.`` and NaN, as PyTorch's ``clamp_min(x, 0)`` (the second operand of
        ``maximum`` is taken where the two are equal; float16, whose ``maximum`` may take either of two equal
        operands (NumPy's takes the first), selects instead)."""
        xp = self.xp
        zero = xp.asarray(0, dtype=x.dtype)
        if self.backend.ember_dtype(x.dtype) is float16:
            return xp.where(x < zero, zero, x)
        return xp.maximum(zero, x)

    @unsignalling
    def relu_backward(self, grad, y):
        """Gradient of ReLU from its output ``y``: ``grad`` where ``y <= 0`` fails (so NaN passes), else 0."""
        return self.threshold_backward(grad, self.xp.logical_not(y <= 0))

    def tanh_backward(self, grad, y):
        """Gradient of tanh from its output: ``grad * (1 - y²)``."""
        return grad * (1 - y * y)

    def sigmoid_backward(self, grad, y):
        """Gradient of the logistic sigmoid from its output: ``grad * (1 - y) * y``, in PyTorch's order."""
        return grad * (1 - y) * y

    def gelu(self, x, approximate):
        """GELU: ``x Φ(x)`` (``approximate='none'``) or ``x (1 + tanh(√(2/π)(x + 0.044715 x³))) / 2``."""
        if approximate == "tanh":
            inner = (x + x * x * x * _TANH_CUBIC) * _TANH_SCALE
            return x * 0.5 * (1 + self.xp.tanh(inner))
        return x * 0.5 * (1 + self.backend.erf(x * _SQRT_HALF))

    def gelu_backward(self, grad, x, approximate):
        """Gradient of :meth:`gelu` with respect to ``x``."""
        xp = self.xp
        if approximate == "tanh":
            t = xp.tanh((x + x * x * x * _TANH_CUBIC) * _TANH_SCALE)
            slope = (1 + x * x * (3 * _TANH_CUBIC)) * _TANH_SCALE
            return grad * (0.5 * (1 + t) + x * 0.5 * (1 - t * t) * slope)
        cdf = 0.5 * (1 + self.backend.erf(x * _SQRT_HALF))
        return grad * (cdf + x * xp.exp(x * x * -0.5) * _INV_SQRT_2PI)

    def dropout(self, x, p, generator):
        """``(y, mask)``: ``mask`` is ``1 / (1 - p)`` with probability ``1 - p``, else 0 (``generator``
        draws); ``y = x * mask``. ``0 < p < 1``."""
        xp = self.xp
        backend = self.backend
        u = generator.uniform(tuple(x.shape), backend.native_dtype(float64 if backend.supports_float64 else float32))
        # as PyTorch: the keep mask divided in x's dtype, a 16-bit one's in float32 and rounded to it
        keep = u < 1 - p
        if x.dtype.itemsize < 4:
            mask = xp.astype(xp.astype(keep, backend.native_dtype(float32)) / (1 - p), x.dtype)
        else:
            mask = xp.astype(keep, x.dtype) / (1 - p)
        return x * mask, mask
