"""In-place changes of the memory a tensor views or of its geometry: ``Tensor.resize_``,
``resize_as_``, ``set_``, ``as_strided_``, and the test ``is_set_to``.

The tensor object stays (its identity, dtype and autograd state); its native array is replaced by
another view. A ``resize_`` that fits in the storage views the same storage (views of the tensor
still alias it); one that needs more memory copies the storage into a larger one, as PyTorch
grows it. PyTorch grows the storage object itself, so that other tensors on it see the new memory
too; ember's backends cannot move an array's memory under its views, so those keep the old memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..autograd import function as autograd_function
from ..autograd import tangents
from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..autograd.view_history import mark_reshaped_in_place
from ..layout import check_memory_format, contiguous_format, preserve_format, suggest_memory_format
from ..strides import contiguous_strides, ordered_strides, storage_extent
from ..tensor import Tensor, _new, writable_data
from ..type_names import type_name
from .conversion import check_inplace
from .creation import _size, empty
from .dtype_support import C_NAMES, TORCH_NAMES
from .strided import as_strided, storage_error
from .typed_storage import TypedStorage
from .untyped_storage import UntypedStorage, storage_bytes

__all__ = ["as_strided_", "is_set_to", "resize_", "resize_as_", "set_"]


class _SetBackward(Function):
    """The node a ``set_`` records where gradients could flow through it (PyTorch's ``NotImplemented``
    node): the forward pass runs, a backward pass through it raises as PyTorch's does."""

    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors[0]._make(tensors[0]._data)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for set_ is not implemented")


def _record_set(input: Tensor, source: Tensor | None) -> None:
    """Give ``input`` a :class:`_SetBackward` node where PyTorch records one: while recording, when
    ``input`` (not a leaf) or the whole-tensor ``source`` requires grad."""
    if not grad_state.enabled:
        return
    tensors = [t for t in (input, source) if t is not None and t.requires_grad]
    if tensors:
        node = _SetBackward.apply(*tensors)
        input._grad_fn, input._output_nr, input._requires_grad = node._grad_fn, node._output_nr, True


def _rebind(input: Tensor, data: Any, same_storage: bool, counted: bool = True) -> Tensor:
    """Give ``input`` the native array ``data``, counted as an in-place change (unless not ``counted``). A
    view keeps its base when ``data`` is on the same storage, but can no longer be replayed on it; on
    another storage it is no view."""
    input._data = data
    input._version_counter.value += counted
    input._view_replay = None
    input._view_version = None
    if not same_storage:
        input._base = None
    return input


def resize_(input: Tensor, *sizes: Any, memory_format: object = None) -> Tensor:
    """Give ``input`` the shape ``sizes``, with contiguous strides (or channels-last ones where
    ``memory_format`` asks), in place; the elements keep their places in memory, new ones are
    uninitialised.

    The tensor keeps its storage and offset when they hold the new shape; otherwise the storage is
    copied into one just large enough (see the module's note on other tensors of the storage). A
    tensor that requires grad cannot be resized.

    Args:
        sizes (int... or tuple of int): the new shape.
        memory_format (ember.memory_format, optional): the layout of the result.
            Default: ``ember.contiguous_format``.

    Example::

        >>> x = ember.arange(6.0)
        >>> x.resize_(2, 2)
        tensor([[0., 1.],
                [2., 3.]])
        >>> x.untyped_storage().nbytes()
        24
    """
    if not sizes:
        raise TypeError('resize_() missing 1 required positional arguments: "size"')
    shape = _size(sizes, "resize_")
    if input.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if _dual(input):  # its tangent would keep the old shape
        raise RuntimeError("cannot resize variables that has a forward grad")
    check_memory_format(memory_format, len(shape), "resize_")
    if memory_format is preserve_format:
        raise RuntimeError("Unsupported memory format Preserve")
    backend, data = input._backend, writable_data(input)
    same_shape = shape == tuple(data.shape)  # PyTorch then counts no write, even for new strides
    if same_shape and memory_format is None:
        return input
    fmt = memory_format if memory_format is not None else contiguous_format
    strides = contiguous_strides(shape) if fmt.order is None else ordered_strides(shape, fmt.order)  # type: ignore[attr-defined]
    offset = backend.layout(data)[1]
    needed = offset + math.prod(shape)
    available = backend.storage_size(data)
    if needed <= available or not math.prod(shape):
        return _rebind(input, backend.as_strided(data, shape, strides, offset), True, counted=not same_shape)
    grown = empty(needed, dtype=input.dtype, device=input._device)
    grown[:available].copy_(_new(backend.as_strided(data, (available,), (1,), 0), backend, input._device))
    return _rebind(input, backend.as_strided(grown._data, shape, strides, offset), same_storage=False)


def _dual(*tensors: Any) -> bool:
    """Whether one of ``tensors`` carries a forward-mode tangent (inside a dual level)."""
    return autograd_function.tangent_rule is not None and any(
        isinstance(t, Tensor) and tangents.tangent_of(t) is not None for t in tensors
    )


def resize_as_(input: Tensor, other: Tensor, *, memory_format: object = None) -> Tensor:
    """:meth:`resize_` to the shape of ``other``; ``memory_format=ember.preserve_format`` takes the
    layout PyTorch finds ``other`` in (contiguous or channels last).

    Args:
        other (Tensor): the tensor whose shape to take.
        memory_format (ember.memory_format, optional): the layout of the result.
            Default: ``ember.contiguous_format``.

    Example::

        >>> ember.arange(6.0).resize_as_(ember.zeros(3, 2))
        tensor([[0., 1.],
                [2., 3.],
                [4., 5.]])
    """
    check_memory_format(memory_format, other.ndim, "resize_as_")
    if memory_format is preserve_format:
        memory_format = suggest_memory_format(tuple(other.shape), other.stride())
    return resize_(input, tuple(other.shape), memory_format=memory_format)


