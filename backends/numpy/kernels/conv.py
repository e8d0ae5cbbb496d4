"""NumPy overrides of the conv kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NumpyConvKernels"]


class NumpyConvKernels:
    """Faster NumPy versions of portable conv kernels."""
