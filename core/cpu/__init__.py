"""``ember.cpu``: the CPU device type's module, as PyTorch spells it (``ember.cpu.amp``)."""

from . import amp

__all__ = ["amp"]
