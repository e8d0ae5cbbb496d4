"""CPU tensors in memory that other processes can map: the storage of ``Tensor.share_memory_()``.

A shared tensor's NumPy array lives in an ``mmap`` of an unlinked file in ``/dev/shm`` (PyTorch's
``file_descriptor`` strategy): the file has no name, so nothing is left behind when the last process
that maps it exits, and :mod:`ember.multiprocessing` hands its descriptor to other processes, whose
in-place updates the parent sees.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from .tensor import Tensor

# every segment this process maps -> (its file descriptor, its size in bytes, its base address)
_SEGMENTS: weakref.WeakKeyDictionary[mmap.mmap, tuple[int, int, int]] = weakref.WeakKeyDictionary()


def _directory() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def map_segment(fd: int, size: int) -> mmap.mmap:
    """Map ``size`` bytes of the shared file ``fd`` (this process now owns ``fd``)."""
    segment = mmap.mmap(fd, size)
    address = np.frombuffer(segment, np.uint8).ctypes.data
    _SEGMENTS[segment] = (fd, size, address)
    weakref.finalize(segment, os.close, fd)
    return segment


def _new_segment(nbytes: int) -> mmap.mmap:
    fd, path = tempfile.mkstemp(prefix="ember-shm-", dir=_directory())
    os.unlink(path)
    size = max(nbytes, 1)
    os.ftruncate(fd, size)
    return map_segment(fd, size)


def empty_array(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A new NumPy array of ``shape`` and ``dtype`` in a shared segment (values uninitialised)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(_new_segment(count * dtype.itemsize), dtype, count=count).reshape(shape)


def buffer_owner(array: np.ndarray) -> Any:
    """The object whose memory the NumPy array ``array`` views (an ``mmap``, a pinned block...),
    or ``None`` for an array that owns its memory."""
    root: Any = array
    while isinstance(root, np.ndarray):
        root = root.base
    return root.obj if isinstance(root, memoryview) else root


def segment_of(array: np.ndarray) -> tuple[int, int, int] | None:
    """``(fd, size, byte offset)`` of a NumPy array that lives in a shared segment, else ``None``."""
    root = buffer_owner(array)
    if not isinstance(root, mmap.mmap) or root not in _SEGMENTS:
        return None
    fd, size, address = _SEGMENTS[root]
    return fd, size, array.__array_interface__["data"][0] - address


def _check_cpu(op: str, tensor: Tensor) -> None:
    if tensor.device.type != "cpu":
        raise RuntimeError(f"{op}: only CPU tensors can be put in shared memory, got a tensor on {tensor.device}")


def share_memory_(tensor: Tensor) -> Tensor:
    """Move the tensor's values to shared memory, in place; a no-op if they already are there.

    Processes started by :mod:`ember.multiprocessing` that receive the tensor map the same memory,
    so in-place updates (an optimizer's steps) made by any of them are seen by all. As in PyTorch,
    only CPU tensors can be shared. Unlike PyTorch's, views taken before the call keep the old memory.

    Returns:
        Tensor: ``self``.

    Examples::

        >>> t = ember.zeros(3)
        >>> t.is_shared()
        False
        >>> t.share_memory_().is_shared()
        True
    """
    _check_cpu("share_memory_", tensor)
    array = tensor._data
    if segment_of(array) is None:
        shared = empty_array(array.shape, array.dtype)
        shared[...] = array
        tensor._data = shared
    return tensor


def is_shared(tensor: Tensor) -> bool:
    """Whether the tensor's values are in shared memory (see :meth:`share_memory_`).

    Examples::

        >>> ember.ones(2).is_shared()
        False
    """
    return tensor.device.type == "cpu" and segment_of(tensor._data) is not None
