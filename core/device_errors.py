"""The errors a device raises, under PyTorch's names (``torch.OutOfMemoryError``,
``torch.AcceleratorError``, also reachable as ``ember.cuda.OutOfMemoryError``).

Both are ``RuntimeError`` subclasses, as PyTorch's, so that programs catching either one or
``RuntimeError`` keep working.
"""

from __future__ import annotations

__all__ = ["OutOfMemoryError", "AcceleratorError"]


class OutOfMemoryError(RuntimeError):
    """A device's allocator could not serve an allocation.

    Example::

        >>> try:
        ...     raise ember.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        ... except ember.cuda.OutOfMemoryError as exc:
        ...     print(type(exc).__name__)
        OutOfMemoryError
    """


class AcceleratorError(RuntimeError):
    """An error the accelerator's runtime reported (a failed launch, an illegal address)."""
