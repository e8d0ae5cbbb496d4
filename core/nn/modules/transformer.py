"""Transformer layers: ``nn.Transformer``, its encoder and decoder stacks and their layers.

The attribute names (``self_attn``, ``linear1``, ``norm1``, ``layers.0`` ...) are PyTorch's, so
that a PyTorch Transformer's ``state_dict`` loads unchanged.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any, cast

from ... import dtypes
from ...amp import is_autocast_enabled
from ...amp.state import state as _amp
from ...autograd.grad_mode import grad_state
from ...ops.creation import full
from ...ops.matrix import triu
from ...ops.reduced_precision import narrow_on_cpu
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..common_types import _device_t, _dtype_t
from ..functional.attention import _float_mask
from .attention import MultiheadAttention, _fastpath_enabled
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = [
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """A float ``(sz, sz)`` mask: ``-inf`` above the diagonal (future positions), 0 elsewhere."""
    return triu(full((sz, sz), float("-inf"), device=device, dtype=dtype or dtypes.get_default_dtype()), diagonal=1)


def _activation(activation):
    """``activation`` as a callable: ``"relu"``/``"gelu"`` name PyTorch's two choices."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _relu_or_gelu(activation):
    """Whether ``activation`` is ReLU or GELU (function or module), the activations of PyTorch's fused layer."""
    from .activation import GELU, ReLU

    return activation in (F.relu, F.gelu) or isinstance(activation, (ReLU, GELU))


def _why_no_nested_tensor(layer):
    """Why PyTorch's encoder stack would not pack its input into a nested tensor (``''``: it would)."""
    name = "encoder_layer"
    attn = getattr(layer, "self_attn", None)
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not attn.batch_first:
        return f"{name}.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if not attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not _relu_or_gelu(layer.activation):
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


def _bool_mask(mask):
    """A float ``mask`` of zeros and ``-inf`` (a bool mask made float, as the encoder hands its layers) as
    the bool mask it was, which PyTorch's fused layer reads as ``mask != 0``; another float mask unchanged
    (the layer then takes its slow path: for one holding other values PyTorch's kernel masks every
    nonzero position, pytorch/pytorch#118628)."""
    if mask is None or mask.dtype is dtypes.bool or not mask.dtype.is_floating_point:
        return mask
    masked = mask != 0
    return masked if bool((masked <= (mask == float("-inf"))).all()) else mask


def _bool_masks(*masks):
    """``masks`` each as :func:`_bool_mask` makes it, where each becomes bool (or is None); else unchanged
    (one kind of mask for the attention, which would warn of mixed ones)."""
    converted = tuple(_bool_mask(m) for m in masks)
    return converted if all(m is None or m.dtype is dtypes.bool for m in converted) else masks


def _left_aligned(padding_mask):
    """Whether each row of ``padding_mask`` (True or nonzero: padding) pads only at its end."""
    pad = padding_mask if padding_mask.dtype is dtypes.bool else padding_mask != 0
    return not bool(pad[..., :-1].logical_and(pad[..., 1:].logical_not()).any())


def _seq_len(src, batch_first):
    """The sequence length of a batched ``(L, N, E)``/``(N, L, E)`` or unbatched ``(L, E)`` input."""
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """``is_causal`` if given, else whether ``mask`` is the square subsequent mask of ``size``."""
    if is_causal is None and mask is not None:
        size = mask.shape[-2] if size is None else size
        causal = _generate_square_subsequent_mask(size, device=mask.device, dtype=mask.dtype)
        return tuple(mask.shape) == tuple(causal.shape) and bool((mask == causal).all())
    return is_causal is True


def _get_seq_len(src, batch_first):
    """PyTorch's ``_get_seq_len``: the sequence length of ``src`` (None for a nested tensor)."""
    return None if getattr(src, "is_nested", False) else _seq_len(src, batch_first)


