"""Portable loss kernels: negative log-likelihood and cross entropy over class indices.

Cross entropy's gradient in the logits is ``coeff * (softmax * Q - q)``, with ``q`` the row's
target weights (``(1 - s) * w[t]`` at the target class plus ``s / C * w[c]`` everywhere, ``s``
the label smoothing, zero on an ignored row) and ``Q`` their sum: one kernel instead of the
NLL backward's one-hot matrix followed by the log-softmax backward.
"""

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
        # selected, not multiplied: an ignored row is 0 even where its stand-in pick x[n, 0] is -inf
        losses = xp.where(target != ignore_index, -xp.reshape(picked, (x.shape[0],)) * w, xp.zeros((), dtype=x.dtype))
        return losses, w

    def nll_loss_backward(self, coeff, target, weight, ignore_index, num_classes):
        """The (N, C) gradient of ``sum(coeff * nll_loss(x))``: ``-coeff[n] * weight[t_n]`` at ``(n, t_n)``,
        zero elsewhere and in the ignored rows (selected, as PyTorch's kernel skips them: a non-finite
        ``coeff`` there gives 0)."""
        xp = self.xp
        safe, w = self._nll_picks(target, weight, ignore_index, coeff.dtype)
        zero = xp.zeros((), dtype=coeff.dtype)
        picked = xp.where(target != ignore_index, -(coeff * w), zero)
        classes = xp.arange(num_classes, dtype=safe.dtype)
        onehot = xp.expand_dims(safe, axis=1) == xp.expand_dims(classes, axis=0)
        return xp.where(onehot, xp.expand_dims(picked, axis=1), zero)

    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        """Log-softmax of the logits ``x`` (N, C) over the classes, then the NLL of ``target`` (N,)
        mixed with the uniform target by ``label_smoothing``.

        Returns ``(saved, losses, w)``: what :meth:`cross_entropy_backward` takes (here the
        log-probabilities (N, C); a backend's override may keep something else and read it in its
        own backward), the per-sample losses (N,) and the per-sample weights (N,) (as
        :meth:`nll_loss`; 0 where ignored).
        """
        xp = self.xp
        logp = self.log_softmax(x, 1)
        losses, w = self.nll_loss(logp, target, weight, ignore_index)
        if label_smoothing > 0:
            terms = logp if weight is None else logp * xp.reshape(weight, (1, -1))
            smooth = xp.where(target != ignore_index, -xp.sum(terms, axis=1), xp.zeros((), dtype=x.dtype))
            losses = losses * (1 - label_smoothing) + smooth * (label_smoothing / x.shape[1])
        return logp, losses, w

    def cross_entropy_backward(self, coeff, saved, target, weight, ignore_index, label_smoothing):
        """The (N, C) gradient of ``sum(coeff * losses)`` (:meth:`cross_entropy`) in the logits;
        ``saved`` is what :meth:`cross_entropy` returned first (here the log-probabilities)."""
        xp = self.xp
        logp = saved
        num_classes = logp.shape[1]
        onehot = self.nll_loss_backward(-(1 - label_smoothing) * coeff, target, weight, ignore_index, num_classes)
        if label_smoothing > 0:  # selected, not multiplied: an ignored row stays 0 for a non-finite coeff
            zero = xp.zeros((), dtype=logp.dtype)
            row = xp.reshape(xp.where(target != ignore_index, coeff * (label_smoothing / num_classes), zero), (-1, 1))
            onehot = onehot + (row if weight is None else row * xp.reshape(weight, (1, -1)))
        return xp.exp(logp) * xp.sum(onehot, axis=1, keepdims=True) - onehot
