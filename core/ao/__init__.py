"""``ember.ao``: PyTorch's ``torch.ao`` namespace (architecture optimization); ember has its quantization
building blocks for quantization-aware training, :mod:`ember.ao.quantization`, and its layers,
:mod:`ember.ao.nn.qat`."""

from __future__ import annotations

from . import nn, quantization

__all__ = ["nn", "quantization"]
