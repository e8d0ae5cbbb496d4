"""``ember.cuda``'s memory functions: what tensors and the allocator hold on a CUDA device, and
their peaks (see :mod:`ember.device_memory` for how the peaks are kept).

Without CUDA the statistics are zero and :func:`empty_cache` does nothing, as in PyTorch before
CUDA starts; :func:`mem_get_info` needs a device.
"""

from __future__ import annotations

import warnings

from .. import device_memory
from ..device import device as _device
from .availability import backend as _backend
from .availability import is_available
from .current import index_of

__all__ = [
    "memory_allocated",
    "max_memory_allocated",
    "memory_reserved",
    "max_memory_reserved",
    "memory_stats",
    "memory_summary",
    "reset_peak_memory_stats",
    "reset_max_memory_allocated",
    "mem_get_info",
    "empty_cache",
]


def memory_stats(device: _device | str | int | None = None) -> dict[str, int]:
    """The memory statistics of a CUDA device under PyTorch's keys:
    ``allocated_bytes.all.current``/``.peak`` and ``reserved_bytes.all.current``/``.peak``
    (empty without CUDA).

    Args:
        device (ember.device or int, optional): the device. Default: the current device

    Example::

        >>> stats = ember.cuda.memory_stats()
        >>> stats == {} or stats["allocated_bytes.all.peak"] >= stats["allocated_bytes.all.current"]
        True
    """
    if not is_available():
        return {}
    return device_memory.stats(_backend(), index_of(device))


def memory_allocated(device: _device | str | int | None = None) -> int:
    """Bytes held by tensors on a CUDA device (0 without CUDA).

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return memory_stats(device).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device: _device | str | int | None = None) -> int:
    """The peak of :func:`memory_allocated` since the start or :func:`reset_peak_memory_stats`.

    CuPy's memory pool keeps no peak: on the CuPy backend it is the largest value observed by
    these functions, :func:`ember.cuda.synchronize` and :func:`empty_cache`.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return memory_stats(device).get("allocated_bytes.all.peak", 0)


def memory_reserved(device: _device | str | int | None = None) -> int:
    """Bytes held by the allocator on a CUDA device, cached blocks included (0 without CUDA).

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return memory_stats(device).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device: _device | str | int | None = None) -> int:
    """The peak of :func:`memory_reserved` since the start or :func:`reset_peak_memory_stats`.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return memory_stats(device).get("reserved_bytes.all.peak", 0)


def reset_peak_memory_stats(device: _device | str | int | None = None) -> None:
    """Start the peaks of :func:`max_memory_allocated` and :func:`max_memory_reserved` afresh.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    if is_available():
        device_memory.reset_peaks(_backend(), index_of(device))


def reset_max_memory_allocated(device: _device | str | int | None = None) -> None:
    """:func:`reset_peak_memory_stats`, under its older name (with PyTorch's FutureWarning)."""
    warnings.warn(
        "ember.cuda.reset_max_memory_allocated now calls ember.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.",
        FutureWarning,
        stacklevel=2,
    )
    reset_peak_memory_stats(device)


def memory_summary(device: _device | str | int | None = None, abbreviated: bool = False) -> str:
    """A printable table of :func:`memory_stats` for a CUDA device.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
        abbreviated (bool): accepted for PyTorch compatibility (the table is always short).
    """
    if not is_available():
        return "No CUDA device: no memory statistics.\n"
    return device_memory.summary(_backend(), index_of(device))


def mem_get_info(device: _device | str | int | None = None) -> tuple[int, int]:
    """``(free, total)`` bytes of a CUDA device, as the driver reports them (``cudaMemGetInfo``).

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return _backend().memory_info(index_of(device))


def empty_cache() -> None:
    """Return the allocator's cached, unused blocks to the driver (nothing without CUDA)."""
    if is_available():
        device_memory.empty_cache(_backend(), None)
