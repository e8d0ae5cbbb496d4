"""Attention layers: ``nn.MultiheadAttention``."""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes
from ...amp import is_autocast_enabled
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...amp.state import suspended
from ...autograd.grad_mode import grad_state
from ...ops.creation import empty
from ...ops.reduced_precision import narrow_on_cpu
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..common_types import _device_t, _dtype_t
from ..functional.attention import _causal_bias_tensor, check_mask_dtype
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _fastpath_enabled() -> bool:
    """``ember.backends.mha.get_fastpath_enabled()`` (ember.backends imports ember: resolved on use)."""
    from ...backends import mha

    return mha.get_fastpath_enabled()


def _fast_path_mask(mask: Tensor | None, query: Tensor) -> Tensor | None:
    """A float ``mask`` in ``query``'s dtype for the inference fast path, which takes bool, float32 and the
    query's dtype (the weights' path adds the mask with ``baddbmm``, which promotes nothing)."""
    if mask is None or mask.dtype is dtypes.bool or mask.dtype is query.dtype:
        return mask
    check_mask_dtype(mask, query)
    return mask.to(query.dtype)


def _masked_softmax(scores: Tensor, masked: Tensor) -> Tensor:
    """The softmax over the last dim of 16-bit ``scores`` where the bool ``masked`` is False, as PyTorch's
    CPU ``_masked_softmax`` (its inference kernel's with a mask) rounds it: the difference from the row's
    largest unmasked score and its exponential each rounded to the 16-bit type, their sum taken in float32,
    its reciprocal rounded to the 16-bit type and the products rounded once more. A row whose every score
    is masked comes out NaN."""
    narrow = scores.dtype
    wide = scores.float()
    largest = wide.masked_fill(masked, float("-inf")).amax(-1, keepdim=True)
    exps = (wide - largest).to(narrow).float().exp().to(narrow).masked_fill(masked, 0.0).float()
    inverse = exps.sum(-1, keepdim=True).reciprocal().to(narrow).float()
    return (exps * inverse).to(narrow)


