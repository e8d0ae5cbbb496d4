"""Compiled loops (Numba) for the NumPy backend's ReLU, bfloat16 casts, fused multiply-adds, normalization (batch, layer, group, instance),
max-pooling and cross-entropy kernels and the ``cpu`` generator's samplers;
:mod:`.runtime` says how they load and run."""

from .runtime import get, launch, serial, takes, takes_bfloat16, takes_elementwise

__all__ = ["get", "launch", "serial", "takes", "takes_bfloat16", "takes_elementwise"]
