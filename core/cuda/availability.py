"""Whether a backend serves the ``cuda`` device type: the probe that :mod:`ember.cuda` and the
mixed-precision classes (``autocast("cuda")``, ``GradScaler("cuda")``) share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import dtypes
from ..device import device as _device
from ..plugin.registry import BackendUnavailableError
from ..tensor import backend_for_device

if TYPE_CHECKING:
    from ..backend import Backend

__all__ = ["CudaUnavailableError", "backend", "is_available", "is_bf16_supported"]


class CudaUnavailableError(BackendUnavailableError):
    """No backend serves ``cuda``: what PyTorch's CPU build raises as ``AssertionError`` ("Torch not
    compiled with CUDA enabled") and its CUDA build, on a machine without a GPU, as ``RuntimeError``;
    either ``except`` catches it."""


def backend() -> Backend:
    """The backend serving ``cuda:0``; raises :class:`CudaUnavailableError` with the reason when none does."""
    try:
        return backend_for_device(_device("cuda", 0))
    except RuntimeError as exc:
        raise CudaUnavailableError(str(exc)) from None


def is_available() -> bool:
    """True when a backend serves ``cuda`` and sees at least one GPU.

    Example::

        >>> isinstance(ember.cuda.is_available(), bool)
        True
    """
    try:
        backend()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """True when the backend serving ``cuda`` holds :data:`ember.bfloat16` tensors.

    The CuPy backend holds it where CuPy computes with ``ml_dtypes``' bfloat16 (CuPy 14 and
    later); an older CuPy refuses the dtype (a TypeError naming the backend and the dtype) and
    this is False there. It is False without CUDA too.

    Args:
        including_emulation (bool): accepted for PyTorch compatibility. Default: ``True``

    Example::

        >>> ember.cuda.is_bf16_supported() in (True, False)
        True
    """
    if not is_available():
        return False
    try:
        backend().native_dtype(dtypes.bfloat16)
    except TypeError:
        return False
    return True
