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

__all__ = [
    "matmul",
    "is_built",
    "enable_flash_sdp",
    "flash_sdp_enabled",
    "enable_mem_efficient_sdp",
    "mem_efficient_sdp_enabled",
    "enable_math_sdp",
    "math_sdp_enabled",
    "enable_cudnn_sdp",
    "cudnn_sdp_enabled",
]

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


# -- scaled dot-product attention kernels -------------------------------------------------------
# PyTorch chooses among several attention kernels and lets programs switch each off. ember's
# ``scaled_dot_product_attention`` has one implementation per backend, which computes what all
# of PyTorch's kernels compute; the switches are kept and reported, so that programs which set
# and query them run, and they do not change which kernel runs.
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _set_sdp(kind, enabled):
    if not isinstance(enabled, bool):
        raise RuntimeError(f"set_sdp_use_{kind} expects a bool, but got {type(enabled).__name__}")
    _sdp_enabled[kind] = enabled


def enable_flash_sdp(enabled):
    """Switch PyTorch's flash attention kernel on or off (recorded; see the note above). Default: on."""
    _set_sdp("flash", enabled)


def flash_sdp_enabled():
    """Whether the flash attention kernel is switched on (:func:`enable_flash_sdp`)."""
    return _sdp_enabled["flash"]


def enable_mem_efficient_sdp(enabled):
    """Switch PyTorch's memory-efficient attention kernel on or off (recorded). Default: on."""
    _set_sdp("mem_efficient", enabled)


def mem_efficient_sdp_enabled():
    """Whether the memory-efficient attention kernel is switched on (:func:`enable_mem_efficient_sdp`)."""
    return _sdp_enabled["mem_efficient"]


def enable_math_sdp(enabled):
    """Switch PyTorch's reference (math) attention kernel on or off (recorded). Default: on."""
    _set_sdp("math", enabled)


def math_sdp_enabled():
    """Whether the math attention kernel is switched on (:func:`enable_math_sdp`)."""
    return _sdp_enabled["math"]


def enable_cudnn_sdp(enabled):
    """Switch PyTorch's cuDNN attention kernel on or off (recorded). Default: on."""
    _set_sdp("cudnn", enabled)


def cudnn_sdp_enabled():
    """Whether the cuDNN attention kernel is switched on (:func:`enable_cudnn_sdp`)."""
    return _sdp_enabled["cudnn"]
