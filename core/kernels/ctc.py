"""Portable CTC loss kernels: the forward (alpha) and backward (beta) recursions in log space.

All samples of the batch advance together, one time step per iteration, over the extended
label sequences ``l'`` (a blank before, between and after the target labels, length
``2 S + 1``). Shapes: ``log_probs`` ``(T, N, C)``; ``labels`` ``(N, 2 S + 1)`` the extended
labels (int64); ``input_lengths``/``target_lengths`` Python lists.
"""

from __future__ import annotations

__all__ = ["CtcKernels"]


class CtcKernels:
    """Portable default CTC kernels, written against ``self.xp`` only."""

    def _lse(self, *terms):
        """``log(sum(exp(terms)))`` element-wise, ``-inf`` where every term is ``-inf``."""
        return self._lse_rows(self.xp.stack(terms, axis=-1))

    def _shift(self, a, by):
        """``a`` moved ``by`` places along its last axis, ``-inf`` filling (right for ``by > 0``)."""
        xp = self.xp
        fill = xp.full(tuple(a.shape[:-1]) + (abs(by),), float("-inf"), dtype=a.dtype)
        if by > 0:
            return xp.concat([fill, a[..., :-by]], axis=-1)
        return xp.concat([a[..., -by:], fill], axis=-1)

    def _ctc_setup(self, log_probs, labels, input_lengths, target_lengths):
        xp = self.xp
        T = log_probs.shape[0]
        n, width = labels.shape
        index = xp.broadcast_to(xp.reshape(labels, (1, n, width)), (T, n, width))
        lp_ext = xp.take_along_axis(log_probs, index, axis=2)
        # the skip from s - 2 is allowed where l'[s] is a label different from l'[s - 2]
        skip = xp.concat([xp.zeros((n, 2), dtype=labels.dtype) == 1, labels[:, 2:] != labels[:, :-2]], axis=1)
        odd = xp.reshape(xp.remainder(xp.arange(width, dtype=labels.dtype), 2) == 1, (1, width))
        skip = xp.logical_and(skip, odd)
        il = xp.asarray(input_lengths, dtype=labels.dtype)
        tl = xp.asarray(target_lengths, dtype=labels.dtype)
        return T, lp_ext, skip, il, tl

    def _ends(self, labels, tl):
        """Mask ``(N, width)`` of the two final positions ``2 tl`` and ``2 tl - 1``."""
        xp = self.xp
        s = xp.reshape(xp.arange(labels.shape[1], dtype=labels.dtype), (1, -1))
        last = xp.reshape(tl * 2, (-1, 1))
        return xp.logical_or(s == last, s == last - 1)

    def ctc_loss_forward(self, log_probs, labels, input_lengths, target_lengths):
        """``(nll, log_alpha)``: the negative log-likelihood per sample ``(N,)`` and the forward
        variables ``(T, N, 2 S + 1)``."""
        xp = self.xp
        T, lp_ext, skip, il, tl = self._ctc_setup(log_probs, labels, input_lengths, target_lengths)
        neg_inf = xp.full(tuple(lp_ext.shape[1:]), float("-inf"), dtype=log_probs.dtype)
        s = xp.reshape(xp.arange(labels.shape[1], dtype=labels.dtype), (1, -1))
        alpha = xp.where(s < 2, lp_ext[0], neg_inf)
        alphas = [alpha]
        for t in range(1, T):
            alpha = self._lse(alpha, self._shift(alpha, 1), xp.where(skip, self._shift(alpha, 2), neg_inf)) + lp_ext[t]
            alphas.append(alpha)
        log_alpha = xp.stack(alphas, axis=0)
        final = xp.maximum(il - 1, xp.zeros(il.shape, dtype=il.dtype))
        last = xp.take_along_axis(
            log_alpha, xp.broadcast_to(xp.reshape(final, (1, -1, 1)), (1,) + tuple(neg_inf.shape)), axis=0
        )[0]
        ends = self._ends(labels, tl)
        # an empty input aligns with the empty target only: log-likelihood 0, else -inf
        end_terms = xp.where(ends, xp.where(xp.reshape(il, (-1, 1)) > 0, last, neg_inf), neg_inf)
        empty = xp.logical_and(il == 0, tl == 0)
        nll = -xp.where(empty, xp.zeros(empty.shape, dtype=log_probs.dtype), self._lse_rows(end_terms))
        return nll, log_alpha

    def _lse_rows(self, a):
        """``logsumexp`` over the last axis, ``-inf`` for all-``-inf`` rows."""
        xp = self.xp
        top = xp.max(a, axis=-1, keepdims=True)
        finite = xp.isfinite(top)
        safe_top = xp.where(finite, top, xp.zeros(top.shape, dtype=top.dtype))
        total = xp.sum(xp.exp(a - safe_top), axis=-1, keepdims=True)
        ok = total > 0
        out = xp.where(ok, xp.log(xp.where(ok, total, total + 1)) + safe_top, top)
        return xp.reshape(out, tuple(a.shape[:-1]))

    def ctc_loss_backward(
        self, grad_nll, log_probs, labels, input_lengths, target_lengths, nll, log_alpha, zero_infinity
    ):
        """Gradient of :meth:`ctc_loss_forward`'s ``nll`` in ``log_probs``, as PyTorch gives it:
        ``exp(log_probs) - posterior`` (the gradient for normalised log-probabilities), zero
        after each sample's input length. A sample whose loss is infinite (no alignment fits) has
        zeros with ``zero_infinity``, else NaN at every class of its frames: PyTorch's posterior
        ``exp(log_alpha_beta + nll - log_probs)`` is ``exp(-inf + inf)`` there for every class."""
        xp = self.xp
        T, lp_ext, skip, il, tl = self._ctc_setup(log_probs, labels, input_lengths, target_lengths)
        neg_inf = xp.full(tuple(lp_ext.shape[1:]), float("-inf"), dtype=log_probs.dtype)
        ends = self._ends(labels, tl)
        skip_next = self._shift(xp.astype(skip, log_probs.dtype), -2) > 0
        il_col = xp.reshape(il, (-1, 1))
        beta = neg_inf
        betas = [None] * T
        for t in range(T - 1, -1, -1):
            step = (
                self._lse(beta, self._shift(beta, -1), xp.where(skip_next, self._shift(beta, -2), neg_inf)) + lp_ext[t]
            )
            beta = xp.where(il_col - 1 == t, xp.where(ends, lp_ext[t], neg_inf), step)
            beta = xp.where(il_col - 1 < t, neg_inf, beta)
            betas[t] = beta
        log_beta = xp.stack(betas, axis=0)
        nll_b = xp.reshape(nll, (1, -1, 1))
        weights = xp.exp(log_alpha + log_beta + nll_b - lp_ext)
        posterior = xp.zeros(tuple(log_probs.shape), dtype=log_probs.dtype)
        index = xp.broadcast_to(xp.reshape(labels, (1,) + tuple(labels.shape)), tuple(weights.shape))
        self.backend.scatter_add(posterior, 2, index, weights)
        grad = (xp.exp(log_probs) - posterior) * xp.reshape(grad_nll, (1, -1, 1))
        t_index = xp.reshape(xp.arange(T, dtype=labels.dtype), (-1, 1, 1))
        keep = t_index < xp.reshape(il, (1, -1, 1))
        finite = xp.reshape(xp.isfinite(nll), (1, -1, 1))
        if zero_infinity:
            keep = xp.logical_and(keep, finite)
        else:
            grad = xp.where(finite, grad, xp.full(grad.shape, float("nan"), dtype=grad.dtype))
        return xp.where(keep, grad, xp.zeros(grad.shape, dtype=grad.dtype))