def _get_activation_fn(activation):
    """PyTorch's ``_get_activation_fn``: ``F.relu`` or ``F.gelu`` by name."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _canonical_masks(padding_mask, padding_name, mask, mask_name, like):
    """The encoder's masks as float masks (``-inf`` where a bool mask is True), as PyTorch's encoder
    makes them on entry, warning under their names when their dtypes differ (the attention then sees
    two float masks and does not warn again)."""
    if padding_mask is not None and mask is not None and padding_mask.dtype is not mask.dtype:
        warnings.warn(
            f"Support for mismatched {padding_name} and {mask_name} is deprecated. Use same type for both instead.",
            stacklevel=3,
        )
    return _float_mask(padding_mask, padding_name, like), _float_mask(mask, mask_name, like)


class _LayerBase(Module):
    """What the encoder and decoder layers share: their construction (PyTorch's attribute names),
    the feed-forward and self-attention blocks. ``_attentions`` is 1 for self-attention alone,
    2 with the decoder's attention over ``memory`` (``multihead_attn``); each attention block and
    the feed-forward block has its ``normN``/``dropoutN``."""

    __constants__ = ["norm_first"]
    _attentions = 1

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, **factory}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if self._attentions == 2:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        blocks = range(1, self._attentions + 2)
        for i in blocks:
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for i in blocks:
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)  # last, as PyTorch registers an activation module

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "activation"):
            self.activation = F.relu

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal, need_weights=False
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_LayerBase):
    r"""A Transformer encoder layer: self-attention and a feed-forward network, each with a
    residual connection and layer normalization ("Attention Is All You Need").

    Args:
        d_model (int): number of expected features in the input.
        nhead (int): number of attention heads.
        dim_feedforward (int): width of the feed-forward network. Default: 2048
        dropout (float): dropout probability. Default: 0.1
        activation (str or Callable): ``"relu"``, ``"gelu"`` or a unary callable. Default: relu
        layer_norm_eps (float): eps of the layer normalizations. Default: 1e-5
        batch_first (bool): inputs and outputs are :math:`(N, S, E)`. Default: ``False``
        norm_first (bool): normalize before attention and feed-forward (pre-norm) rather
            than after. Default: ``False``
        bias (bool): biases in the linear layers and layer normalizations. Default: ``True``

    Shape:
        - src: :math:`(S, E)`, :math:`(S, N, E)` or :math:`(N, S, E)` (``batch_first``).
        - Output: same shape as src.

    Examples::

        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(ember.randn(2, 7, 16)).shape
        ember.Size([2, 7, 16])
    """

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """Pass the input through the layer (masks as in :class:`Transformer`)."""
        src_key_padding_mask, src_mask = _canonical_masks(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src
        )
        if src.ndim == 3 and self._takes_fast_path(src):  # PyTorch's fused layer reads the masks as bool
            src_key_padding_mask, src_mask = _bool_masks(src_key_padding_mask, src_mask)
            if _amp.active or narrow_on_cpu(src):
                fast = self._fast_path_16_bit(src, src_mask, src_key_padding_mask, is_causal)
                if fast is not None:
                    return fast
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x

    def _takes_fast_path(self, src: Tensor) -> bool:
        """Whether PyTorch would run this layer on its fused inference kernel
        (``_transformer_encoder_layer_fwd``): batched ``batch_first`` input in evaluation, without
        autograd, hooks or cuda autocast, packed attention projections with biases, an even head count,
        ReLU or GELU, one eps for both layer normalizations."""
        attn = self.self_attn
        if not attn._takes_fast_path(src, src, src, same_dtype=False) or not _relu_or_gelu(self.activation):
            return False
        if self.norm1.eps != self.norm2.eps or any(m._forward_hooks or m._forward_pre_hooks for m in self.modules()):
            return False
        parameters = (*self.norm1.parameters(), *self.norm2.parameters())
        parameters += (*self.linear1.parameters(), *self.linear2.parameters())
        return not (grad_state.enabled and any(p.requires_grad for p in parameters))

    def _fast_path_16_bit(
        self,
        src: Tensor,
        src_mask: Tensor | None,
        src_key_padding_mask: Tensor | None,
        is_causal: bool,
        nested: bool = False,
    ) -> Tensor | None:
        """The layer as PyTorch's inference kernel runs it where its attention is 16-bit (16-bit
        inputs, or float32 ones in a cpu autocast region): each residual is added into the output of
        its block, in that output's type, so that in a region the layer's output is the region's type
        where its slow path gives float32. None where PyTorch would not run the kernel, or where the
        attention takes float masks (the kernel reads them as bool: ``mask != 0``). ``nested``: the
        encoder's call on its nested tensor (``src_key_padding_mask`` its padding)."""
        if (is_causal and src_mask is None) or not self._takes_fast_path(src):
            return None
        x = self.norm1(src) if self.norm_first else src
        src_key_padding_mask, src_mask = _bool_masks(src_key_padding_mask, src_mask)
        attention = self.self_attn._fast_path_16_bit(
            x, x, x, src_key_padding_mask, src_mask, False, True, same_dtype=False, nested=nested
        )
        if attention is None:
            return None
        x = attention[0].add_(src)
        if not self.norm_first:
            x = self.norm1(x)
        out = self.linear2(self.activation(self.linear1(self.norm2(x) if self.norm_first else x))).add_(x)
        return out if self.norm_first else self.norm2(out)


