"""Portable softmax and log-softmax kernels (numerically stable, one axis)."""

from __future__ import annotations

from ..dtypes import float32, float64, narrow_float

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
        """Gradient of softmax given its output ``y``: ``y * (grad - sum(grad * y))``. Float16/bfloat16
        ``grad`` and ``y`` are read as float32 and the result rounded once, as PyTorch's CPU kernels."""
        xp = self.xp
        if self.backend.ember_dtype(grad.dtype) in narrow_float:
            return self._in_float32(self.softmax_backward, grad, y, axis)
        return y * (grad - xp.sum(grad * y, axis=axis, keepdims=True))

    def log_softmax_backward(self, grad, y, axis):
        """Gradient of log-softmax given its output ``y``: ``grad - exp(y) * sum(grad)``. Float16/bfloat16
        ``grad`` and ``y`` are read as float32 and the result rounded once, as PyTorch's CPU kernels; over
        an axis that is not the last, in the order of PyTorch's kernel for them (:meth:`_log_softmax_across`)."""
        xp = self.xp
        if self.backend.ember_dtype(grad.dtype) in narrow_float:
            across = axis % grad.ndim < grad.ndim - 1
            return self._in_float32(self._log_softmax_across if across else self.log_softmax_backward, grad, y, axis)
        return grad - xp.exp(y) * xp.sum(grad, axis=axis, keepdims=True)

    def _in_float32(self, kernel, grad, y, axis):
        """``kernel(grad, y, axis)`` of 16-bit ``grad`` and ``y`` read as float32, rounded back once."""
        xp = self.xp
        wide = self.backend.native_dtype(float32)
        return xp.astype(kernel(xp.astype(grad, wide), xp.astype(y, wide), axis), grad.dtype)

    def _log_softmax_across(self, grad, y, axis):
        """Log-softmax's backward ``grad - exp(y) * sum(grad)`` over an axis that is not the last, of float32
        ``grad`` and ``y`` (a 16-bit gradient's and output's values), as PyTorch's CPU kernel for 16-bit
        inputs (``_vec_log_softmax_backward``) computes it: the sum along ``axis`` in float32, the exponential
        correctly rounded (Sleef's vectorized one and the C library's nearly always are) and its product
        with the sum subtracted from ``grad`` in one fused multiply-add (the compiler contracts it)."""
        xp = self.xp
        total = xp.sum(grad, axis=axis, keepdims=True)
        wide = self.backend.native_dtype(float64) if self.backend.supports_float64 else y.dtype
        exp = xp.astype(xp.exp(xp.astype(y, wide)), y.dtype)
        return self.contracted_multiply_add(-exp, total, grad)
