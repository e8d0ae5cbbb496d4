"""Compiled loops (Numba) for the NumPy backend's element-wise, normalization and pooling kernels."""

from .runtime import get, launch, takes, takes_elementwise

__all__ = ["get", "launch", "takes", "takes_elementwise"]
