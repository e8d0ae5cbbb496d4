"""``DataLoader(pin_memory=True)``: every CPU tensor of a batch copied to pinned host memory."""

from __future__ import annotations

import collections.abc

import numpy as np

from ...pinned_memory import pinning_backend
from ...tensor import Tensor
from ._collate import _is_namedtuple, _mapped, _sequenced

__all__ = ["pinning", "pin_batch"]


def pinning(device):
    """Whether batches get pinned for ``device`` (``""``: the current accelerator): ``None``
    without an accelerator, else whether its backend has pinned memory (asked with an empty array)."""
    backend = pinning_backend(device or None)
    if backend is None:
        return None
    return backend.pin_host(np.empty(0, np.uint8)) is not None


def pin_batch(data, device):
    """``data`` with each tensor in it replaced by its :meth:`~ember.Tensor.pin_memory` copy,
    the containers rebuilt as PyTorch's ``pin_memory`` does."""
    if isinstance(data, Tensor):
        return data.pin_memory(device or None)
    if hasattr(data, "pin_memory"):  # a custom batch type pins itself, as in PyTorch
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _mapped(data, {key: pin_batch(value, device) for key, value in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(pin_batch(item, device) for item in data))
    if isinstance(data, tuple):
        return type(data)(pin_batch(item, device) for item in data)
    if isinstance(data, collections.abc.Sequence):
        return _sequenced(data, [pin_batch(item, device) for item in data])
    return data
