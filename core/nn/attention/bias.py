"""``ember.nn.attention.bias``: PyTorch's causal biases for
:func:`ember.nn.functional.scaled_dot_product_attention`, which say how a causal mask is aligned
when the query and key lengths differ.

Example::

    >>> from ember.nn.attention.bias import causal_lower_right
    >>> q, kv = ember.randn(1, 2, 2, 8), ember.randn(1, 2, 4, 8)
    >>> bias = causal_lower_right(2, 4)
    >>> bias
    tensor([[ True,  True,  True, False],
            [ True,  True,  True,  True]])
    >>> out = F.scaled_dot_product_attention(q, kv, kv, attn_mask=bias)
    >>> bool(ember.allclose(out, F.scaled_dot_product_attention(q, kv, kv, attn_mask=bias._materialize())))
    True
"""

from __future__ import annotations

import enum
import warnings
from typing import Any

from ... import dtypes
from ...ops.creation import ones
from ...ops.matrix import tril
from ...tensor import Tensor

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """How a causal mask of shape :math:`(L, S)` is aligned: ``UPPER_LEFT`` keeps the pairs with
    ``kv_idx <= q_idx`` (``is_causal=True``), ``LOWER_RIGHT`` those with
    ``kv_idx <= q_idx + S - L`` (the last query sees every key). They agree when :math:`L = S`."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal attention mask that :func:`~ember.nn.functional.scaled_dot_product_attention` takes
    as its ``attn_mask``; build it with :func:`causal_upper_left` or :func:`causal_lower_right`.

    Args:
        variant (CausalVariant): the alignment.
        seq_len_q (int): the query length :math:`L`.
        seq_len_kv (int): the key/value length :math:`S`.
    """

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn(
                "Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!", stacklevel=2
            )

    def _upper_left(self, device: Any) -> Tensor:
        return tril(ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=dtypes.bool))

    def _lower_right(self, device: Any) -> Tensor:
        mask = ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=dtypes.bool)
        return tril(mask, diagonal=self.seq_len_kv - self.seq_len_q)

    def _materialize(self, device: Any = None) -> Tensor:
        """The bool mask :math:`(L, S)` (True: the pair takes part in attention), on ``device``
        (default: the CPU)."""
        device = "cpu" if device is None else device
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        return self._lower_right(device)

    def _attention_mask(self, device: Any, is_causal: bool) -> tuple[Tensor | None, bool]:
        """``(attn_mask, is_causal)`` for scaled dot-product attention: the causal flag where the
        mask is the top-left one, else the materialized mask."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT:
            return None, True
        return self._materialize(device), False

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size: int) -> CausalBias:
    """The causal bias aligned to the upper-left corner (``is_causal=True``).

    Args:
        size: :math:`(L, S)`, the query and key/value lengths.

    Examples::

        >>> from ember.nn.attention.bias import causal_upper_left
        >>> causal_upper_left(2, 3)
        tensor([[ True, False, False],
                [ True,  True, False]])
    """
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, size[0], size[1])


def causal_lower_right(*size: int) -> CausalBias:
    """The causal bias aligned to the lower-right corner: the last query sees every key.

    Args:
        size: :math:`(L, S)`, the query and key/value lengths.

    Examples::

        >>> from ember.nn.attention.bias import causal_lower_right
        >>> causal_lower_right(2, 3)
        tensor([[ True,  True, False],
                [ True,  True,  True]])
    """
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, size[0], size[1])
