"""``ember.ao.nn``: the layers of PyTorch's ``torch.ao.nn`` that ember has — the quantization-aware
training layers of :mod:`ember.ao.nn.qat`."""

from __future__ import annotations

from . import qat

__all__ = ["qat"]
