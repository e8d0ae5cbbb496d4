"""NumPy overrides of the loss kernels.

``nll_loss_backward`` writes the one nonzero per row into a zeroed ``(N, C)`` array
instead of building the one-hot matrix by a broadcast comparison, a cast and a product
(three passes over ``N * C`` for a language model's vocabulary-wide rows).
``cross_entropy_backward`` writes ``coeff * (softmax * Q - q)`` into one buffer by blocks
of rows (``exp`` and the scaling meet in the cache), then subtracts the one nonzero of the
target's one-hot part per row in place.
"""

from __future__ import annotations

import numpy as np

from .softmax import _by_row_blocks

__all__ = ["NumpyLossKernels"]


class NumpyLossKernels:
    """Faster NumPy versions of portable loss kernels."""

    def _nll_picks(self, target, weight, ignore_index, dtype):
        valid = target != ignore_index
        safe = target * valid  # int64 times bool: the ignored indices become 0
        return safe, valid.astype(dtype) if weight is None else weight[safe] * valid

    def nll_loss(self, x, target, weight, ignore_index):
        safe, w = self._nll_picks(target, weight, ignore_index, x.dtype)
        picked = x[np.arange(x.shape[0]), safe]  # a fresh array: negated and weighted in place
        np.negative(picked, out=picked)
        np.multiply(picked, w, out=picked)
        return picked, w

    def nll_loss_backward(self, coeff, target, weight, ignore_index, num_classes):
        safe, w = self._nll_picks(target, weight, ignore_index, coeff.dtype)
        out = np.zeros((target.shape[0], num_classes), dtype=coeff.dtype)
        out[np.arange(target.shape[0]), safe] = -(coeff * w)
        return out

    def cross_entropy_backward(self, coeff, logp, target, weight, ignore_index, label_smoothing):
        if logp.size == 0:
            return super().cross_entropy_backward(coeff, logp, target, weight, ignore_index, label_smoothing)
        n, num_classes = logp.shape
        safe, w = self._nll_picks(target, weight, ignore_index, logp.dtype)
        picked = coeff * w * (1 - label_smoothing)  # the target class's share of each row's weights
        total = picked
        if label_smoothing > 0:
            smooth = coeff * (target != ignore_index) * (label_smoothing / num_classes)
            total = picked + smooth * (num_classes if weight is None else np.sum(weight))
            spread = smooth[:, None] if weight is None else np.multiply.outer(smooth, weight)
        out = np.empty(logp.shape, dtype=logp.dtype)

        def block(lo, hi):
            part = out[lo:hi]
            np.exp(logp[lo:hi], out=part)
            np.multiply(part, total[lo:hi, None], out=part)
            if label_smoothing > 0:
                np.subtract(part, spread[lo:hi], out=part)

        _by_row_blocks(out, block)
        out[np.arange(n), safe] -= picked
        return out
