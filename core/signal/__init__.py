"""``ember.signal``: signal processing as ``torch.signal`` has it, :mod:`ember.signal.windows`."""

from . import windows

__all__ = ["windows"]
