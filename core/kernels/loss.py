"""Portable loss kernels: negative log-likelihood over class indices."""

from __future__ import annotations

__all__ = ["LossKernels"]


class LossKernels:
    """Portable default loss kernels, written against ``self.xp`` only."""

    def _nll_picks(self, target, weight, ignore_index, dtype):
        """Safe class indices (ignored ones set to 0) and per-sample weights (0 where ignored)."""
        xp = self.xp
        valid = target != ignore_index
        safe = target * xp.astype(valid, target.dtype)
        mask = xp.astype(valid, dtype)
        w = mask if weight is None else xp.take(weight, safe, axis=0) * mask
        return safe, w

    def nll_loss(self, x, target, weight, ignore_index):
        """``-weight[t_n] * x[n, t_n]`` for log-probabilities ``x`` (N, C) and class indices ``target`` (N,).

        Returns the per-sample losses (N,) and per-sample weights (N,); both are 0 where
        ``target == ignore_index``.
        """
        xp = self.xp
        safe, w = self._nll_picks(target, weight, ignore_index, x.dtype)
        picked = xp.take_along_axis(x, xp.expand_dims(safe, axis=1), axis=1)
        return -xp.reshape(picked, (x.shape[0],)) * w, w

    def nll_loss_backward(self, coeff, target, weight, ignore_index, num_classes):
        """The (N, C) gradient of ``sum(coeff * nll_loss(x))``: ``-coeff[n] * weight[t_n]`` at ``(n, t_n)``."""
        xp = self.xp
        safe, w = self._nll_picks(target, weight, ignore_index, coeff.dtype)
        classes = xp.arange(num_classes, dtype=safe.dtype)
        onehot = xp.astype(xp.expand_dims(safe, axis=1) == xp.expand_dims(classes, axis=0), coeff.dtype)
        return onehot * xp.expand_dims(-(coeff * w), axis=1)
