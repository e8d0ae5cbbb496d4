"""Portable normalization kernels: statistics, normalization and its backward in one pass each.

Batch, instance, layer and group normalization all standardise ``x`` over some axes
(``xhat = (x - mean) / sqrt(var + eps)``, biased variance) and differ only in which axes
and in the affine transform applied afterwards, so they share these two kernels. Batch
norm's per-channel affine transform is folded into its own pair (:meth:`batch_norm_forward`,
:meth:`batch_norm_backward`): one output buffer forward, and the parameters' gradients from
the sums the normalize backward computes anyway.
"""

from __future__ import annotations

import math

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

    def batch_norm_forward(self, x, axes, eps, weight, bias):
        """:meth:`normalize_forward`, then ``y = xhat * weight + bias`` in one fresh buffer.

        ``weight`` and ``bias`` are per-channel ``(C,)`` arrays or None. Returns
        ``(y, xhat, mean, var, invstd)`` (``y`` is ``xhat`` itself when both are None).
        """
        xhat, mean, var, invstd = self.normalize_forward(x, axes, eps)
        xp = self.xp
        y = xhat
        if weight is not None:
            y = y * xp.reshape(weight, invstd.shape)
        if bias is not None:
            y = y + xp.reshape(bias, invstd.shape)
        return y, xhat, mean, var, invstd

    def batch_norm_backward(self, grad, xhat, invstd, axes, weight):
        """Gradients of :meth:`batch_norm_forward`'s ``y``: ``(grad_x, grad_weight, grad_bias)``.

        ``grad_x`` is :meth:`normalize_backward` scaled by ``weight`` (None: 1);
        ``grad_weight = sum(grad * xhat)`` and ``grad_bias = sum(grad)`` over ``axes``, flat ``(C,)``.
        """
        xp = self.xp
        count = math.prod(grad.shape[a] for a in axes)
        sum_grad = xp.sum(grad, axis=axes, keepdims=True)
        sum_grad_xhat = xp.sum(grad * xhat, axis=axes, keepdims=True)
        scale = invstd if weight is None else invstd * xp.reshape(weight, invstd.shape)
        grad_x = (grad - sum_grad / count - xhat * (sum_grad_xhat / count)) * scale
        return grad_x, xp.reshape(sum_grad_xhat, (-1,)), xp.reshape(sum_grad, (-1,))
