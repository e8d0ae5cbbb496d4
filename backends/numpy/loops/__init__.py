"""Compiled loops (Numba) for the NumPy backend's ReLU, normalization (batch, layer, group, instance),
max-pooling and cross-entropy kernels;
:mod:`.runtime` says how they load and run."""

from .runtime import get, launch, takes, takes_elementwise

__all__ = ["get", "launch", "takes", "takes_elementwise"]
