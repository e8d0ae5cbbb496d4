"""Device allocation through CuPy's memory pools, failing with PyTorch's out-of-memory error.

CuPy raises ``cupy.cuda.memory.OutOfMemoryError`` (a ``MemoryError``) once its pool has
released its cached blocks and the driver still refuses; PyTorch programs catch
``torch.OutOfMemoryError`` (a ``RuntimeError``) to shrink a batch and retry. Installing the
pool's ``malloc`` behind :func:`raising_torch_oom` turns the one into the other where the
allocation fails, so no op pays for it.
"""

from __future__ import annotations

import cupy

from ember.device_errors import OutOfMemoryError

__all__ = ["raising_torch_oom"]


def _size(nbytes):
    """``nbytes`` as PyTorch's allocator message writes it (``20.00 MiB``)."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for unit in ("KiB", "MiB"):
        nbytes /= 1024
        if nbytes < 1024:
            return f"{nbytes:.2f} {unit}"
    return f"{nbytes / 1024:.2f} GiB"


def raising_torch_oom(malloc):
    """An allocator (``nbytes -> cupy.cuda.MemoryPointer``) that calls ``malloc`` and raises
    :class:`ember.OutOfMemoryError` where ``malloc`` raises CuPy's out-of-memory error.

    Args:
        malloc: a CuPy allocator, e.g. ``cupy.get_default_memory_pool().malloc``.
    """

    def allocate(nbytes):
        try:
            return malloc(nbytes)
        except cupy.cuda.memory.OutOfMemoryError as exc:
            device = cupy.cuda.runtime.getDevice()
            raise OutOfMemoryError(
                f"CUDA out of memory. Tried to allocate {_size(nbytes)}. GPU {device}: {exc}"
            ) from exc

    return allocate
