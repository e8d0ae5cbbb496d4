"""NumPy overrides of the normalization kernels: fewer passes and one allocation each way.

The portable kernels allocate a temporary per arithmetic step (centered, its square, the
product, the normalised output; grad * xhat and three more in backward). Here the
statistics' sums of products come from ``np.einsum`` (no squared or product temporary),
and the output is built in place in one buffer: forward ``x - mean`` then ``*= invstd``;
backward ``(grad - mean(grad) - xhat * mean(grad * xhat)) * invstd`` as ``xhat * c``,
``+= grad``, ``-= mean(grad)``, ``*= invstd``. The means themselves stay NumPy's pairwise
sums (``einsum`` accumulates naively, which is fine for the centered squares and the
gradient products but not for the mean of a large offset).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NumpyNormalizationKernels"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _dot_over(a, b, axes):
    """``sum(a * b)`` over ``axes`` (keeping them, size 1) without the product temporary."""
    if a.ndim > len(_LETTERS) or a.dtype.kind != "f":  # einsum has no bfloat16 (an ml_dtypes extension type)
        return np.sum(a * b, axis=axes, keepdims=True)
    axes = {ax % a.ndim for ax in axes}
    full = _LETTERS[: a.ndim]
    kept = "".join(ch for i, ch in enumerate(full) if i not in axes)
    out = np.einsum(f"{full},{full}->{kept}", a, b)
    return out.reshape(tuple(1 if i in axes else s for i, s in enumerate(a.shape)))


class NumpyNormalizationKernels:
    """Faster NumPy versions of portable normalization kernels."""

    def normalize_forward(self, x, axes, eps):
        count = math.prod(x.shape[a] for a in axes)
        mean = np.mean(x, axis=axes, keepdims=True)
        out = np.subtract(x, mean)
        var = _dot_over(out, out, axes) / count
        invstd = 1.0 / np.sqrt(var + eps)
        np.multiply(out, invstd, out=out)
        return out, mean, var, invstd

    def normalize_backward(self, grad, xhat, invstd, axes):
        count = math.prod(grad.shape[a] for a in axes)
        mean_grad = np.mean(grad, axis=axes, keepdims=True)
        mean_grad_xhat = _dot_over(grad, xhat, axes) / count
        out = np.multiply(xhat, -mean_grad_xhat)
        np.add(out, grad, out=out)
        np.subtract(out, mean_grad, out=out)
        np.multiply(out, invstd, out=out)
        return out
