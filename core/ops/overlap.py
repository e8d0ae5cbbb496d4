"""Memory overlap of the tensor an op writes in place with itself and with the tensors it reads.

Internal overlap: whether a view shows one memory location as several elements (a broadcast
view, a zero stride along a dimension of more than one element). An in-place write into such a
view is refused as PyTorch refuses it, except for writes of one value (``fill_``/``zero_``), which
PyTorch allows.

Partial overlap: whether a tensor an in-place op reads shares some, but not all, of the memory it
writes (``y = x[:2]; y.add_(x[1:3])``), which PyTorch refuses rather than give an answer that
depends on the order of the element writes. As PyTorch, only dense layouts are compared (others
are left to the op), and a read of exactly the written elements is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor

__all__ = [
    "aliases",
    "has_internal_overlap",
    "check_no_internal_overlap",
    "shares_base",
    "check_no_partial_overlap",
    "check_no_overlap",
    "check_arrays_no_partial_overlap",
]

_OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
    "location. Please clone() the tensor before performing the operation."
)
_PARTIAL_OVERLAP_MESSAGE = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


def has_internal_overlap(t: Tensor) -> bool:
    """Whether two elements of ``t`` are one memory location: a zero stride along a dimension of
    more than one element (the case PyTorch's ``has_internal_overlap`` answers "yes")."""
    if t._base is None:  # a tensor that owns its storage is laid out without aliasing
        return False
    return aliases(t._data.shape, t._backend.strides(t._data))


def aliases(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a ``shape``/``strides`` layout shows one memory location as two elements: a zero
    stride along a dimension of more than one element."""
    return any(s == 0 and n > 1 for n, s in zip(shape, strides))


def check_no_internal_overlap(t: Tensor) -> None:
    """Raise PyTorch's error when an in-place write would store into aliased elements of ``t``."""
    if t._base is not None and has_internal_overlap(t):
        raise RuntimeError(_OVERLAP_MESSAGE)


def shares_base(a: Tensor, b: Tensor) -> bool:
    """Whether ``a`` and ``b`` are views of one tensor (or one of them is the other's base): the only
    tensors whose memory can overlap."""
    return (a._base if a._base is not None else a) is (b._base if b._base is not None else b)


def check_no_partial_overlap(written: Tensor, read: Tensor) -> None:
    """Raise PyTorch's error when ``read`` shares part of the memory that an in-place op writes
    through ``written``; nothing to compare unless they share a base."""
    if read is not written and shares_base(written, read):
        check_arrays_no_partial_overlap(written._backend, written._data, read._data)


def check_no_overlap(written: Tensor, read: Tensor) -> None:
    """Raise PyTorch's error when ``read`` shares any memory with ``written``, the very elements
    included: the ``out`` of the gathering ops (``index_select``, ``gather``, ``take``,
    ``masked_select``), which read elements in another order than they write them."""
    if read is written:
        raise RuntimeError(_PARTIAL_OVERLAP_MESSAGE)
    if shares_base(written, read):
        check_arrays_no_partial_overlap(written._backend, written._data, read._data, full_too=True)


def _dense(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a layout covers one gap-free block of memory, each element once (PyTorch's
    ``is_non_overlapping_and_dense``): its strides, sorted, are a row-major tensor's."""
    expected = 1
    for size, stride in sorted(zip(shape, strides), key=lambda pair: pair[1]):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def check_arrays_no_partial_overlap(backend: Any, written: Any, read: Any, *, full_too: bool = False) -> None:
    """:func:`check_no_partial_overlap` for two native arrays of ``backend`` that may share memory
    (:func:`check_no_overlap` with ``full_too``)."""
    written_size, read_size = math.prod(written.shape), math.prod(read.shape)
    if not written_size or not read_size or backend.memory_owner(written) is not backend.memory_owner(read):
        return
    (written_strides, written_offset), (read_strides, read_offset) = backend.layout(written), backend.layout(read)
    if not (_dense(written.shape, written_strides) and _dense(read.shape, read_strides)):
        return
    written_item, read_item = written.dtype.itemsize, read.dtype.itemsize
    written_begin, read_begin = written_offset * written_item, read_offset * read_item
    written_end, read_end = written_begin + written_size * written_item, read_begin + read_size * read_item
    if (written_begin, written_end) == (read_begin, read_end):
        if tuple(written_strides) == tuple(read_strides) and not full_too:  # the very elements written
            return
        raise RuntimeError(_PARTIAL_OVERLAP_MESSAGE)
    if written_begin < read_end and read_begin < written_end:
        raise RuntimeError(_PARTIAL_OVERLAP_MESSAGE)
