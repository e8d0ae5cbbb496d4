"""Portable normalization kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NormalizationKernels"]


class NormalizationKernels:
    """Portable default normalization kernels, written against ``self.xp`` only."""
