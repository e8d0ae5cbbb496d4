"""``ember.backends.cuda``: PyTorch's ``torch.backends.cuda`` flags for the backend serving ``cuda``.

The flags steer the CuPy backend's matrix products: with ``matmul.allow_tf32`` on, float32
products run on TF32 tensor cores (cuBLAS's ``CUBLAS_COMPUTE_32F_FAST_TF32``), otherwise in
strict float32, as in PyTorch (default: off). Setting a flag takes effect for the products
launched after it; nothing here imports CuPy.

Example::

    >>> import ember.backends.cuda
    >>> ember.backends.cuda.matmul.allow_tf32
    False
    >>> ember.backends.cuda.matmul.fp32_precision = "tf32"
    >>> ember.backends.cuda.matmul.allow_tf32
    True
    >>> ember.backends.cuda.matmul.allow_tf32 = False
"""

from __future__ import annotations

import importlib.util

__all__ = ["matmul", "is_built"]

_PRECISIONS = ("ieee", "tf32", "none")


class _MatmulFlags:
    """``ember.backends.cuda.matmul``: precision of float32 matrix products on CUDA devices."""

    __slots__ = ("_allow_tf32", "_listeners")

    def __init__(self):
        self._allow_tf32 = False
        self._listeners = []

    @property
    def allow_tf32(self):
        """Whether float32 matrix products may use TF32 tensor cores. Default: ``False``."""
        return self._allow_tf32

    @allow_tf32.setter
    def allow_tf32(self, value):
        self._allow_tf32 = bool(value)
        for listener in self._listeners:
            listener()

    @property
    def fp32_precision(self):
        """PyTorch's newer spelling of :attr:`allow_tf32`: ``'tf32'`` or ``'ieee'``."""
        return "tf32" if self._allow_tf32 else "ieee"

    @fp32_precision.setter
    def fp32_precision(self, value):
        if value not in _PRECISIONS:
            raise ValueError(f"fp32_precision must be one of {list(_PRECISIONS)}, got {value!r}")
        self.allow_tf32 = value == "tf32"

    def _subscribe(self, listener):
        """Call ``listener()`` now and after every change (a backend applying the flag to its library)."""
        self._listeners.append(listener)
        listener()


matmul = _MatmulFlags()


def is_built():
    """True when the library of ember's CUDA backend (CuPy) is installed; says nothing about a GPU."""
    return importlib.util.find_spec("cupy") is not None
