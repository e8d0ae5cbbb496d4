"""Portable embedding kernels (to be filled)."""

from __future__ import annotations

__all__ = ["EmbeddingKernels"]


class EmbeddingKernels:
    """Portable default embedding kernels, written against ``self.xp`` only."""
