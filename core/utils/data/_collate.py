"""How a list of samples becomes a batch: :func:`default_collate` and :func:`default_convert`."""

from __future__ import annotations

import collections.abc
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...dtypes import float64
from ...ops.movement import stack
from ...shared_memory import empty_array
from ...tensor import Tensor, as_tensor, from_numpy, tensor
from ._worker import get_worker_info

__all__ = ["default_collate", "default_convert"]

_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _numpy_kind(obj):
    """'array', 'scalar' or None for NumPy objects, without importing NumPy for other data."""
    module = type(obj).__module__
    if module != "numpy":
        return None
    if isinstance(obj, np.ndarray):
        return "array"
    if isinstance(obj, np.generic):
        return "scalar"
    return None


def _rebuilt(like, items, plain):
    """``items`` in the container type of ``like``; a ``plain`` type, or one whose constructor
    refuses them, gives ``items`` as they are."""
    if plain:
        return items
    try:
        return type(like)(items)
    except TypeError:
        return items


def _check_numeric(array):
    if array.dtype.kind in "OSUaV":
        raise TypeError(_UNSUPPORTED.format(array.dtype))


def _stack(tensors):
    """``stack(tensors)``; in a worker process, into shared memory, as PyTorch does, so that the batch
    reaches the main process by its segment instead of being pickled by value."""
    first = tensors[0]
    if get_worker_info() is None or any(
        not isinstance(t, Tensor)  # stack() says which element is not a tensor
        or t.device.type != "cpu"
        or t.requires_grad
        or t.dtype is not first.dtype
        or t.shape != first.shape
        for t in tensors
    ):
        return stack(tensors, 0)
    arrays = [t._data for t in tensors]
    out = empty_array((len(arrays), *arrays[0].shape), arrays[0].dtype)
    np.stack(arrays, out=out)
    return from_numpy(out)


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure.

    * tensors are stacked along a new first dimension (in a :class:`DataLoader` worker process,
      into shared memory, so that the batch reaches the main process without being copied);
    * NumPy arrays and scalars become tensors and are stacked;
    * Python floats become a ``float64`` tensor, ints an ``int64`` tensor, bools a ``bool`` tensor;
    * strings and bytes stay a list;
    * dicts are collated key by key, named tuples field by field, and tuples and lists
      position by position (every sample must have the same length).

    Args:
        batch: a list of samples.

    Example::

        >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
        [tensor([[0., 0.],
                [1., 1.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(list(batch))
    kind = _numpy_kind(elem)
    if kind == "array":
        _check_numeric(elem)
        return _stack([as_tensor(b) for b in batch])
    if kind == "scalar":
        _check_numeric(elem)
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, numbers.Integral):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated: dict[Any, Any] | list[Any] = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuilt(elem, collated, type(elem) is dict)
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [default_collate(samples) for samples in zip(*batch)]
        return _rebuilt(elem, collated, isinstance(elem, tuple) or type(elem) is list)
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars in ``data`` into tensors, keeping everything else.

    What a :class:`DataLoader` applies to each sample when automatic batching is off
    (``batch_size=None``).
    """
    if isinstance(data, Tensor):
        return data
    kind = _numpy_kind(data)
    if kind is not None:
        return data if data.dtype.kind in "OSUaV" else as_tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted: dict[Any, Any] | list[Any] = {key: default_convert(data[key]) for key in data}
        return _rebuilt(data, converted, type(data) is dict)
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(d) for d in data]
        return _rebuilt(data, converted, type(data) is list)
    return data
