"""Scaled dot-product attention of float16/bfloat16 as PyTorch's CPU flash-attention kernel rounds it.

PyTorch's CPU runs ``F.scaled_dot_product_attention`` of 4-D 16-bit inputs through its flash kernel
(``aten/src/ATen/native/cpu/FlashAttentionKernel.cpp``): everything in float32, the keys in
blocks of 512 with an online softmax, and three roundings to the 16-bit type on the way:

- forward: each block's ``exp(score - running max)`` is rounded to the 16-bit type before it
  weights the values (the row's sum keeps the unrounded float32 terms); the exponentials of
  whole vector registers come from ``fexp_u20``, a fast approximation (a cubic in the fraction of
  ``x log2 e`` written into the float's bits), those of a row's last ``len % lanes`` keys from the
  C library's ``exp``; the output ``dst / sum`` is rounded once, and ``log(sum) + max`` is kept
  in float32 for the backward.
- backward: the probabilities (from that log-sum-exp) are rounded before ``dV += P^T dO``, and
  ``dS = P (dO V^T - rowsum(dO O))`` before ``dQ += scale dS K`` and ``dK += scale dS^T Q``; the
  gradients are 16-bit buffers that each block of queries (32, 64 or 256 rows, by length) adds
  into with a rounding, the query heads of a grouped-query attention one after the other.

These kernels reproduce those steps with float32 arrays (float64 where a fused multiply-add is
emulated); the float32 sums run in another order than PyTorch's, which moves an element by a unit
now and then.
"""

from __future__ import annotations

import math

from .. import dtypes

__all__ = ["BlockedAttentionKernels"]

#: PyTorch's CPU flash attention splits the keys into blocks of this many
_KEY_BLOCK = 512
# fexp_u20's constants: log2(e) and the bounds of exp in float32 (as bit patterns in PyTorch),
# the cubic's coefficients in the fraction of x * log2(e)
_LOG2E = 1.44269502162933349609375
_LN_FLT_MIN, _LN_FLT_MAX = -87.33654022216796875, 88.72283172607421875
_CUBIC = (0.00010703434948458272, 0.30354260500649682, -0.22433836478672356, -0.079204240219773236)


def _query_block(length):
    """The rows of queries PyTorch's backward processes at a time, by the query length."""
    return 256 if length >= 768 else 64 if length >= 192 else 32


