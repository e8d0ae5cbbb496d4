"""Attention, functional forms: ``F.scaled_dot_product_attention`` and ``F.multi_head_attention_forward``.

The attention math lives once, in the ``attention_forward``/``attention_backward`` kernels
(:mod:`ember.kernels.attention`), which :class:`_Attention` calls. Where the weights are not
returned and the backend's ``fused_attention_supports`` says True (its fused kernels serve the
dtype, head dims, mask kind and dropout), :class:`_FusedAttention` runs the backend's fused
kernels instead, with ``is_causal`` passed as a flag. With ``create_graph`` both backwards are
written with tensor ops, so that attention differentiates twice.
"""

from __future__ import annotations

import math
import numbers
import warnings
from array import array

from ... import dtypes
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...autograd.function import Function, differentiable_backward
from ...ops.dtype_support import C_NAMES, TORCH_NAMES, not_implemented
from ...ops.linalg import check_added_dtype
from ...ops.movement import broadcast_shapes, cat
from ...ops.reduced_precision import narrow_on_cpu
from ...tensor import Tensor
from ...type_names import type_name
from ..attention.bias import CausalBias
from .dropout import dropout
from .linear import linear
from .padding import pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _safe_softmax(scores):
    """Softmax over the last axis whose all-``-inf`` rows give zeros (tensor ops, differentiable)."""
    top = scores.detach().amax(-1, keepdim=True)
    top = top.masked_fill(top.isinf(), 0.0)
    e = (scores - top).exp()
    total = e.sum(-1, keepdim=True)
    return e / total.masked_fill(total == 0, 1.0)


def _grads_by_tensor_ops(q, k, v, bias, scale, keep, grad, grad_weights):
    """``(dq, dk, dv, dscores)`` of attention from tensor ops, so that they differentiate again
    (the backward with ``create_graph``); ``keep`` is the dropout multipliers' array or None."""
    scores = q.matmul(k.mT) * scale
    if bias is not None:
        scores = scores + bias
    probs = _safe_softmax(scores)
    keep_t = None if keep is None else q._make(keep)
    weights = probs if keep_t is None else probs * keep_t
    dweights = grad.matmul(v.mT)
    if grad_weights is not None:
        dweights = dweights + grad_weights
    dprobs = dweights if keep_t is None else dweights * keep_t
    dscores = probs * (dprobs - (dprobs * probs).sum(-1, keepdim=True))
    return dscores.matmul(k) * scale, dscores.mT.matmul(q) * scale, weights.mT.matmul(grad), dscores


class _Attention(Function):
    """``(out, weights)`` of attention; ``weights`` are the probabilities after dropout."""

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, keep, need_weights):
        out, probs = q._backend.kernels.attention_forward(
            q._data, k._data, v._data, None if bias is None else bias._data, scale, keep
        )
        ctx.scale, ctx.keep, ctx.probs = scale, keep, probs
        ctx.save_for_backward(q, k, v, bias)
        ctx.set_materialize_grads(False)
        out = q._make(out)
        if not need_weights:
            return out
        return out, q._make(probs if keep is None else probs * keep)

    @staticmethod
    def backward(ctx, grad, grad_weights=None):
        q, k, v, bias = ctx.saved_tensors
        scale, keep = ctx.scale, ctx.keep
        if grad is None:
            grad = q.new_zeros(q.shape[:-1] + v.shape[-1:])
        if differentiable_backward():
            dq, dk, dv, dscores = _grads_by_tensor_ops(q, k, v, bias, scale, keep, grad, grad_weights)
        else:
            dq, dk, dv, dscores = q._backend.kernels.attention_backward(
                grad._data,
                None if grad_weights is None else grad_weights._data,
                q._data,
                k._data,
                v._data,
                ctx.probs,
                scale,
                keep,
            )
            dq, dk, dv, dscores = q._make(dq), q._make(dk), q._make(dv), q._make(dscores)
        return dq, dk, dv, dscores if ctx.needs_input_grad[3] else None, None, None, None