class TransformerDecoderLayer(_LayerBase):
    r"""A Transformer decoder layer: self-attention, attention over the encoder's output
    (``memory``) and a feed-forward network, each with a residual connection and layer normalization.

    Args:
        d_model (int): number of expected features in the input.
        nhead (int): number of attention heads.
        dim_feedforward (int): width of the feed-forward network. Default: 2048
        dropout (float): dropout probability. Default: 0.1
        activation (str or Callable): ``"relu"``, ``"gelu"`` or a unary callable. Default: relu
        layer_norm_eps (float): eps of the layer normalizations. Default: 1e-5
        batch_first (bool): inputs and outputs are :math:`(N, T, E)`. Default: ``False``
        norm_first (bool): pre-norm rather than post-norm. Default: ``False``
        bias (bool): biases in the linear layers and layer normalizations. Default: ``True``

    Shape:
        - tgt: :math:`(T, E)`, :math:`(T, N, E)` or :math:`(N, T, E)`; memory likewise with :math:`S`.
        - Output: same shape as tgt.

    Examples::

        >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> layer(ember.randn(5, 2, 16), ember.randn(7, 2, 16)).shape
        ember.Size([5, 2, 16])
    """

    _attentions = 2

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Pass the inputs (and masks, as in :class:`Transformer`) through the layer."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(
            x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal, need_weights=False
        )[0]
        return self.dropout2(x)


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


_get_clones = _clones  # PyTorch's name


