"""How a list of samples becomes a batch: :func:`collate` (the engine, steered by a table of
per-type functions), :func:`default_collate` and :func:`default_convert`.

The table is PyTorch's ``default_collate_fn_map``: extend it in place (or pass your own to
:func:`collate`) to teach the default collation a new element type.
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...dtypes import float64
from ...ops.movement import stack
from ...shared_memory import empty_array
from ...tensor import Tensor, as_tensor, from_numpy, tensor
from ._worker import get_worker_info

__all__ = [
    "collate",
    "collate_float_fn",
    "collate_int_fn",
    "collate_numpy_array_fn",
    "collate_numpy_scalar_fn",
    "collate_str_fn",
    "collate_tensor_fn",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
]

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)
_STR_OR_OBJECT = "SaUO"  # NumPy dtype kinds that do not become tensors (bytes, str, object)

CollateFnMap = dict[type | tuple[type, ...], Callable[..., Any]]


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _is_numpy_string(data):
    """A NumPy array of strings, bytes or objects: no tensor can hold it."""
    return data.dtype.kind in _STR_OR_OBJECT


def _mapped(data, items):
    """``items`` (a dict built from ``data``'s keys) in ``data``'s own mapping type, as PyTorch
    rebuilds it: a mutable mapping is copied (keeping its extra state, a ``defaultdict``'s
    factory) and updated, another is constructed from ``items``; a type that refuses either
    gives the plain dict."""
    try:
        if isinstance(data, collections.abc.MutableMapping):
            clone = copy.copy(data)
            clone.update(items)
            return clone
        return type(data)(items)
    except TypeError:
        return items


def _sequenced(data, items):
    """``items`` (a list, one per position of ``data``) in ``data``'s own sequence type, as
    PyTorch rebuilds it: a mutable sequence is copied and written position by position, another
    is constructed from ``items``; a type that refuses either (``range``) gives the list."""
    try:
        if isinstance(data, collections.abc.MutableSequence):
            clone = copy.copy(data)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(data)(items)
    except TypeError:
        return items


def collate(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collate a list of samples, descending into mappings, named tuples and sequences, and
    handing each other element type to the function ``collate_fn_map`` gives for it.

    The engine of :func:`default_collate` (which calls it with :data:`default_collate_fn_map`).
    The function for a type is looked up by the exact type of ``batch[0]`` first, then by the
    first key (in insertion order) of which it is an instance; it is called as
    ``fn(batch, collate_fn_map=collate_fn_map)``. Mappings are collated key by key (in their own
    type), named tuples field by field, tuples position by position into a list, other
    sequences position by position in their own type; every sample must have the same length.

    Args:
        batch: a list of samples.
        collate_fn_map: element type (or tuple of types) -> collate function. Default: ``None``
            (only containers are descended into).

    Example::

        >>> from ember.utils.data._utils.collate import collate, default_collate_fn_map
        >>> def sum_ints(batch, *, collate_fn_map=None):
        ...     return sum(batch)
        >>> collate([{"n": 1}, {"n": 2}], collate_fn_map={**default_collate_fn_map, int: sum_ints})
        {'n': 3}
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _mapped(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
    if _is_namedtuple(elem):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return collated  # a plain tuple gives a list, as in PyTorch
        return _sequenced(elem, collated)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


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


def collate_tensor_fn(batch: Sequence[Tensor], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Tensors stacked along a new first dimension (in a worker process, into shared memory)."""
    return _stack(list(batch))


def collate_numpy_array_fn(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """NumPy arrays made tensors, then collated as tensors; arrays of strings or objects refuse."""
    elem = batch[0]
    if _is_numpy_string(elem):
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """NumPy scalars as one tensor, its dtype inferred as :func:`ember.as_tensor` infers a list's (a
    ``float32`` scalar with Python floats stays ``float32``, as in PyTorch; NumPy would promote)."""
    return as_tensor(list(batch))


def collate_float_fn(batch: Sequence[float], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python floats as a ``float64`` tensor."""
    return tensor(batch, dtype=float64)


def collate_int_fn(batch: Sequence[int], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python ints as an ``int64`` tensor (bools as a ``bool`` tensor)."""
    return tensor(batch)


def collate_str_fn(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Sequence[Any]:
    """Strings and bytes are kept as they are: the batch is their list."""
    return batch


#: The per-type functions of :func:`default_collate`, in lookup order. Add an entry to teach
#: :func:`default_collate` (and every :class:`DataLoader` using it) a new element type.
default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,  # and its subclasses (np.memmap)
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,  # not NumPy's string scalars
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure.

    * tensors are stacked along a new first dimension (in a :class:`DataLoader` worker process,
      into shared memory, so that the batch reaches the main process without being copied);
    * NumPy arrays and scalars become tensors and are stacked;
    * Python floats become a ``float64`` tensor, ints an ``int64`` tensor, bools a ``bool`` tensor;
    * strings and bytes stay a list;
    * mappings are collated key by key (in their own type: a ``defaultdict`` stays one), named
      tuples field by field, tuples position by position into a list, and other sequences
      position by position in their own type (every sample must have the same length).

    It is :func:`collate` with :data:`default_collate_fn_map`, which can be extended in place.

    Args:
        batch: a list of samples.

    Example::

        >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
        [tensor([[0., 0.],
                [1., 1.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars in ``data`` into tensors, keeping everything else.

    What a :class:`DataLoader` applies to each sample when automatic batching is off
    (``batch_size=None``). Containers are rebuilt as :func:`default_collate` rebuilds them,
    except that a plain tuple becomes a list.

    Example::

        >>> import numpy as np
        >>> default_convert({"x": np.array([0, 1]), "name": "a"})
        {'x': tensor([0, 1]), 'name': 'a'}
    """
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (str, bytes)):
        if isinstance(data, np.ndarray) and _is_numpy_string(data):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _mapped(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _sequenced(data, [default_convert(d) for d in data])
    return data