class _FusedAttention(Function):
    """``out`` of attention through the backend's fused kernels (``fused_attention_forward``):
    no weights, no dropout; ``mask`` is None, bool or an additive float mask, or ``is_causal``."""

    @staticmethod
    def forward(ctx, q, k, v, mask, is_causal, scale):
        out, stats = q._backend.kernels.fused_attention_forward(
            q._data, k._data, v._data, None if mask is None else mask._data, is_causal, scale
        )
        out = q._make(out)
        ctx.is_causal, ctx.scale, ctx.stats = is_causal, scale, stats
        ctx.save_for_backward(q, k, v, mask, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, out = ctx.saved_tensors
        mask_grad = ctx.needs_input_grad[3]
        if differentiable_backward():
            if ctx.is_causal:
                mask = q.new_ones((q.shape[-2], k.shape[-2]), dtype=dtypes.bool).tril()
            bias = None if mask is None else _mask_to_bias(mask, q.dtype)
            dq, dk, dv, dmask = _grads_by_tensor_ops(q, k, v, bias, ctx.scale, None, grad, None)
        else:
            dq, dk, dv, dmask = q._backend.kernels.fused_attention_backward(
                grad._data,
                q._data,
                k._data,
                v._data,
                None if mask is None else mask._data,
                ctx.is_causal,
                ctx.scale,
                out._data,
                ctx.stats,
                mask_grad,
            )
            dq, dk, dv = q._make(dq), q._make(dk), q._make(dv)
            dmask = None if dmask is None else q._make(dmask)
        return dq, dk, dv, dmask if mask_grad else None, None, None


class _ScaledDotProductFlashAttentionForCpu(Function):
    """``out`` of 16-bit attention on a CPU device as PyTorch's flash kernel rounds it
    (:mod:`ember.kernels.blocked_attention`); ``bias`` is None or an additive float32 mask, causal
    masks included, ``groups`` the query heads to each key head."""

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, groups):
        out, lse = q._backend.kernels.blocked_attention_forward(
            q._data, k._data, v._data, None if bias is None else bias._data, scale, groups
        )
        out = q._make(out)
        ctx.scale, ctx.groups, ctx.lse = scale, groups, lse
        ctx.save_for_backward(q, k, v, bias, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, bias, out = ctx.saved_tensors
        if differentiable_backward():  # create_graph: the float32 computation's gradients, differentiable again
            heads = q.shape[-3]
            k32, v32 = _repeat_heads(k.float(), heads), _repeat_heads(v.float(), heads)
            dq, dk, dv, _ = _grads_by_tensor_ops(q.float(), k32, v32, bias, ctx.scale, None, grad.float(), None)
            dk, dv = (d.unflatten(-3, (k.shape[-3], ctx.groups)).sum(-3) for d in (dk, dv))
            return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype), None, None, None
        dq, dk, dv = q._backend.kernels.blocked_attention_backward(
            grad._data,
            q._data,
            k._data,
            v._data,
            None if bias is None else bias._data,
            ctx.scale,
            out._data,
            ctx.lse,
            ctx.groups,
        )
        return q._make(dq), q._make(dk), q._make(dv), None, None, None


def _type_name(value):
    """The name PyTorch's argument parser gives ``value``'s type ("Tensor" for any tensor, else
    :func:`~ember.type_names.type_name`'s: "str", "numpy.ndarray")."""
    return "Tensor" if isinstance(value, Tensor) else type_name(value)


def _check_sdpa_arguments(dropout_p, is_causal, scale, enable_gqa):
    """The types PyTorch's argument parser takes: bool flags, float factors (a 0-d tensor converts)."""

    for name, flag in (("is_causal", is_causal), ("enable_gqa", enable_gqa)):
        if not isinstance(flag, bool):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be bool, not {_type_name(flag)}")
    for name, factor, optional in (("dropout_p", dropout_p, False), ("scale", scale, True)):
        if factor is None and optional:
            continue
        if isinstance(factor, Tensor) and factor.ndim == 0 or isinstance(factor, numbers.Real):
            continue
        raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be float, not {_type_name(factor)}")


def _check_sdpa(query, key, value, attn_mask, dropout_p=0.0, enable_gqa=False):
    for position, (name, t) in enumerate((("query", query), ("key", key), ("value", value)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"scaled_dot_product_attention(): argument '{name}' (position {position}) must be Tensor, "
                f"not {_type_name(t)}"
            )
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if query.dtype is not key.dtype or query.dtype is not value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{C_NAMES[query.dtype]} key.dtype: {C_NAMES[key.dtype]} and value.dtype: {C_NAMES[value.dtype]} instead."
        )
    if query.device != key.device or query.device != value.device:
        raise RuntimeError(
            "Expected query, key, and value to have the same device type, but got query.device: "
            f"{query.device} key.device: {key.device} and value.device: {value.device} instead."
        )
    out_shape = tuple(query.shape[:-1]) + (value.shape[-1],)
    if not (0 in key.shape[:-1] or 0 in out_shape):  # empty inputs return at once, before PyTorch chooses
        _check_kernel_choice(query, key, value, attn_mask, dropout_p, enable_gqa)
    # PyTorch's math path multiplies q @ k^T, then weights @ v: its matrix products' errors
    for (a, b), (rows, inner, got) in (
        ((query, key), (query.shape[-2], query.shape[-1], key.shape[-1])),
        ((query, value), (query.shape[-2], key.shape[-2], value.shape[-2])),
    ):
        if inner == got:
            continue
        if a.ndim == 2 and b.ndim == 2:
            other = key.shape[-2] if b is key else value.shape[-1]
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{inner} and {got}x{other})")
        batch = math.prod(_broadcast_batch(query.shape[:-2], key.shape[:-2], value.shape[:-2]))
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {inner}] but got: [{batch}, {got}]."
        )
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(
                f"scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, not {_type_name(attn_mask)}"
            )
        check_mask_dtype(attn_mask, query)
    if not query.dtype.is_floating_point and not query.dtype.is_complex:  # complex: refused by _attention
        raise RuntimeError(f"expected scalar type Float but found {TORCH_NAMES[query.dtype]}")


