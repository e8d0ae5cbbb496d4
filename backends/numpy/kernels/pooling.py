"""NumPy overrides of the pooling kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NumpyPoolingKernels"]


class NumpyPoolingKernels:
    """Faster NumPy versions of portable pooling kernels."""
