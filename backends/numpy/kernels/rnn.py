"""NumPy overrides of the rnn kernels (to be filled)."""

from __future__ import annotations

__all__ = ["NumpyRnnKernels"]


class NumpyRnnKernels:
    """Faster NumPy versions of portable rnn kernels."""