def _swap_last(xp, x):
    return xp.permute_dims(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


class BlockedAttentionKernels:
    """PyTorch's CPU flash attention for float16/bfloat16, written against ``self.xp``."""

    def _wide(self):
        backend = self.backend
        return backend.native_dtype(dtypes.float32), backend.native_dtype(dtypes.float64)

    def _fma(self, a, b, c):
        """``a * b + c`` of float32 values rounded once (the product is exact in float64)."""
        f32, f64 = self._wide()
        return self.xp.astype(self.xp.astype(a, f64) * b + c, f32)

    def _exp(self, x):
        """float32 ``exp`` correctly rounded, as the C library's (and Sleef's) nearly always are."""
        f32, f64 = self._wide()
        return self.xp.astype(self.xp.exp(self.xp.astype(x, f64)), f32)

    def _fexp_u20(self, x):
        """PyTorch's ``Vectorized<float>::fexp_u20``: ``2 ** (x log2 e)`` with the fraction's power
        from a cubic, the sum written as an integer into the float's bits (here in float64)."""
        xp = self.xp
        f32, f64 = self._wide()
        src = x * _LOG2E  # a float32 product: the number is float32 already
        frac = src - xp.floor(src)
        res = self._fma(frac, _CUBIC[3], _CUBIC[2])
        res = self._fma(frac, res, _CUBIC[1])
        res = self._fma(frac, res, _CUBIC[0])
        # the bits 2^23 * (src - res + 127), truncated: exponent field e and mantissa field m
        bits = xp.trunc(xp.astype(self._fma(src - res, 2.0**23, 2.0**23 * 127), f64))
        exponent = xp.floor(bits / 2.0**23)
        mantissa = bits - exponent * 2.0**23
        value = xp.where(
            exponent > 0,
            (1.0 + mantissa / 2.0**23) * xp.pow(xp.asarray(2.0, dtype=f64), exponent - 127),
            mantissa * 2.0**-149,
        )
        value = xp.where(x < _LN_FLT_MIN, 0.0, value)
        return xp.astype(xp.where(x > _LN_FLT_MAX, math.inf, value), f32)

    def _block_exp(self, z):
        """The exponentials of a block's rows as PyTorch's fused exp-and-sum loop takes them: whole
        vector registers (:attr:`Kernels.VECTOR_LANES`) from ``fexp_u20``, the rest from ``exp``."""
        lanes = self.VECTOR_LANES
        cut = lanes * (z.shape[-1] // lanes) if lanes else 0
        if cut == z.shape[-1]:
            return self._fexp_u20(z)
        if cut == 0:
            return self._exp(z)
        return self.xp.concat([self._fexp_u20(z[..., :cut]), self._exp(z[..., cut:])], axis=-1)

    def _scores(self, q, k, bias, scale):
        """float32 ``q @ k^T * scale + bias`` (``bias`` float32 or None)."""
        scores = self.xp.matmul(q, _swap_last(self.xp, k)) * scale
        return scores if bias is None else scores + bias

    def blocked_attention_forward(self, q, k, v, bias, scale, groups):
        """``(out, lse)`` of attention of 16-bit ``q`` ``(B, H, L, E)``, ``k``/``v``
        ``(B, H / groups, S, E)`` (``groups`` query heads to each key head: grouped-query
        attention) as PyTorch's CPU flash kernel rounds it.

        ``bias`` is an additive float32 mask broadcastable to ``(B, H, L, S)`` (``-inf`` masks a
        pair; causal masks come this way too) or None; ``scale`` the factor of ``q @ k^T``, a
        float32 number. ``lse`` is the float32 log-sum-exp of each row ``(B, H, L, 1)`` (0 for a
        row whose keys are all masked, whose output is zero)."""
        xp = self.xp
        f32, f64 = self._wide()
        narrow = q.dtype
        q = xp.astype(q, f32)
        k, v = (self._repeat_heads(xp.astype(t, f32), groups) for t in (k, v))
        scores = self._scores(q, k, bias, scale)
        rows = tuple(scores.shape[:-1]) + (1,)
        top = xp.full(rows, -math.inf, dtype=f32)
        total = xp.zeros(rows, dtype=f32)
        acc = None
        for n in range(0, scores.shape[-1], _KEY_BLOCK):
            block = scores[..., n : n + _KEY_BLOCK]
            new_top = xp.maximum(top, xp.max(block, axis=-1, keepdims=True))
            dead = xp.isinf(new_top)  # every key so far masked: the row stays empty
            safe_top = xp.where(dead, 0.0, new_top)
            e = xp.where(dead, 0.0, self._block_exp(block - safe_top))
            shrink = xp.where(dead, 1.0, self._exp(xp.where(dead, 0.0, top - safe_top)))
            total = xp.where(dead, total, xp.sum(e, axis=-1, keepdims=True) + shrink * total)
            weighted = xp.matmul(xp.astype(xp.astype(e, narrow), f32), v[..., n : n + _KEY_BLOCK, :])
            acc = weighted if acc is None else xp.where(dead, acc, acc * shrink) + weighted
            top = xp.where(dead, top, new_top)
        top = xp.where(xp.isinf(top), 0.0, top)
        total = xp.where(total == 0, 1.0, total)
        out = xp.astype(acc * (1.0 / total), narrow)
        lse = top + xp.astype(xp.log(xp.astype(total, f64)), f32)
        return out, lse

    def blocked_attention_backward(self, grad, q, k, v, bias, scale, out, lse, groups):
        """``(dq, dk, dv)`` of :meth:`blocked_attention_forward`, rounded as PyTorch's CPU backward.

        ``k``/``v`` are the ``(B, H / groups, S, E)`` keys and values of a grouped-query attention
        (``groups`` query heads to each), ``grad`` the 16-bit gradient of ``out``."""
        xp = self.xp
        f32, f64 = self._wide()
        narrow = q.dtype
        rounded = lambda x: xp.astype(xp.astype(x, narrow), f32)  # noqa: E731
        q, grad, out = xp.astype(q, f32), xp.astype(grad, f32), xp.astype(out, f32)
        k0, v0 = xp.astype(k, f32), xp.astype(v, f32)
        k, v = (self._repeat_heads(t, groups) for t in (k0, v0))
        probs = xp.astype(xp.exp(xp.astype(self._scores(q, k, bias, scale) - lse, f64)), f32)
        dsum = xp.sum(grad * out, axis=-1, keepdims=True)
        dscores = rounded(probs * (xp.matmul(grad, _swap_last(xp, v)) - dsum))
        probs = rounded(probs)
        dq = xp.zeros(q.shape, dtype=f32)
        dk, dv = xp.zeros(k0.shape, dtype=f32), xp.zeros(v0.shape, dtype=f32)
        B, H, L, S = probs.shape
        step = _query_block(L)
        for g in range(groups):  # the query heads sharing a key head add into its gradient in turn
            heads = slice(g, None, groups)
            for m in range(0, L, step):
                rows = slice(m, m + step)
                for n in range(0, S, _KEY_BLOCK):
                    keys = slice(n, n + _KEY_BLOCK)
                    p, ds = probs[:, heads, rows, keys], dscores[:, heads, rows, keys]
                    dv_part = dv[:, :, keys, :] + xp.matmul(_swap_last(xp, p), grad[:, heads, rows, :])
                    dk_part = dk[:, :, keys, :] + xp.matmul(_swap_last(xp, ds), q[:, heads, rows, :]) * scale
                    dq_part = dq[:, heads, rows, :] + xp.matmul(ds, k[:, heads, keys, :]) * scale
                    dv[:, :, keys, :] = rounded(dv_part)
                    dk[:, :, keys, :] = rounded(dk_part)
                    dq[:, heads, rows, :] = rounded(dq_part)
        return xp.astype(dq, narrow), xp.astype(dk, narrow), xp.astype(dv, narrow)

    def _repeat_heads(self, t, groups):
        """``t`` ``(B, Hk, S, E)`` with each head repeated ``groups`` times in a row."""
        if groups == 1:
            return t
        xp = self.xp
        B, H, S, E = t.shape
        expanded = xp.broadcast_to(xp.reshape(t, (B, H, 1, S, E)), (B, H, groups, S, E))
        return xp.reshape(expanded, (B, H * groups, S, E))