class MultiheadAttention(Module):
    r"""Allows the model to jointly attend to information from different representation subspaces.

    .. math::
        \text{MultiHead}(Q, K, V) = \text{Concat}(head_1,\dots,head_h)W^O,\quad
        head_i = \text{Attention}(QW_i^Q, KW_i^K, VW_i^V)

    Args:
        embed_dim (int): total dimension of the model.
        num_heads (int): number of parallel heads; ``embed_dim`` is split across them.
        dropout (float): dropout on the attention weights. Default: 0.0
        bias (bool): add biases to the input and output projections. Default: ``True``
        add_bias_kv (bool): add a learned bias to the key and value sequences. Default: ``False``
        add_zero_attn (bool): add a batch of zeros to the key and value sequences. Default: ``False``
        kdim (int): features of the keys. Default: ``embed_dim``
        vdim (int): features of the values. Default: ``embed_dim``
        batch_first (bool): inputs and outputs are :math:`(N, L, E)` rather than :math:`(L, N, E)`.
            Default: ``False``

    Shape:
        - query :math:`(L, E)`, :math:`(L, N, E)` or :math:`(N, L, E)` (``batch_first``); key
          and value likewise with :math:`S` and :math:`E_k`, :math:`E_v`.
        - key_padding_mask :math:`(S)` or :math:`(N, S)`; attn_mask :math:`(L, S)` or
          :math:`(N \cdot \text{num\_heads}, L, S)`; a bool mask ignores the positions marked True.
        - Output: attn_output like query; attn_weights :math:`(N, L, S)` (averaged) or
          :math:`(N, \text{num\_heads}, L, S)`.

    Examples::

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = ember.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        (ember.Size([2, 5, 16]), ember.Size([2, 5, 5]))
    """

    __constants__ = ["batch_first"]

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        super().__init__()
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty((3 * embed_dim,), **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        self.bias_k: Parameter | None
        self.bias_v: Parameter | None
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _takes_fast_path(self, query: Tensor, key: Tensor, value: Tensor, same_dtype: bool = True) -> bool:
        """Whether PyTorch would run this call on its fused inference kernel: batched self-attention
        in evaluation, without autograd or cuda autocast, ``batch_first``, an even head count, packed
        input projections with biases, no ``bias_k``/``bias_v``/``add_zero_attn``, and (``same_dtype``:
        the module's check, not the encoder layer's) a query of the projections' dtype."""
        if not _fastpath_enabled():
            return False
        if self.training or query.ndim != 3 or query is not key or key is not value or not self.batch_first:
            return False
        if self.num_heads % 2 or self.bias_k is not None or self.add_zero_attn or is_autocast_enabled():
            return False
        if self.in_proj_weight is None or self.in_proj_bias is None:
            return False
        if same_dtype and (query.dtype is not self.in_proj_weight.dtype or query.dtype is not self.in_proj_bias.dtype):
            return False
        tensors = (query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)
        return not (grad_state.enabled and any(t is not None and t.requires_grad for t in tensors))

    def _fast_path_16_bit(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
        need_weights: bool,
        average_attn_weights: bool,
        same_dtype: bool = True,
        nested: bool = False,
    ) -> tuple[Tensor, Tensor | None] | None:
        """``(output, weights)`` of PyTorch's CPU inference kernel (``_native_multi_head_attention``) where
        it runs in a 16-bit type: on 16-bit inputs, or on float32 ones in a cpu autocast region, which
        casts the query and the weights (its check of autocast is of cuda's alone); None where PyTorch
        would not run it so (it takes bool masks, a float one it refuses) or its numbers are the slow
        path's to rounding. ``same_dtype=False``: the encoder layer's call, which does not check the
        query's dtype (in a region, a layer's 16-bit output feeds the next layer's float32 weights);
        ``nested``: the padding is that of the encoder's nested tensor, whose rows PyTorch's kernel
        softmaxes as shorter rows (their plain softmax's rounding)."""
        if not self._takes_fast_path(query, key, value, same_dtype) or query.numel() == 0:
            return None
        n, length, _ = query.shape
        if key_padding_mask is not None and (
            key_padding_mask.dtype is not dtypes.bool or tuple(key_padding_mask.shape) != (n, length)
        ):
            return None
        square = ((length, length), (n * self.num_heads, length, length))
        if attn_mask is not None and (attn_mask.dtype is not dtypes.bool or tuple(attn_mask.shape) not in square):
            return None
        tensors = [query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias]
        if _amp.active:
            tensors = cast_inputs("native_multi_head_attention", *tensors, device_type=query.device.type)
        if not narrow_on_cpu(tensors[0]) or any(t is None or t.dtype is not tensors[0].dtype for t in tensors):
            return None
        x, in_weight, in_bias, out_weight, out_bias = tensors
        with suspended():  # its matrix products run in the cast type, as the kernel's
            return self._narrow_fast_path(
                x, in_weight, in_bias, out_weight, out_bias, key_padding_mask, attn_mask, need_weights,
                average_attn_weights, nested,
            )  # fmt: skip

    def _narrow_fast_path(
        self,
        x: Tensor,
        in_weight: Tensor,
        in_bias: Tensor,
        out_weight: Tensor,
        out_bias: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
        need_weights: bool,
        average_attn_weights: bool,
        nested: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Self-attention of a 16-bit ``x`` ``(N, L, E)`` as PyTorch's CPU inference kernel
        (``_native_multi_head_attention``) rounds it: the packed projection without its bias, the bias
        added and the query scaled in float32 (``_transform_bias_rescale_qkv``), rounded once, then the
        scores, their softmax (with bool masks, ``_masked_softmax``'s rounding) and the weighted values
        each rounded to the 16-bit type, and the output projection (its slow path runs scaled
        dot-product attention on the biased projection). The weights, averaged, are the heads' sum
        divided by their number, each rounded."""
        n, length, embed = x.shape
        heads = self.num_heads
        qkv = (x.matmul(in_weight.t()).float() + in_bias.float()).reshape(n, length, 3, heads, -1)
        q, k, v = (qkv.select(2, i).transpose(1, 2) for i in range(3))
        q = (q / math.sqrt(embed // heads)).to(x.dtype)
        scores = q.matmul(k.to(x.dtype).mT)
        masked = None if key_padding_mask is None else key_padding_mask.reshape(n, 1, 1, length)
        if attn_mask is not None:  # PyTorch's merge_masks: (L, L) or (N * heads, L, L), or-ed with the padding
            square = attn_mask.reshape(n, heads, length, length) if attn_mask.ndim == 3 else attn_mask
            masked = square if masked is None else square | masked
        if masked is None:
            weights = scores.softmax(-1)
        elif nested:  # each sequence without its padding: the plain softmax of a shorter row
            weights = scores.masked_fill(masked, float("-inf")).softmax(-1)
        else:
            weights = _masked_softmax(scores, masked)
        out = weights.matmul(v.to(x.dtype)).transpose(1, 2).reshape(n, length, embed)
        out = F.linear(out, out_weight, out_bias)
        if not need_weights:
            return out, None
        return out, weights.sum(1) / heads if average_attn_weights else weights

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``(attn_output, attn_weights)``; ``attn_weights`` is None unless ``need_weights``.

        See :func:`ember.nn.functional.multi_head_attention_forward` for the arguments. As in
        PyTorch, a query whose every key is masked gives NaN with ``need_weights`` and on the
        inference fast path (see :mod:`ember.backends.mha`), zeros otherwise.
        """
        attn_mask = _causal_bias_tensor(attn_mask, query.device)  # the float tensor PyTorch's module sees
        batched = query.ndim == 3
        masked = key_padding_mask is not None or attn_mask is not None
        if batched and (_amp.active or narrow_on_cpu(query)):
            fast = self._fast_path_16_bit(
                query, key, value, key_padding_mask, attn_mask, need_weights, average_attn_weights
            )
            if fast is not None:
                return fast
        # PyTorch's fast path (bool masks: it refuses float ones) gives NaN for a query whose every key is
        # masked, as the weights' path does
        float_mask = any(m is not None and m.dtype.is_floating_point for m in (key_padding_mask, attn_mask))
        weights_path = need_weights or masked and not float_mask and self._takes_fast_path(query, key, value)
        if weights_path and not need_weights:  # the fast path's kernel takes the masks as SDPA does
            key_padding_mask, attn_mask = (_fast_path_mask(m, query) for m in (key_padding_mask, attn_mask))
        if self.batch_first and batched:  # one tensor stays one (self-attention projects it at once)
            key_t = key.transpose(1, 0)
            value_t = key_t if value is key else value.transpose(1, 0)
            query = key_t if query is key else query.transpose(1, 0)
            key, value = key_t, value_t
        out, weights = F.multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=weights_path,
            attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights if need_weights else None
