"""NumPy overrides of the normalization kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NumpyNormalizationKernels"]


class NumpyNormalizationKernels:
    """Faster NumPy versions of portable normalization kernels."""
