"""Portable conv kernels (to be filled)."""

from __future__ import annotations

__all__ = ["ConvKernels"]


class ConvKernels:
    """Portable default conv kernels, written against ``self.xp`` only."""
