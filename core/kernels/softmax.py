"""Portable softmax and log-softmax kernels (numerically stable, one axis)."""

from __future__ import annotations

__all__ = ["SoftmaxKernels"]


class SoftmaxKernels:
    def softmax(self, x, axis):
        """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
        xp = self.xp
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        e = xp.exp(shifted)
        return e / xp.sum(e, axis=axis, keepdims=True)

    def log_softmax(self, x, axis):
        """``x - max - log(sum(exp(x - max)))`` along ``axis``."""
        xp = self.xp
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def softmax_backward(self, grad, y, axis):
        """Gradient of softmax given its output ``y``: ``y * (grad - sum(grad * y))``."""
        xp = self.xp
        return y * (grad - xp.sum(grad * y, axis=axis, keepdims=True))

    def log_softmax_backward(self, grad, y, axis):
        """Gradient of log-softmax given its output ``y``: ``grad - exp(y) * sum(grad)``."""
        xp = self.xp
        return grad - xp.exp(y) * xp.sum(grad, axis=axis, keepdims=True)
