"""NumPy overrides of the portable NN kernels, where they measurably pay."""

from __future__ import annotations

from ember.kernels import Kernels

__all__ = ["NumpyKernels"]


class NumpyKernels(Kernels):
    """The kernel table of the NumPy backend."""
