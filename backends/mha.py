"""``ember.backends.mha``: PyTorch's ``torch.backends.mha``, the switch of the inference fast path
of :class:`~ember.nn.MultiheadAttention` and :class:`~ember.nn.TransformerEncoder`.

ember has no separate fused kernel, but the fast path's results differ where PyTorch's do: a query
whose every key is masked gives NaN, and the encoder's padded positions come out as zeros. With
the switch off, both follow the ordinary path, as in PyTorch.

Example::

    >>> import ember.backends.mha
    >>> ember.backends.mha.get_fastpath_enabled()
    True
    >>> ember.backends.mha.set_fastpath_enabled(False)
    >>> ember.backends.mha.get_fastpath_enabled()
    False
    >>> ember.backends.mha.set_fastpath_enabled(True)
"""

from __future__ import annotations

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]

_is_fastpath_enabled: bool = True


def get_fastpath_enabled() -> bool:
    """Whether the inference fast path of multi-head attention and the encoder is on."""
    return _is_fastpath_enabled


def set_fastpath_enabled(value: bool) -> None:
    """Switch the inference fast path of multi-head attention and the encoder on or off."""
    global _is_fastpath_enabled
    _is_fastpath_enabled = value
