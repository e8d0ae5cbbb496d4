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

import contextlib
import enum
import importlib.util
import warnings

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
    "sdp_kernel",
    "SDPAParams",
    "can_use_flash_attention",
    "can_use_efficient_attention",
    "can_use_cudnn_attention",
    "is_flash_attention_available",
    "allow_fp16_bf16_reduction_math_sdp",
    "fp16_bf16_reduction_math_sdp_allowed",
    "preferred_linalg_library",
    "preferred_blas_library",
    "cufft_plan_cache",
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
# ``scaled_dot_product_attention`` follows PyTorch's CPU choice between its flash kernel and its
# math path with these switches (their numbers and errors differ), and refuses where none is on.
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


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated form of :func:`ember.nn.attention.sdpa_kernel` (PyTorch's FutureWarning): inside the
    block, exactly the kernels whose argument is True are switched on.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     with ember.backends.cuda.sdp_kernel(enable_flash=False):
        ...         print(ember.backends.cuda.flash_sdp_enabled(), ember.backends.cuda.math_sdp_enabled())
        False True
    """
    warnings.warn(
        "`ember.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. "
        "Please see `ember.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    previous = dict(_sdp_enabled)
    chosen = {"flash": enable_flash, "mem_efficient": enable_mem_efficient, "math": enable_math, "cudnn": enable_cudnn}
    try:
        for kind, enabled in chosen.items():
            _sdp_enabled[kind] = bool(enabled)
        yield {}
    finally:
        _sdp_enabled.update(previous)


class SDPAParams:
    """The arguments of one scaled dot-product attention call, as PyTorch's ``can_use_*`` checks take them.

    Args:
        query, key, value (Tensor): the attention's operands.
        attn_mask (Tensor or None): its mask.
        dropout (float): its dropout probability.
        is_causal (bool): whether it is causal.
        enable_gqa (bool): whether grouped-query attention is on.
    """

    def __init__(self, query, key, value, attn_mask, dropout, is_causal, enable_gqa=False):
        self.query, self.key, self.value, self.attn_mask = query, key, value, attn_mask
        self.dropout, self.is_causal, self.enable_gqa = dropout, is_causal, enable_gqa


def _cannot_use(kernel, debug):
    if debug:
        warnings.warn(f"ember has no {kernel} kernel: its attention runs one implementation per backend", stacklevel=3)
    return False


def can_use_flash_attention(params, debug=False):
    """Whether PyTorch's flash attention kernel could serve ``params``: always False in ember (one
    attention implementation per backend); ``debug`` warns why.

    Example::

        >>> q = ember.ones(1, 2, 3, 4)
        >>> ember.backends.cuda.can_use_flash_attention(ember.backends.cuda.SDPAParams(q, q, q, None, 0.0, False))
        False
    """
    return _cannot_use("flash attention", debug)


def can_use_efficient_attention(params, debug=False):
    """Whether PyTorch's memory-efficient attention kernel could serve ``params``: always False in ember.

    Example::

        >>> q = ember.ones(1, 2, 3, 4)
        >>> ember.backends.cuda.can_use_efficient_attention(ember.backends.cuda.SDPAParams(q, q, q, None, 0.0, False))
        False
    """
    return _cannot_use("memory-efficient attention", debug)


def can_use_cudnn_attention(params, debug=False):
    """Whether PyTorch's cuDNN attention kernel could serve ``params``: always False in ember.

    Example::

        >>> q = ember.ones(1, 2, 3, 4)
        >>> ember.backends.cuda.can_use_cudnn_attention(ember.backends.cuda.SDPAParams(q, q, q, None, 0.0, False))
        False
    """
    return _cannot_use("cuDNN attention", debug)


def is_flash_attention_available():
    """Whether PyTorch's flash attention kernel is built in: False in ember.

    Example::

        >>> ember.backends.cuda.is_flash_attention_available()
        False
    """
    return False


_reduced_precision_math_sdp = {"allowed": False}


def allow_fp16_bf16_reduction_math_sdp(enabled):
    """Let the math attention kernel reduce 16-bit inputs in their own type (recorded, as the kernel
    switches are; ember's attention accumulates 16-bit inputs in float32). Default: off.

    Example::

        >>> ember.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
        False
    """
    if not isinstance(enabled, bool):
        raise RuntimeError(f"allow_fp16_bf16_reduction_math_sdp expects a bool, but got {type(enabled).__name__}")
    _reduced_precision_math_sdp["allowed"] = enabled


def fp16_bf16_reduction_math_sdp_allowed():
    """Whether :func:`allow_fp16_bf16_reduction_math_sdp` is on."""
    return _reduced_precision_math_sdp["allowed"]


class _LinalgBackend(enum.Enum):
    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(enum.Enum):
    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3


_preferred = {"linalg": _LinalgBackend.Default, "blas": _BlasBackend.Cublas}


def _prefer(kind, choices, backend):
    if backend is not None:
        if backend not in choices:
            raise RuntimeError(f"Unknown input value. Choose from: {', '.join(choices)}.")
        if not is_built():
            raise RuntimeError(f"Cannot set preferred backend to {backend} if ember has no CUDA backend (CuPy).")
        _preferred[kind] = choices[backend]
    return _preferred[kind]


def preferred_linalg_library(backend=None):
    """The library for CUDA linear algebra, as PyTorch names it (``'default'``, ``'cusolver'``, ``'magma'``);
    recorded and returned (ember's CuPy backend runs cuSOLVER). ``backend=None`` only reads it.

    Example::

        >>> ember.backends.cuda.preferred_linalg_library()
        <_LinalgBackend.Default: 0>
    """
    choices = {"default": _LinalgBackend.Default, "cusolver": _LinalgBackend.Cusolver, "magma": _LinalgBackend.Magma}
    return _prefer("linalg", choices, backend)


def preferred_blas_library(backend=None):
    """The library for CUDA matrix products, as PyTorch names it (``'cublas'``, ``'cublaslt'``, ``'ck'``);
    recorded and returned (ember's CuPy backend runs cuBLAS). ``backend=None`` only reads it.

    Example::

        >>> ember.backends.cuda.preferred_blas_library()
        <_BlasBackend.Cublas: 1>
    """
    choices = {"cublas": _BlasBackend.Cublas, "cublaslt": _BlasBackend.Cublaslt, "ck": _BlasBackend.Ck}
    return _prefer("blas", choices, backend)


class _FFTPlanCache:
    """PyTorch's cuFFT plan cache of one device: CuPy keeps its own plan cache, so this one stays empty;
    ``max_size`` is recorded."""

    def __init__(self):
        self.max_size = 4096

    @property
    def size(self):
        """How many plans the cache holds: 0."""
        return 0

    def clear(self):
        """Empty the cache (it is empty)."""


class _FFTPlanCaches:
    """``ember.backends.cuda.cufft_plan_cache``: the plan cache of each device (``cufft_plan_cache[i]``),
    whose attributes read and set the current device's."""

    def __init__(self):
        self._caches = {}

    def __getitem__(self, device):
        index = device if isinstance(device, int) else getattr(device, "index", None) or 0
        return self._caches.setdefault(index, _FFTPlanCache())

    def __getattr__(self, name):
        return getattr(self[0], name)

    def __setattr__(self, name, value):
        if name == "_caches":
            object.__setattr__(self, name, value)
        else:
            setattr(self[0], name, value)


cufft_plan_cache = _FFTPlanCaches()