def check_mask_dtype(mask, query):
    """SDPA's rule: a bool mask, a float32 one or one of the query's dtype."""
    if mask.dtype not in (dtypes.bool, dtypes.float32, query.dtype):
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {C_NAMES[mask.dtype]} and  query.dtype: {C_NAMES[query.dtype]} instead."
        )


def _broadcast_error(a, b):
    """The broadcast shape of ``a`` and ``b``; PyTorch's error where they do not broadcast."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for dim in range(n - 1, -1, -1):
        if a[dim] != b[dim] and a[dim] != 1 and b[dim] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a[dim]}) must match the size of tensor b ({b[dim]}) at non-singleton "
                f"dimension {dim}"
            )
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def _broadcast_batch(*shapes):
    """The broadcast of the batch shapes (their product for an error message), the first if they do not."""
    try:
        return tuple(broadcast_shapes(*shapes))
    except RuntimeError:
        return tuple(shapes[0])


def _check_mask_fits_scores(attn_mask, query, key):
    """PyTorch adds the mask to the scores in place: a mask whose batch axes would grow them is an error."""
    scores = _broadcast_error(query.shape[:-2], key.shape[:-2]) + (query.shape[-2], key.shape[-2])
    grown = _broadcast_error(scores, attn_mask.shape)
    if grown != scores:
        raise RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast shape {list(grown)}")


def _repeat_heads(t, heads):
    """``t`` ``(*, H, S, E)`` with each head repeated to make ``heads`` heads (``repeat_interleave``)."""
    h = t.shape[-3]
    if heads % h:
        # PyTorch's text, cut where it ends
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    lead = tuple(t.shape[:-3])
    return (
        t.unsqueeze(-3)
        .expand(lead + (h, heads // h) + tuple(t.shape[-2:]))
        .reshape(lead + (heads,) + tuple(t.shape[-2:]))
    )


def _attention(query, key, value, mask, is_causal, scale, dropout_p, need_weights):
    """Broadcast the batch axes and run the backend's fused kernels where they serve the case
    (:class:`_FusedAttention`), else draw the dropout mask and run :class:`_Attention`.

    ``mask`` is None, a bool mask (True attends) or an additive float mask; ``is_causal``
    masks the keys after each query (never with ``mask``)."""
    if query.dtype.is_complex:  # PyTorch's math path multiplies complex scores, then finds no softmax kernel
        not_implemented("softmax_lastdim_kernel_impl", query.dtype)
    L, S = query.shape[-2], key.shape[-2]
    if S == 0:  # no keys: zeros, as PyTorch gives, from products over the empty axis (zero gradients)
        scores = query.matmul(key.mT)
        out = scores.matmul(value)
        return (out, scores) if need_weights else out
    shapes = [query.shape[:-2], key.shape[:-2], value.shape[:-2]]
    if mask is not None:
        shapes.append(mask.shape[:-2])
        if mask.dtype is not dtypes.bool and mask.dtype is not query.dtype:
            # a float mask made for the inputs (MultiheadAttention's under autocast) follows q's dtype
            mask = mask.to(query.dtype)
    batch = tuple(broadcast_shapes(*shapes))
    query = query.expand(batch + tuple(query.shape[-2:]))
    key = key.expand(batch + tuple(key.shape[-2:]))
    value = value.expand(batch + tuple(value.shape[-2:]))
    if not need_weights:
        fused_mask = None if mask is None else mask.expand(batch + (L, S))
        if query._backend.kernels.fused_attention_supports(
            query._data,
            key._data,
            value._data,
            None if fused_mask is None else fused_mask._data,
            is_causal,
            scale,
            dropout_p,
        ):
            return _FusedAttention.apply(query, key, value, fused_mask, is_causal, scale)
    if is_causal:
        mask = query.new_ones((L, S), dtype=dtypes.bool).tril()
    bias = None if mask is None else _mask_to_bias(mask, query.dtype).expand(batch + (L, S))
    keep = None
    if dropout_p > 0.0:
        # drawn row-major over the (..., L, S) weights, as PyTorch's dropout of its (contiguous) softmax (not
        # laid out like the query, which may be a transposed view of the same shape when S equals E)
        keep = query.detach().new_empty(batch + (L, S)).bernoulli_(1 - dropout_p)
        keep = (keep * (1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else keep * 0.0)._data
    return _Attention.apply(query, key, value, bias, scale, keep, need_weights)


_switches: dict[str, bool] = {}  # ember.backends.cuda's switches, found on first use


def _sdp_switches():
    """The attention kernels' switches of :mod:`ember.backends.cuda` (:func:`ember.nn.attention.sdpa_kernel`
    sets them): that module's dict, changed in place; ember.backends imports ember, so it is looked up on
    the first call, not at import."""
    if not _switches:
        from ...backends import cuda

        _switches["dict"] = cuda._sdp_enabled
    return _switches["dict"]


def _takes_flash_kernel(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether PyTorch's CPU runs this attention through its flash kernel, else through its math path:
    the flash kernel switched on (:func:`ember.nn.attention.sdpa_kernel`) and taking these inputs
    (:func:`_flash_refusal`)."""
    return _sdp_switches()["flash"] and _flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa) is None


