"""Portable vision kernels (to be filled)."""

from __future__ import annotations

__all__ = ["VisionKernels"]


class VisionKernels:
    """Portable default vision kernels, written against ``self.xp`` only."""
