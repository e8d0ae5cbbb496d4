"""Portable scaled dot-product attention kernels: the attention math once, for every backend.

``attention_forward`` computes ``softmax(q @ k^T * scale + bias) @ v`` over the last two axes
(batch axes in front, already broadcast to one shape by the caller) and returns the
probabilities for the backward. The softmax is PyTorch's "safe" one: a row whose scores are
all ``-inf`` (every key masked) gives probabilities of zero, not NaN. A backend with a fused
attention (cuDNN's SDPA operation, a flash kernel) overrides both methods.
"""

from __future__ import annotations

__all__ = ["AttentionKernels"]


def _swap_last(xp, x):
    """``x`` with its last two axes exchanged (a view where the backend allows)."""
    order = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return xp.permute_dims(x, order)


class AttentionKernels:
    """Portable default attention kernels, written against ``self.xp`` only."""

    def attention_forward(self, q, k, v, bias, scale, keep):
        """``(out, probs)`` of scaled dot-product attention.

        Args:
            q: ``(*, L, E)`` queries; k: ``(*, S, E)`` keys; v: ``(*, S, Ev)`` values.
            bias: additive scores ``(*, L, S)`` (``-inf`` masks a pair), or None.
            scale: factor applied to ``q @ k^T``.
            keep: dropout multipliers ``(*, L, S)`` (0 or ``1 / (1 - p)``) applied to the
                probabilities before they weight ``v``, or None.
        """
        xp = self.xp
        scores = xp.matmul(q, _swap_last(xp, k)) * scale
        if bias is not None:
            scores = scores + bias
        top = xp.max(scores, axis=-1, keepdims=True)
        top = xp.where(xp.isinf(top), xp.zeros(top.shape, dtype=top.dtype), top)
        e = xp.exp(scores - top)
        total = xp.sum(e, axis=-1, keepdims=True)
        probs = e / xp.where(total == 0, xp.ones(total.shape, dtype=total.dtype), total)
        weights = probs if keep is None else probs * keep
        return xp.matmul(weights, v), probs

    def attention_backward(self, grad, grad_weights, q, k, v, probs, scale, keep):
        """``(dq, dk, dv, dscores)``: the gradients of :meth:`attention_forward`.

        ``grad`` is the gradient of ``out``; ``grad_weights`` (or None) that of the
        probabilities after dropout, when the caller returned them too. ``dscores`` is the
        gradient of the scores, which is also the gradient of an additive ``bias``.
        """
        xp = self.xp
        weights = probs if keep is None else probs * keep
        dv = xp.matmul(_swap_last(xp, weights), grad)
        dweights = xp.matmul(grad, _swap_last(xp, v))
        if grad_weights is not None:
            dweights = dweights + grad_weights
        dprobs = dweights if keep is None else dweights * keep
        dscores = self.softmax_backward(dprobs, probs, -1)
        dq = xp.matmul(dscores, k) * scale
        dk = xp.matmul(_swap_last(xp, dscores), q) * scale
        return dq, dk, dv, dscores
