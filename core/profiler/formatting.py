"""How the profiler prints durations and sizes (PyTorch's formats)."""

from __future__ import annotations

__all__ = ["format_time", "format_memory"]


def format_time(time_us: float) -> str:
    """A duration in microseconds as PyTorch's profiler prints it.

    Example::

        >>> from ember.profiler.formatting import format_time
        >>> format_time(12.0), format_time(1500.0), format_time(2e6)
        ('12.000us', '1.500ms', '2.000s')
    """
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def format_memory(nbytes: float) -> str:
    """A size in bytes as PyTorch's profiler prints it.

    Example::

        >>> from ember.profiler.formatting import format_memory
        >>> format_memory(12), format_memory(1536), format_memory(-3 << 20)
        ('12 B', '1.50 KB', '-3.00 MB')
    """
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"
