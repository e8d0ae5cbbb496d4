"""Portable rnn kernels (to be filled)."""

from __future__ import annotations

__all__ = ["RnnKernels"]


class RnnKernels:
    """Portable default rnn kernels, written against ``self.xp`` only."""
