"""NumPy overrides of the vision kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NumpyVisionKernels"]


class NumpyVisionKernels:
    """Faster NumPy versions of portable vision kernels."""
