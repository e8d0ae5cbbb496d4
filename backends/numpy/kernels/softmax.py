"""NumPy overrides of the softmax kernels: the same formulas with one output buffer.

The portable kernels allocate a temporary per step (shifted, exp, the normalised result;
in backward exp(y) and the product); here each result is built in place in one array
that ``out=`` arguments reuse, which matters for the vocabulary-wide rows of a language
model's loss.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NumpySoftmaxKernels"]


class NumpySoftmaxKernels:
    """Faster NumPy versions of portable softmax kernels."""

    def softmax(self, x, axis):
        out = np.subtract(x, np.max(x, axis=axis, keepdims=True))
        np.exp(out, out=out)
        np.divide(out, np.sum(out, axis=axis, keepdims=True), out=out)
        return out

    def log_softmax(self, x, axis):
        out = np.subtract(x, np.max(x, axis=axis, keepdims=True))
        e = np.exp(out)
        np.subtract(out, np.log(np.sum(e, axis=axis, keepdims=True)), out=out)
        return out

    def softmax_backward(self, grad, y, axis):
        out = np.multiply(grad, y)
        total = np.sum(out, axis=axis, keepdims=True)
        np.subtract(grad, total, out=out)
        np.multiply(out, y, out=out)
        return out

    def log_softmax_backward(self, grad, y, axis):
        out = np.exp(y)
        np.multiply(out, np.sum(grad, axis=axis, keepdims=True), out=out)
        np.subtract(grad, out, out=out)
        return out