class TransformerEncoder(Module):
    r"""A stack of ``num_layers`` copies of ``encoder_layer``.

    Args:
        encoder_layer (TransformerEncoderLayer): the layer to copy.
        num_layers (int): number of layers.
        norm (Module, optional): a final normalization. Default: ``None``
        enable_nested_tensor (bool): as PyTorch's fast path, which packs the sequences into a nested
            tensor: in evaluation without autograd, a batched input with ``src_key_padding_mask`` (padding
            at the ends) and no ``mask`` gives 0 at the padded positions (before ``norm``). Needs a
            ``TransformerEncoderLayer`` with ``batch_first``, post-norm, biases, ReLU or GELU, equal
            norm eps and an even head count (else a warning, and the padded positions are computed).
            Default: ``True``
        mask_check (bool): check that the padding is at the ends of the sequences. Default: ``True``

    Examples::

        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
        >>> encoder(ember.randn(7, 2, 16)).shape
        ember.Size([7, 2, 16])
    """

    __constants__ = ["norm"]

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(
                f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}", stacklevel=2
            )
            self.use_nested_tensor = False

    def _zeroes_padding(self, src, mask, src_key_padding_mask):
        """Whether PyTorch would run this call on a nested tensor (its padded positions then come out 0)."""
        first = self.layers[0]
        if not _fastpath_enabled() or not getattr(self, "use_nested_tensor", False) or first.training or src.ndim != 3:
            return False
        if src_key_padding_mask is None or mask is not None or is_autocast_enabled():
            return False
        if getattr(self, "mask_check", True) and not _left_aligned(src_key_padding_mask):
            return False
        attn = first.self_attn
        weights = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias)
        weights += tuple(p for m in (first.norm1, first.norm2, first.linear1, first.linear2) for p in m.parameters())
        return not (grad_state.enabled and any(t.requires_grad for t in weights))

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Pass the input through the layers in turn (masks as in :class:`Transformer`)."""
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        padding, attn_mask = _canonical_masks(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src)
        output = src
        nested = self._zeroes_padding(src, mask, src_key_padding_mask)
        for layer in self.layers:
            fast = None
            if nested and (_amp.active or narrow_on_cpu(output)):  # the layer's kernel on the nested sequences
                fast = layer._fast_path_16_bit(output, None, padding, is_causal, nested=True)
            if fast is None:
                fast = layer(output, src_mask=attn_mask, is_causal=is_causal, src_key_padding_mask=padding)
            output = fast
        if nested:
            # PyTorch's nested tensor holds the unpadded tokens only: padded back with zeros
            given = cast(Tensor, src_key_padding_mask)  # _zeroes_padding holds only with a mask
            pad = given if given.dtype is dtypes.bool else given != 0
            output = output.masked_fill(pad.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    r"""A stack of ``num_layers`` copies of ``decoder_layer``.

    Args:
        decoder_layer (TransformerDecoderLayer): the layer to copy.
        num_layers (int): number of layers.
        norm (Module, optional): a final normalization. Default: ``None``

    Examples::

        >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> decoder = nn.TransformerDecoder(layer, num_layers=2)
        >>> decoder(ember.randn(5, 2, 16), ember.randn(7, 2, 16)).shape
        ember.Size([5, 2, 16])
    """

    __constants__ = ["norm"]

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Pass the inputs (and masks, as in :class:`Transformer`) through the layers in turn."""
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    r"""A Transformer: an encoder stack and a decoder stack ("Attention Is All You Need").

    Args:
        d_model (int): number of features of the encoder/decoder inputs. Default: 512
        nhead (int): number of attention heads. Default: 8
        num_encoder_layers (int): encoder layers. Default: 6
        num_decoder_layers (int): decoder layers. Default: 6
        dim_feedforward (int): width of the feed-forward networks. Default: 2048
        dropout (float): dropout probability. Default: 0.1
        activation (str or Callable): ``"relu"``, ``"gelu"`` or a unary callable. Default: relu
        custom_encoder, custom_decoder (Module, optional): used instead of the built stacks.
        layer_norm_eps (float): eps of the layer normalizations. Default: 1e-5
        batch_first (bool): inputs and outputs are :math:`(N, S, E)`. Default: ``False``
        norm_first (bool): pre-norm layers. Default: ``False``
        bias (bool): biases in the linear layers and layer normalizations. Default: ``True``

    Shape:
        - ``src``: :math:`(S, E)`, :math:`(S, N, E)` or :math:`(N, S, E)`; ``tgt``: the same with
          :math:`T` target positions in place of the :math:`S` source positions.
        - ``src_mask``: :math:`(S, S)` or :math:`(N \cdot \text{nhead}, S, S)`; ``tgt_mask``:
          :math:`(T, T)` or :math:`(N \cdot \text{nhead}, T, T)`; ``memory_mask``: :math:`(T, S)`.
          A bool mask marks with True the positions not allowed to attend; a float mask is added
          to the scores.
        - ``src_key_padding_mask``: :math:`(N, S)`; ``tgt_key_padding_mask``: :math:`(N, T)`;
          ``memory_key_padding_mask``: :math:`(N, S)` (True ignores a position).
        - Output: like tgt, :math:`(T, N, E)` or :math:`(N, T, E)`.

    Examples::

        >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
        ...                        dim_feedforward=32)
        >>> src, tgt = ember.randn(10, 2, 16), ember.randn(6, 2, 16)
        >>> model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(6)).shape
        ember.Size([6, 2, 16])
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        layer_args = (
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **factory),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory),
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **factory),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory),
            )
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src``, then decode ``tgt`` against it (masks: see the class docstring)."""
        batched = src.ndim == 3
        if batched and src.shape[0 if self.batch_first else 1] != tgt.shape[0 if self.batch_first else 1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        r"""A square causal mask for a sequence of ``sz``: ``-inf`` above the diagonal, 0 elsewhere.

        Examples::

            >>> nn.Transformer.generate_square_subsequent_mask(3)
            tensor([[0., -inf, -inf],
                    [0., 0., -inf],
                    [0., 0., 0.]])
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
