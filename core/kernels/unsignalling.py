"""The mark of a kernel whose computations cannot signal a floating-point error."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["is_unsignalling", "unsignalling"]

_Kernel = TypeVar("_Kernel")


def unsignalling(kernel: _Kernel) -> _Kernel:
    """Mark ``kernel`` as one whose computations cannot signal a floating-point error on any input it
    takes (no overflow, division by zero, invalid operation or underflow): it moves, selects, compares
    (NaN compares silently) or computes with integers only, and casts only where every value fits. A
    backend that silences those signals around its kernels (the NumPy backend sets and resets NumPy's
    error state per call) calls a marked kernel as it is.

    The mark belongs to one implementation: an override of a marked kernel is marked again where it,
    too, cannot signal.

    Args:
        kernel: the kernel function (beneath ``classmethod`` or ``staticmethod``, if any).

    Example::

        >>> class MyKernels:
        ...     @unsignalling
        ...     def take_axis(self, x, index, axis):
        ...         return self.xp.take(x, index, axis=axis)
        >>> is_unsignalling(MyKernels.take_axis)
        True
    """
    kernel.unsignalling = True  # type: ignore[attr-defined]
    return kernel


def is_unsignalling(kernel: Any) -> bool:
    """Whether ``kernel`` (a function or a bound method) is marked by :func:`unsignalling`."""
    return getattr(kernel, "unsignalling", False) is True
