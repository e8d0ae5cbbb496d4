"""Memory statistics of an accelerator device, in PyTorch's terms: the bytes *allocated* (held by
tensors) and *reserved* (held by the backend's allocator, cached blocks included), their current
values and their peaks since the last :func:`reset_peaks`.

:mod:`ember.cuda` and :mod:`ember.accelerator` both read the statistics here. A backend reports
the current values (:meth:`~ember.backend.Backend.memory_allocated`,
:meth:`~ember.backend.Backend.memory_reserved`) and, where its allocator keeps one, an exact peak
(:meth:`~ember.backend.Backend.max_memory_allocated`, the OpenCL backend's). Where it keeps none
(CuPy's memory pool) the peak is the largest value observed: by these functions, by
``synchronize`` and before ``empty_cache``. The reserved peak is exact wherever the allocator
only grows between ``empty_cache`` calls (CuPy's pool, the OpenCL backend's cache).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backend import Backend

__all__ = ["observe", "reset_peaks", "stats", "empty_cache", "summary"]

#: (device type, index) -> [peak allocated bytes, peak reserved bytes]
_peaks: dict[tuple[str, int], list[int]] = {}


def observe(backend: Backend, index: int) -> tuple[int, int, list[int]]:
    """``(allocated, reserved, peaks)`` of device ``index`` now, with ``peaks`` (``[allocated,
    reserved]``) raised to include them."""
    allocated = backend.memory_allocated(index)
    reserved = backend.memory_reserved(index)
    peaks = _peaks.setdefault((backend.device_type, index), [0, 0])
    peaks[0] = max(peaks[0], allocated, backend.max_memory_allocated(index))
    peaks[1] = max(peaks[1], reserved)
    return allocated, reserved, peaks


def reset_peaks(backend: Backend, index: int) -> None:
    """Start the peaks of device ``index`` afresh from the current values."""
    backend.reset_max_memory_allocated(index)
    _peaks.pop((backend.device_type, index), None)
    observe(backend, index)


def stats(backend: Backend, index: int) -> dict[str, int]:
    """The statistics of device ``index`` under PyTorch's ``memory_stats`` keys."""
    allocated, reserved, (peak_allocated, peak_reserved) = observe(backend, index)
    return {
        "allocated_bytes.all.current": allocated,
        "allocated_bytes.all.peak": peak_allocated,
        "reserved_bytes.all.current": reserved,
        "reserved_bytes.all.peak": peak_reserved,
    }


def empty_cache(backend: Backend, index: int | None) -> None:
    """Return the allocator's cached blocks (of device ``index``, else of every device) to the
    driver, recording the reserved peak first."""
    for i in range(backend.device_count()) if index is None else (index,):
        observe(backend, i)
    backend.empty_cache(index)


def summary(backend: Backend, index: int) -> str:
    """A table of :func:`stats`, in the spirit of PyTorch's ``memory_summary``."""
    values = stats(backend, index)
    title = f"ember {backend.device_type} memory summary, device ID {index}"
    rule = "|" + "=" * 63 + "|"
    lines = [rule, f"| {title:^61} |", rule, f"| {'Metric':<25}| {'Cur Usage':>16} | {'Peak Usage':>16} |", rule]
    for label, key in (("Allocated memory", "allocated_bytes"), ("Reserved memory", "reserved_bytes")):
        current, peak = values[f"{key}.all.current"], values[f"{key}.all.peak"]
        lines.append(f"| {label:<25}| {_format_bytes(current):>16} | {_format_bytes(peak):>16} |")
    lines.append(rule)
    return "\n".join(lines) + "\n"


def _format_bytes(count: int) -> str:
    value, unit = float(count), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{count} B" if unit == 0 else f"{value:.2f} {_UNITS[unit]}"


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