def _flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa):
    """None where PyTorch's CPU flash kernel takes this attention (``use_flash_attention_cpp`` in
    ``sdp_utils_cpp.cpp``), else the reason it gives ("" where it gives none): no dropout, 4-D inputs of
    one batch size and one head dim, key and value heads equal and equal to the query's (or dividing
    them, with ``enable_gqa``), a 2-D or 4-D mask that needs no gradient, no empty sequence, the last
    axes contiguous and a floating dtype."""
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        return (
            "All fused kernels requires query, key and value to be 4 dimensional, but got Query dim: "
            f"{query.ndim}, Key dim: {key.ndim}, Value dim: {value.ndim} instead."
        )
    (b, h, L, e), (bk, hk, S, ek), (bv, hv, _, ev) = query.shape, key.shape, value.shape
    sizes = [list(query.shape), list(key.shape), list(value.shape)]  # for the messages
    if not b == bk == bv:
        return (
            "For dense inputs, both fused kernels require query, key and value to have the same batch_size. "
            f"Query.sizes(): {sizes[0]}, Key.sizes(): {sizes[1]}, Value.sizes(): {sizes[2]} instead. "
            "To broadcast dense inputs, try using unsqueeze and expand_to before passing them into the kernel."
        )
    if enable_gqa:
        if hk != hv:
            return (
                "Both fused kernels require key and value to have the same num_heads and batch_size but got: "
                f"Key sizes: {sizes[1]}, Value sizes: {sizes[2]}, Query sizes: {sizes[0]} instead."
            )
        if h % hk:
            return (
                "The number of heads in key/value must divide number of heads in query."
                f"Got input Key sizes(): {hk}, Value sizes(): {hv}, Query sizes(): {h} instead."
            )
    elif not h == hk == hv:
        return (
            "For dense input, both fused kernels require query, key and value to have the same num_heads. "
            f"Query.sizes(): {sizes[0]}, Key sizes(): {sizes[1]}, Value sizes(): {sizes[2]} instead. "
            "To broadcast dense inputs, try using unsqueeze and expand_to before passing them into the kernel."
        )
    if attn_mask is not None:
        if attn_mask.requires_grad:
            return ""
        if attn_mask.ndim < 2:  # PyTorch's kernel reads the mask's last two sizes
            raise IndexError(
                "Dimension specified as -2 but tensor has no dimensions"
                if attn_mask.ndim == 0
                else "Dimension out of range (expected to be in range of [-1, 0], but got -2)"
            )
        if attn_mask.ndim not in (2, 4):
            return (
                "Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x {KV_seq_len, 1}); "
                "4d - ({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x {KV_seq_len, 1})"
            )
    if not e == ek == ev:
        return (
            "Flash attention requires q,k,v to have the same last dimension. Got Query.size(-1): "
            f"{e}, Key.size(-1): {ek}, Value.size(-1): {ev} instead."
        )
    if not (L and S):
        return ""
    if any(t.stride(-1) != 1 for t in (query, key, value)):
        return (
            "All fused kernels require the last dimension of the input to have stride 1. Got Query.stride(-1): "
            f"{query.stride(-1)}, Key.stride(-1): {key.stride(-1)}, Value.stride(-1): {value.stride(-1)}"
        )
    if not query.dtype.is_floating_point:
        names = ", ".join(f"{n} dtype: {C_NAMES[t.dtype]}" for n, t in (("Query", query), ("Key", key)))
        return (
            "Expected query, key and value to all be of dtype: {Float, Double, BFloat16, Half}. Got "
            f"{names}, and Value dtype: {C_NAMES[value.dtype]} instead."
        )
    return None


def _check_kernel_choice(query, key, value, attn_mask, dropout_p, enable_gqa):
    """PyTorch's choice of an attention kernel among those :func:`ember.nn.attention.sdpa_kernel` leaves
    on, and its errors where none is left: on CUDA any kernel serves; elsewhere (PyTorch's CPU) the flash
    kernel where it takes the inputs, else the math path."""
    switches = _sdp_switches()
    if query.device.type == "cuda":
        if not any(switches.values()):
            raise RuntimeError(_NO_VIABLE_BACKEND)
        return
    if switches["math"]:
        return
    if not switches["flash"]:
        raise RuntimeError(_NO_VIABLE_BACKEND)
    refusal = _flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa)
    if refusal is None:
        return
    warnings.warn("Flash attention kernel not used because:", stacklevel=4)
    if refusal:
        warnings.warn(refusal, stacklevel=4)
    raise RuntimeError("No available kernel.  Aborting execution.")


