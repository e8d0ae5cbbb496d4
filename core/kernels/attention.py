"""Portable scaled dot-product attention kernels: the attention math once, for every backend.

``attention_forward`` computes ``softmax(q @ k^T * scale + bias) @ v`` over the last two axes
(batch axes in front, already broadcast to one shape by the caller) and returns the
probabilities for the backward. The softmax is PyTorch's "safe" one: a row whose scores are
all ``-inf`` (every key masked) gives probabilities of zero, not NaN. These two are the
reference and the default.

A backend with a fused attention (cuDNN's SDPA operation, a flash kernel) overrides the
hook of three methods: ``fused_attention_supports`` (which cases it serves),
``fused_attention_forward`` and ``fused_attention_backward`` (saving row statistics such as
the log-sum-exp, not the probabilities). ``F.scaled_dot_product_attention`` takes it where it
says True and the attention weights are not asked for; the output's ``grad_fn`` is then
named ``FusedAttentionBackward0`` instead of ``AttentionBackward0``.
"""

from __future__ import annotations

from .unsignalling import unsignalling

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

    # -- the fused-attention hook -----------------------------------------------------------
    # ``F.scaled_dot_product_attention`` asks ``fused_attention_supports`` first and, where it
    # says True, runs the pair below instead of the two portable kernels above: the attention
    # weights are not returned (``need_weights=False``) and a double backward goes through
    # tensor ops, so a fused kernel never has to materialise or save the ``(*, L, S)``
    # probabilities. The portable table has no fused kernel: it supports nothing.

    @unsignalling
    def fused_attention_supports(self, q, k, v, mask, is_causal, scale, dropout_p):
        """Whether this backend's fused attention kernels serve the case (portable: never).

        Args:
            q, k, v: as :meth:`fused_attention_forward` takes them.
            mask: None, a bool mask (True attends) or an additive float mask in ``q``'s dtype,
                ``(*, L, S)``, possibly a broadcast view (zero strides).
            is_causal: whether key ``j`` is masked out for query ``i`` when ``j > i``
                (top-left aligned, as PyTorch's ``is_causal``); never with ``mask``.
            scale: the factor of ``q @ k^T``.
            dropout_p: the dropout probability of the attention weights; a backend that
                accepts ``dropout_p > 0`` draws the dropout mask itself.
        """
        return False

    def fused_attention_forward(self, q, k, v, mask, is_causal, scale):
        """``(out, stats)``: ``out = softmax(q @ k^T * scale + mask) @ v`` in one fused kernel.

        Called only where :meth:`fused_attention_supports` said True.

        Args:
            q: ``(*, L, E)`` queries; k: ``(*, S, E)`` keys; v: ``(*, S, Ev)`` values, the batch
                axes ``*`` the same for all (broadcast views allowed).
            mask, is_causal, scale: as :meth:`fused_attention_supports` describes them.

        Returns:
            ``out`` ``(*, L, Ev)`` (rows whose keys are all masked are zero, as PyTorch's) and
            ``stats``, whatever the backward needs besides the inputs and ``out`` -- typically
            the log-sum-exp of each row's scores ``(*, L)``, never the probabilities.
        """
        raise NotImplementedError(f"{type(self).__name__} has no fused attention kernel (fused_attention_supports)")

    def fused_attention_backward(self, grad, q, k, v, mask, is_causal, scale, out, stats, mask_grad):
        """``(dq, dk, dv, dmask)``: the gradients of :meth:`fused_attention_forward`.

        ``grad`` is the gradient of ``out`` ``(*, L, Ev)``; ``out`` and ``stats`` are what the
        forward returned. ``dmask`` is the gradient of the scores ``(*, L, S)`` (which is the
        gradient of an additive float mask) when ``mask_grad`` is True, else None.
        """
        raise NotImplementedError(f"{type(self).__name__} has no fused attention kernel (fused_attention_supports)")
