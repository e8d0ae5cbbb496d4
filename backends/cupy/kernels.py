"""CuPy overrides of the portable NN kernels: fused element-wise kernels, cuDNN convolution."""

from __future__ import annotations

from ember.kernels import Kernels

__all__ = ["CupyKernels"]


class CupyKernels(Kernels):
    """The kernel table of the CuPy backend."""