_NO_VIABLE_BACKEND = (
    "No viable backend for scaled_dot_product_attention was found. This is likely due to turning off both "
    "the math kernel and the fused kernels."
)


def _narrow_attention_on_cpu(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    """float16/bfloat16 attention as PyTorch's CPU computes it: its flash kernel where it applies
    (:class:`_ScaledDotProductFlashAttentionForCpu`), else its math path, which computes in float32 and rounds the
    output once (the gradients too)."""
    if _takes_flash_kernel(query, key, value, attn_mask, dropout_p, enable_gqa):
        L, S = query.shape[-2], key.shape[-2]
        if is_causal:
            attn_mask = query.new_ones((L, S), dtype=dtypes.bool).tril()
        bias = None if attn_mask is None else _mask_to_bias(attn_mask, dtypes.float32).float()
        scale = array("f", [scale])[0]  # PyTorch's kernel takes the factor as a float32
        return _ScaledDotProductFlashAttentionForCpu.apply(
            query, key, value, bias, scale, query.shape[1] // key.shape[1]
        )
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    if attn_mask is not None and attn_mask.dtype is not dtypes.bool:
        attn_mask = attn_mask.float()
    out = _attention(query.float(), key.float(), value.float(), attn_mask, is_causal, scale, dropout_p, False)
    return out.to(query.dtype)


def _mask_to_bias(mask, dtype):
    """An additive float mask: a bool ``mask`` gives 0 where True (attend) and ``-inf`` where False."""
    if mask.dtype is dtypes.bool:
        return mask.logical_not().to(dtype).masked_fill(mask.logical_not(), float("-inf"))
    return mask


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    r"""Scaled dot-product attention: :math:`\mathrm{softmax}(Q K^T \cdot \text{scale} + M)\, V`.

    A row whose every key is masked out gives zeros (not NaN).

    Args:
        query (Tensor): :math:`(N, ..., H_q, L, E)`.
        key (Tensor): :math:`(N, ..., H, S, E)`.
        value (Tensor): :math:`(N, ..., H, S, E_v)`.
        attn_mask (Tensor or CausalBias, optional): broadcastable to :math:`(N, ..., H_q, L, S)`;
            a bool mask marks with ``True`` the pairs that take part in attention, a float mask is
            added to the scores; a :class:`~ember.nn.attention.bias.CausalBias` is a causal mask
            aligned as it says. Default: ``None``
        dropout_p (float): dropout probability applied to the attention weights. Default: 0.0
        is_causal (bool): mask out the keys after each query (lower-triangular mask, top-left
            aligned); with ``attn_mask``, where PyTorch's CPU flash kernel applies (4-D inputs, a
            2-D or 4-D mask that needs no gradient, no dropout), both masks apply, elsewhere an
            error. Default: ``False``
        scale (float, optional): factor of :math:`Q K^T`. Default: :math:`1/\sqrt{E}`
        enable_gqa (bool): grouped-query attention: ``key``/``value`` with :math:`H` heads,
            :math:`H` dividing :math:`H_q`, each head shared by :math:`H_q/H` query heads.
            Default: ``False``

    Shape:
        - Output: :math:`(N, ..., H_q, L, E_v)`.

    Examples::

        >>> q = ember.randn(2, 4, 5, 8)
        >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
        ember.Size([2, 4, 5, 8])
    """
    _check_sdpa_arguments(dropout_p, is_causal, scale, enable_gqa)
    if _amp.active:
        return autocast_call(
            "scaled_dot_product_attention",
            scaled_dot_product_attention,
            query,
            key,
            value,
            attn_mask,
            dropout_p,
            is_causal,
            scale=scale,
            enable_gqa=enable_gqa,
        )
    if isinstance(attn_mask, CausalBias):
        attn_mask, is_causal = attn_mask._attention_mask(query.device, is_causal)
    _check_sdpa(query, key, value, attn_mask, dropout_p, enable_gqa)
    out_shape = tuple(query.shape[:-1]) + (value.shape[-1],)
    if 0 in key.shape[:-1] or 0 in out_shape:
        # PyTorch returns at once, before its other checks: zeros of the query's batch shape, NaN where any
        # input holds one (its products with zero), zero gradients
        return query.new_zeros(out_shape) + (query.sum() + key.sum() + value.sum()) * 0
    if dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if not dropout_p >= 0.0:  # negative or NaN: PyTorch's flash kernel refuses it (with this text), its math
        # path drops nothing
        if _takes_flash_kernel(query, key, value, attn_mask, dropout_p, enable_gqa):
            raise RuntimeError("scaled_dot_product_attention_flash_attention: Currently do not support dropout > 0")
        dropout_p = 0.0
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) < 3:  # PyTorch reads the heads at dim -3
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but got -3)")
    grouped_key, grouped_value = key, value
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    _broadcast_error(_broadcast_error(query.shape[:-2], key.shape[:-2]), value.shape[:-2])  # the products' batches
    if attn_mask is not None:
        if attn_mask.ndim < 2 and not attn_mask.requires_grad:
            if _takes_flash_kernel(query, grouped_key, grouped_value, None, dropout_p, enable_gqa):
                # PyTorch's CPU flash kernel reads the mask's last two sizes (its math path would broadcast it)
                raise IndexError(
                    "Dimension specified as -2 but tensor has no dimensions"
                    if attn_mask.ndim == 0
                    else "Dimension out of range (expected to be in range of [-1, 0], but got -2)"
                )
        _check_mask_fits_scores(attn_mask, query, key)
    if is_causal and attn_mask is not None and query.numel() and key.numel() and value.numel():
        # PyTorch's CPU flash kernel takes both and masks with their intersection; its math path refuses them
        if not _takes_flash_kernel(query, grouped_key, grouped_value, attn_mask, dropout_p, enable_gqa):
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        causal = query.new_ones((query.shape[-2], key.shape[-2]), dtype=dtypes.bool).tril()
        if attn_mask.dtype is dtypes.bool:
            attn_mask = attn_mask.logical_and(causal)
        else:
            attn_mask = attn_mask.masked_fill(causal.logical_not(), float("-inf"))
        is_causal = False
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if narrow_on_cpu(query) and query.shape[-2] and key.shape[-2]:
        return _narrow_attention_on_cpu(
            query, grouped_key, grouped_value, attn_mask, dropout_p, is_causal, scale, enable_gqa
        )
    return _attention(query, key, value, attn_mask, is_causal, scale, dropout_p, False)


