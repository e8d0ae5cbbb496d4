"""Portable loss kernels (to be filled)."""

from __future__ import annotations

__all__ = ["LossKernels"]


class LossKernels:
    """Portable default loss kernels, written against ``self.xp`` only."""
