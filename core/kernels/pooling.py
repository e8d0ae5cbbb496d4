"""Portable pooling kernels (to be filled)."""

from __future__ import annotations

__all__ = ["PoolingKernels"]


class PoolingKernels:
    """Portable default pooling kernels, written against ``self.xp`` only."""