def _causal_bias_tensor(mask, device):
    """``mask``, or a :class:`~ember.nn.attention.bias.CausalBias` as the tensor that multi-head attention
    sees in PyTorch, where the bias is a tensor subclass whose own data is a float32 tensor of shape
    ``(variant, L, S)`` (its constructor's arguments; 1 upper-left, 2 lower-right) that only scaled
    dot-product attention reads as a bias: a 3-D float mask whose shape attention then refuses unless
    ``N * num_heads`` is the variant's number. PyTorch leaves that tensor uninitialised; here it holds the
    bias (``-inf`` where a key is masked), on ``device`` (the query's)."""
    if not isinstance(mask, CausalBias):
        return mask
    allowed = mask._materialize(device)
    additive = allowed.new_zeros(allowed.shape, dtype=dtypes.float32).masked_fill(~allowed, float("-inf"))
    return additive.expand(int(mask.variant), *allowed.shape).contiguous()


def _float_mask(mask, name, query):
    """A float mask (``-inf`` where a bool ``mask`` is True) in ``query``'s dtype, or None."""
    if mask is None:
        return None
    if mask.dtype is dtypes.bool:
        return query.new_zeros(mask.shape).masked_fill(mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """PyTorch's ``F._canonical_mask``: a bool ``mask`` as a float mask of ``target_type`` (``-inf`` where
    True), a float one as it is; warns when ``other_type`` (the other mask's dtype) differs."""
    if mask is None:
        return None
    if mask.dtype is not dtypes.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=2,
        )
    if mask.dtype is dtypes.bool:
        return mask.new_zeros(mask.shape, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    """PyTorch's ``F._none_or_dtype``: ``input``'s dtype, or None for None."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """PyTorch's ``F._in_projection_packed``: the query, key and value projections by one packed weight
    ``w`` :math:`(3E, E)` and bias ``b`` :math:`(3E)`."""
    return _project_inputs(q, k, v, w, b, None, None, None)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """PyTorch's ``F._in_projection``: the query, key and value projections by three weights and biases."""
    biases = None
    if b_q is not None or b_k is not None or b_v is not None:
        biases = (b_q, b_k, b_v)
    return _project_inputs(q, k, v, None, biases, w_q, w_k, w_v)


def _mha_is_batched(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs carry a batch dimension; checks their ranks as PyTorch does."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
        )
    nd = query.ndim
    kind = "batched (3-D)" if nd == 3 else "unbatched (2-D)"
    if key.ndim != nd or value.ndim != nd:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {nd}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != nd - 1:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or {nd - 1}-D but found "
            f"{key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        expected = (num_heads, query.shape[0], key.shape[0])  # checked here for unbatched inputs only
        if nd == 2 and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return nd == 3


def _split_projection(projected, parts, embed):
    """The ``parts`` projections packed along the last axis of ``projected``, each made contiguous
    (PyTorch's ``unflatten(-1, (parts, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()``)."""
    stacked = projected.unflatten(-1, (parts, embed)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
    return tuple(stacked[i] for i in range(parts))


def _project_inputs(query, key, value, in_proj_weight, in_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight):
    """``q, k, v``: the three input projections, from one packed weight or three separate ones. As in
    PyTorch, self-attention (one tensor for all three) projects with the whole packed weight at once
    and encoder-decoder attention (``key is value``) the key and value together, so that the input's
    gradient comes from one product (three products rounded apart and added differ in 16 bits)."""
    if in_proj_weight is not None and key is value:
        embed = query.shape[-1]
        if query is key:
            return _split_projection(linear(query, in_proj_weight, in_proj_bias), 3, embed)
        w_q, w_kv = in_proj_weight.split([embed, 2 * embed])
        b_q, b_kv = (None, None) if in_proj_bias is None else in_proj_bias.split([embed, 2 * embed])
        return (linear(query, w_q, b_q), *_split_projection(linear(key, w_kv, b_kv), 2, embed))
    if in_proj_weight is not None:
        weights = in_proj_weight.chunk(3)
    else:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    if in_proj_bias is None or isinstance(in_proj_bias, tuple):
        biases = in_proj_bias or (None, None, None)
    else:
        biases = in_proj_bias.chunk(3)
    if in_proj_weight is None:  # PyTorch's _in_projection asserts the three weights' and biases' shapes
        embed = query.shape[-1]
        for name, x, w, b in zip(("query", "key", "value"), (query, key, value), weights, biases):
            if tuple(w.shape) != (embed, x.shape[-1]):
                raise AssertionError(f"expecting {name} weights shape of {(embed, x.shape[-1])}, but got {w.shape}")
            if b is not None and tuple(b.shape) != (embed,):
                raise AssertionError(f"expecting {name} bias shape of {(embed,)}, but got {b.shape}")
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _check_attn_mask(attn_mask, bsz, num_heads, tgt_len, src_len):
    """``attn_mask`` checked and made 3-D: ``(1, L, S)`` from ``(L, S)``, or ``(N * H, L, S)``."""
    if attn_mask is None:
        return None
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(tgt_len, src_len)}."
            )
        return attn_mask.unsqueeze(0)
    if attn_mask.ndim == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                f"{(bsz * num_heads, tgt_len, src_len)}."
            )
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")


