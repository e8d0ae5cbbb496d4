"""Internal overlap: whether a view shows one memory location as several elements (a broadcast
view, a zero stride along a dimension of more than one element). An in-place write into such a
view is refused as PyTorch refuses it, except for writes of one value (``fill_``/``zero_``), which
PyTorch allows."""

from __future__ import annotations

from collections.abc import Sequence

from ..tensor import Tensor

__all__ = ["aliases", "has_internal_overlap", "check_no_internal_overlap"]

_OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
    "location. Please clone() the tensor before performing the operation."
)


def has_internal_overlap(t: Tensor) -> bool:
    """Whether two elements of ``t`` are one memory location: a zero stride along a dimension of
    more than one element (the case PyTorch's ``has_internal_overlap`` answers "yes")."""
    if t._base is None:  # a tensor that owns its storage is laid out without aliasing
        return False
    return aliases(t._data.shape, t._backend.layout(t._data)[0])


def aliases(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a ``shape``/``strides`` layout shows one memory location as two elements: a zero
    stride along a dimension of more than one element."""
    return any(s == 0 and n > 1 for n, s in zip(shape, strides))


def check_no_internal_overlap(t: Tensor) -> None:
    """Raise PyTorch's error when an in-place write would store into aliased elements of ``t``."""
    if t._base is not None and has_internal_overlap(t):
        raise RuntimeError(_OVERLAP_MESSAGE)