def set_(
    input: Tensor,
    source: Tensor | UntypedStorage | TypedStorage | None = None,
    storage_offset: int | None = None,
    size: Sequence[int] | None = None,
    stride: Sequence[int] | None = None,
) -> Tensor:
    """Make ``input`` view other memory, in place: ``set_()`` an empty storage, ``set_(tensor)``
    the storage and geometry of ``tensor`` (of the same dtype), ``set_(storage)`` the whole of a
    storage, and ``set_(source, storage_offset, size, stride)`` the given part of ``source``'s
    storage (``stride`` contiguous when omitted). An untyped storage is read as ``input``'s dtype.

    Args:
        source (Tensor, ember.UntypedStorage or ember.TypedStorage, optional): the memory to view.
        storage_offset (int, optional): the position of the first element, in elements.
        size (tuple of int, optional): the new shape.
        stride (tuple of int, optional): the new strides. Default: contiguous.

    Example::

        >>> x = ember.arange(6.0)
        >>> y = ember.empty(0).set_(x.untyped_storage(), 1, (2, 2), (1, 2))
        >>> y
        tensor([[1., 3.],
                [2., 4.]])
        >>> y[0, 0] = 10.0
        >>> x
        tensor([ 0., 10.,  2.,  3.,  4.,  5.])
    """
    check_inplace(input)
    if _dual(input, source):
        raise NotImplementedError(
            "Trying to use forward AD with set_ that does not support it because it has not been implemented yet."
        )
    if source is None:
        if storage_offset is not None or size is not None or stride is not None:
            raise TypeError("set_(): a storage offset, size or stride needs a source to view")
        _record_set(input, None)
        return _rebind(input, empty(0, dtype=input.dtype, device=input._device)._data, same_storage=False)
    if isinstance(source, Tensor):
        if source.dtype is not input.dtype:
            raise RuntimeError(
                f"Could not set tensor of type {C_NAMES.get(source.dtype, source.dtype)} to a tensor of type "
                f"{C_NAMES.get(input.dtype, input.dtype)}"
            )
        _check_device(input, source._device)
        if storage_offset is None and size is None and stride is None:
            _record_set(input, source)
            return _rebind(input, writable_data(source), _same_storage(input, source))
        raw = storage_bytes(source)
    elif isinstance(source, (UntypedStorage, TypedStorage)):
        if isinstance(source, TypedStorage) and source.dtype is not input.dtype:
            raise RuntimeError(
                f"Expected a Storage of type {C_NAMES.get(input.dtype, input.dtype)} or an UntypedStorage, but got type "
                f"{TORCH_NAMES[source.dtype]} for argument 1 'storage'"
            )
        _check_device(input, source.device)
        raw = source.untyped()._bytes
    else:
        raise TypeError(f"set_(): argument 'source' must be Tensor or Storage, not {type_name(source)}")
    backend = raw._backend
    elements = raw._data if input.dtype.itemsize == 1 else backend.bitcast(raw._data, backend.native_dtype(input.dtype))
    available = elements.shape[0]
    if size is None:
        if storage_offset is not None or stride is not None:
            raise TypeError("set_(): a storage offset or stride needs a size")
        shape, offset = (available,), 0
    else:
        shape, offset = _size((tuple(size),), "set_"), int(storage_offset or 0)
    strides = contiguous_strides(shape) if stride is None else tuple(int(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(shape)}, stride {list(strides)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if storage_extent(shape, strides, offset) > available:
        raise storage_error(shape, strides, offset, input.element_size(), available)
    data = backend.as_strided(elements, shape, strides, offset)
    _record_set(input, None)
    return _rebind(input, data, backend.memory_owner(data) is backend.memory_owner(input._data))


def _check_device(input: Tensor, dev: Any) -> None:
    if dev != input._device:
        raise RuntimeError(
            f'Attempted to set the storage of a tensor on device "{input._device}" to a storage on different '
            f'device "{dev}".  This is no longer allowed; the devices must match.'
        )


def _same_storage(a: Tensor, b: Tensor) -> bool:
    backend = a._backend
    return backend is b._backend and backend.memory_owner(writable_data(a)) is backend.memory_owner(writable_data(b))


def is_set_to(input: Tensor, tensor: Tensor) -> bool:
    """True if ``input`` and ``tensor`` view the same storage with the same offset, shape and strides.

    Args:
        tensor (Tensor): the tensor to compare with.

    Example::

        >>> x = ember.arange(6.0)
        >>> ember.empty(0).set_(x).is_set_to(x), x[1:].is_set_to(x)
        (True, False)
    """
    return (
        _same_storage(input, tensor)
        and input.shape == tensor.shape
        and input._backend.layout(input._data) == tensor._backend.layout(tensor._data)
    )


def as_strided_(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """:func:`ember.as_strided` in place: ``input`` takes the given sizes, strides and storage offset
    over its own storage.

    Example::

        >>> x = ember.arange(6.0)
        >>> x.as_strided_((2, 2), (1, 2), 1)
        tensor([[1., 3.],
                [2., 4.]])
    """
    check_inplace(input)
    result = as_strided(input, size, stride, storage_offset)  # recorded: the tensor takes its history
    node = result.grad_fn  # read before the rebinding: a view's history may be made from its base's layout
    if input._base is None:
        mark_reshaped_in_place(input)  # the views made of it so far expect its old layout
    _rebind(input, result._data, same_storage=True)
    if node is not None:
        input._set_grad_fn(node, result._output_nr)
    if autograd_function.tangent_rule is not None:
        tangents.take_tangent(input, result)
    return input
