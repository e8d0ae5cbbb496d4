"""How tensors cross process boundaries: by their shared-memory segment, never by value.

Registered with :class:`multiprocessing.reduction.ForkingPickler` when :mod:`ember.multiprocessing`
is imported, as PyTorch does: a CPU tensor sent to another process (a ``Process`` argument under the
``spawn`` or ``forkserver`` start method, or an item put on a ``Queue``) is first moved to shared
memory, and the receiver maps the same memory.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from multiprocessing.reduction import DupFd, ForkingPickler
from typing import Any

import numpy as np

from ..shared_memory import map_segment, segment_of, share_memory_
from ..tensor import Tensor, from_numpy


def rebuild_tensor(
    fd: Any,
    size: int,
    offset: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    dtype: np.dtype,
    requires_grad: bool,
) -> Tensor:
    array = np.ndarray(shape, dtype, buffer=map_segment(fd.detach(), size), offset=offset, strides=strides)
    return from_numpy(array).requires_grad_(requires_grad)


def reduce_tensor(tensor: Tensor) -> tuple[Callable[..., Tensor], tuple[Any, ...]]:
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does not support "
            "crossing process boundaries.  If you just want to transfer the data, call detach() on the tensor "
            "before serializing (e.g., putting it on the queue)."
        )
    share_memory_(tensor)
    array = tensor._data
    fd, size, offset = segment_of(array)  # type: ignore[misc]  # shared just above
    return rebuild_tensor, (DupFd(fd), size, offset, array.shape, array.strides, array.dtype, tensor.requires_grad)


def init_reductions() -> None:
    ForkingPickler.register(Tensor, reduce_tensor)


def dumps(obj: object) -> bytes:
    """``obj`` pickled as it would be put on a :class:`multiprocessing.Queue`: tensors by their segment.

    The receiver must unpickle the bytes (with :func:`pickle.loads`) while this process lives: the
    segments' descriptors are handed over on request, then closed here.
    """
    init_reductions()
    return bytes(ForkingPickler.dumps(obj, pickle.HIGHEST_PROTOCOL))
