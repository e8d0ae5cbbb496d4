"""Compiled loops (Numba) for the NumPy backend's element-wise, normalization and pooling kernels."""

from .runtime import get, launch, takes

__all__ = ["get", "launch", "takes"]
