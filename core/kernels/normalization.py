"""Portable normalization kernels: statistics, normalization and its backward in one pass each.

Batch, instance, layer and group normalization all standardise ``x`` over some axes
(``xhat = (x - mean) / sqrt(var + eps)``, biased variance) and differ only in which axes
and in the affine transform applied afterwards, so they share these two kernels.
"""

from __future__ import annotations

__all__ = ["NormalizationKernels"]


class NormalizationKernels:
    """Portable default normalization kernels, written against ``self.xp`` only."""

    def normalize_forward(self, x, axes, eps):
        """Standardise ``x`` over ``axes``.

        Returns ``(xhat, mean, var, invstd)``; the statistics keep the reduced axes (size 1)
        and ``var`` is the biased variance.
        """
        xp = self.xp
        mean = xp.mean(x, axis=axes, keepdims=True)
        centered = x - mean
        var = xp.mean(centered * centered, axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + eps)
        return centered * invstd, mean, var, invstd

    def normalize_backward(self, grad, xhat, invstd, axes):
        """Gradient of :meth:`normalize_forward`'s ``xhat`` with respect to ``x``.

        ``invstd * (grad - mean(grad) - xhat * mean(grad * xhat))``, means over ``axes``.
        """
        xp = self.xp
        mean_grad = xp.mean(grad, axis=axes, keepdims=True)
        mean_grad_xhat = xp.mean(grad * xhat, axis=axes, keepdims=True)
        return (grad - mean_grad - xhat * mean_grad_xhat) * invstd
