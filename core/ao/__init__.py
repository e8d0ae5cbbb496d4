"""``ember.ao``: PyTorch's ``torch.ao`` namespace (architecture optimization); ember has its quantization
building blocks for quantization-aware training, :mod:`ember.ao.quantization`."""

from __future__ import annotations

from . import quantization

__all__ = ["quantization"]
