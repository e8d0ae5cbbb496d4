"""``ember.cuda``'s memory functions: what tensors and the allocator hold on a CUDA device, and
their peaks (see :mod:`ember.device_memory` for how the peaks are kept).

Without CUDA the statistics are zero and :func:`empty_cache` does nothing, as in PyTorch before
CUDA starts; :func:`mem_get_info` needs a device.
"""

from __future__ import annotations

import warnings
from typing import Any

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
    "memory_cached",
    "max_memory_cached",
    "reset_max_memory_cached",
    "reset_accumulated_memory_stats",
    "memory_stats_as_nested_dict",
    "set_per_process_memory_fraction",
    "get_per_process_memory_fraction",
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


def memory_cached(device: _device | str | int | None = None) -> int:
    """:func:`memory_reserved`, under its older name (with PyTorch's FutureWarning)."""
    warnings.warn(
        "ember.cuda.memory_cached has been renamed to ember.cuda.memory_reserved", FutureWarning, stacklevel=2
    )
    return memory_reserved(device)


def max_memory_cached(device: _device | str | int | None = None) -> int:
    """:func:`max_memory_reserved`, under its older name (with PyTorch's FutureWarning)."""
    warnings.warn(
        "ember.cuda.max_memory_cached has been renamed to ember.cuda.max_memory_reserved", FutureWarning, stacklevel=2
    )
    return max_memory_reserved(device)


def reset_max_memory_cached(device: _device | str | int | None = None) -> None:
    """:func:`reset_peak_memory_stats`, under its older name (with PyTorch's FutureWarning)."""
    warnings.warn(
        "ember.cuda.reset_max_memory_cached now calls ember.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.",
        FutureWarning,
        stacklevel=2,
    )
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device: _device | str | int | None = None) -> None:
    """Start the accumulated counts of :func:`memory_stats` afresh.

    ember keeps only current values and peaks (no allocation counts that accumulate), so
    there is nothing to reset.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """


def memory_stats_as_nested_dict(device: _device | str | int | None = None) -> dict[str, Any]:
    """:func:`memory_stats` with its dotted keys as nested dictionaries
    (``{"allocated_bytes": {"all": {"current": ..., "peak": ...}}, ...}``).

    Args:
        device (ember.device or int, optional): the device. Default: the current device

    Example::

        >>> nested = ember.cuda.memory_stats_as_nested_dict()
        >>> nested == {} or "current" in nested["allocated_bytes"]["all"]
        True
    """
    nested: dict[str, Any] = {}
    for key, value in memory_stats(device).items():
        *path, leaf = key.split(".")
        level = nested
        for part in path:
            level = level.setdefault(part, {})
        level[leaf] = value
    return nested


def set_per_process_memory_fraction(fraction: float, device: _device | str | int | None = None) -> None:
    """Cap what the allocator may hold on a CUDA device at ``fraction`` of its memory; an
    allocation beyond the cap raises an out-of-memory error.

    Args:
        fraction (float): the cap, between 0 and 1.
        device (ember.device or int, optional): the device. Default: the current device
    """
    backend = _backend()
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    backend.set_memory_fraction(index_of(device), fraction)


def get_per_process_memory_fraction(device: _device | str | int | None = None) -> float:
    """The cap :func:`set_per_process_memory_fraction` set on a CUDA device (1.0 when none was set).

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    return _backend().memory_fraction(index_of(device))


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