def _narrow_heads_attention(q, k, v, attn_mask, is_causal, dropout_p, need_weights, bsz):
    """``(out, weights)`` of 16-bit heads ``q`` ``(N * H, L, E)``, ``k``/``v`` ``(N * H, S, E)`` on a
    CPU device (or of any heads with a fully masked query and the weights) as PyTorch's
    ``multi_head_attention_forward`` computes them: with the weights,
    tensor operations each rounded to the 16-bit type (``q * sqrt(1 / E)``, ``baddbmm`` of the mask,
    softmax, dropout, ``bmm``); without them, ``scaled_dot_product_attention`` of ``(N, H, L, E)``
    views, which takes PyTorch's flash kernel (:func:`_narrow_attention_on_cpu`)."""
    heads, L, E = q.shape
    S = k.shape[1]
    if need_weights:
        scaled = q * math.sqrt(1.0 / E)
        scores = scaled.matmul(k.mT) if attn_mask is None else attn_mask.baddbmm(scaled, k.mT)
        weights = scores.softmax(-1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        return weights.matmul(v), weights
    if attn_mask is not None:
        attn_mask = (
            attn_mask.unsqueeze(0)
            if attn_mask.ndim == 3 and attn_mask.shape[0] == 1
            else attn_mask.reshape(bsz, heads // bsz, -1, S)
        )
    views = [t.reshape(bsz, heads // bsz, t.shape[1], E) for t in (q, k, v)]
    out = scaled_dot_product_attention(*views, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal)
    return out.reshape(heads, L, E), None


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    r"""Multi-head attention, the functional form of :class:`~ember.nn.MultiheadAttention`.

    Args:
        query, key, value: :math:`(L, N, E)`, :math:`(S, N, E_k)`, :math:`(S, N, E_v)`
            (sequence first), or unbatched :math:`(L, E)`, :math:`(S, E_k)`, :math:`(S, E_v)`.
        embed_dim_to_check (int): the expected :math:`E`.
        num_heads (int): number of heads.
        in_proj_weight, in_proj_bias: the packed input projection :math:`(3E, E)`, :math:`(3E)`.
        bias_k, bias_v: :math:`(1, 1, E)` biases appended to the keys and values, or None.
        add_zero_attn (bool): append a zero key and value.
        dropout_p (float): dropout on the attention weights (training only).
        out_proj_weight, out_proj_bias: the output projection.
        training (bool): apply dropout. Default: ``True``
        key_padding_mask: :math:`(N, S)` (True or ``-inf`` ignores a key), or None.
        need_weights (bool): also return the attention weights; as in PyTorch, a query whose every
            key is masked then gives NaN (zeros without the weights). Default: ``True``
        attn_mask: :math:`(L, S)` or :math:`(N \cdot H, L, S)` bool (True masks) or float mask.
        use_separate_proj_weight (bool): use ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``.
        static_k, static_v: precomputed keys and values :math:`(N \cdot H, S, E/H)`, or None.
        average_attn_weights (bool): average the returned weights over heads. Default: ``True``
        is_causal (bool): a hint that ``attn_mask`` is the causal mask (which must be given);
            without ``key_padding_mask`` and ``need_weights`` the causal mask (top-left aligned)
            is used in its place, as in PyTorch. Default: ``False``

    Returns:
        ``(attn_output, attn_weights)``; ``attn_weights`` is None unless ``need_weights``.

    Examples::

        >>> mha = ember.nn.MultiheadAttention(8, 2)
        >>> x = ember.randn(5, 3, 8)
        >>> out, w = F.multi_head_attention_forward(
        ...     x, x, x, 8, 2, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0,
        ...     mha.out_proj.weight, mha.out_proj.bias)
        >>> out.shape, w.shape
        (ember.Size([5, 3, 8]), ember.Size([3, 5, 5]))
    """
    attn_mask = _causal_bias_tensor(attn_mask, query.device)
    batched = _mha_is_batched(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype is not attn_mask.dtype:
        warnings.warn(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both instead.",
            stacklevel=2,
        )
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", query)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    # without a padding mask or the weights, PyTorch trusts the hint: SDPA's causal mask, top-left aligned
    causal_hint = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if causal_hint else _float_mask(attn_mask, "attn_mask", query)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
            )
        in_proj_weight = None
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _project_inputs(
        query, key, value, in_proj_weight, in_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight
    )
    src_len = k.shape[0]
    attn_mask = _check_attn_mask(attn_mask, bsz, num_heads, tgt_len, src_len)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is not None:
            for dim, size in ((0, bsz * num_heads), (2, head_dim)):
                if static.shape[dim] != size:
                    raise AssertionError(f"expecting {name}.size({dim}) of {size}, but got {static.shape[dim]}")
    q = q.reshape((tgt_len, bsz * num_heads, head_dim)).transpose(0, 1)
    k = k.reshape((k.shape[0], bsz * num_heads, head_dim)).transpose(0, 1) if static_k is None else static_k
    v = v.reshape((v.shape[0], bsz * num_heads, head_dim)).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:
        zeros = k.new_zeros((bsz * num_heads, 1, head_dim))
        k = cat([k, zeros], 1)
        v = cat([v, zeros.to(v.dtype)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        for dim, size in ((0, bsz), (1, src_len)):  # PyTorch's _check_key_padding_mask (its spelling)
            if key_padding_mask.shape[dim] != size:
                raise AssertionError(
                    f"Expected key_padded_mask.shape[{dim}] to be {size}, but got {key_padding_mask.shape[dim]}"
                )
        kpm = key_padding_mask.reshape((bsz, 1, 1, src_len)).expand((bsz, num_heads, 1, src_len))
        kpm = kpm.reshape((bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if not need_weights and attn_mask is not None:
        if not _amp.active:
            check_mask_dtype(attn_mask, q)  # PyTorch calls SDPA here
        if attn_mask.numel() == 0 and not (attn_mask.ndim == 3 and attn_mask.shape[0] == 1):
            attn_mask.reshape(bsz, num_heads, -1, src_len)  # PyTorch's view of the mask: an error without elements
    if need_weights and attn_mask is not None and attn_mask.dtype is not q.dtype and not _amp.active:
        check_added_dtype("baddbmm", attn_mask, q, k)  # PyTorch adds the mask to the scores with baddbmm
    if v.shape[1] != src_len:  # a static_k or static_v of another length: PyTorch's bmm, or its view for SDPA
        if need_weights:
            raise RuntimeError(
                "Expected size for first two dimensions of batch2 tensor to be: "
                f"[{v.shape[0]}, {src_len}] but got: [{v.shape[0]}, {v.shape[1]}]."
            )
        raise RuntimeError(f"shape '{[bsz, num_heads, src_len, head_dim]}' is invalid for input of size {v.numel()}")
    # PyTorch computes the weights with a plain softmax: a row with every key masked is NaN, and so are the
    # gradients that pass through it; its tensor ops (_narrow_heads_attention's) give both
    plain = need_weights and attn_mask is not None and bool(attn_mask.isneginf().all(-1).any())
    if narrow_on_cpu(q) or plain:
        out, weights = _narrow_heads_attention(q, k, v, attn_mask, causal_hint, dropout_p, need_weights, bsz)
    else:
        result = _attention(q, k, v, attn_mask, causal_hint, 1.0 / math.sqrt(head_dim), dropout_p, need_weights)
        out, weights = result if need_weights else (result, None)
    out = out.transpose(0, 1).reshape((tgt_len * bsz, embed_dim))
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape((tgt_len, bsz, out.shape[-1]))  # not -1: an empty batch is 0 elements
    if weights is not None:
        weights = weights.reshape((bsz, num_heads, tgt_len, src_len))
        if average_attn_weights:
            weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


_mha_shape_check = _mha_is_batched  # PyTorch's name
