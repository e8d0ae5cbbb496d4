"""Strided views of a tensor's storage (``as_strided``).

``as_strided`` makes a view with any sizes, strides and storage offset over the storage a
tensor shares with its views, through the backend's ``as_strided`` primitive. Its gradient
goes back through the storage: the output's gradient is added at the storage positions its
elements read, and the input's gradient is read back from the positions of the input's
elements (PyTorch's ``as_strided_backward``). The rule of in-place writes into views whose
elements alias each other is in :mod:`ember.ops.overlap`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import dtypes
from ..autograd.function import Function
from ..strides import storage_extent
from ..tensor import Tensor, writable_data
from .creation import arange, full

__all__ = ["as_strided", "as_strided_scatter", "storage_error", "slice_inverse"]


def _positions(t: Tensor, shape, strides, offset) -> Tensor:
    """The storage position of each element of a ``shape``/``strides``/``offset`` view, as an int64 tensor."""
    positions = full(tuple(shape), offset, dtype=dtypes.int64, device=t._device)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        step = arange(n, device=t._device) * s
        positions = positions + step.reshape((n,) + (1,) * (len(shape) - axis - 1))
    return positions


def _last_position(shape, strides, offset) -> int:
    """The storage position of the last element of a ``shape``/``strides``/``offset`` view (0 when it is empty)."""
    return offset + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0


class _AsStrided(Function):
    @staticmethod
    def forward(ctx, x, size, stride, offset):
        backend = x._backend
        in_strides, in_offset = backend.layout(x._data)
        ctx.geometry = (tuple(x._data.shape), tuple(in_strides), in_offset, size, stride, offset)
        data = backend.as_strided(x._data, size, stride, offset)
        return x._view_of(data, lambda base: as_strided(base, size, stride, offset))

    @staticmethod
    def backward(ctx, grad):
        in_shape, in_strides, in_offset, size, stride, offset = ctx.geometry
        out_pos = _positions(grad, size, stride, offset).reshape(-1)
        in_pos = _positions(grad, in_shape, in_strides, in_offset).reshape(-1)
        extent = 1 + max(_last_position(size, stride, offset), _last_position(in_shape, in_strides, in_offset))
        storage = grad.new_zeros((extent,)).index_add(0, out_pos, grad.reshape(-1))
        # an input whose elements overlap in memory (a view such as unfold's windows) shares each
        # position's gradient among the elements at it, as PyTorch's as_strided_backward: its own
        # backward sums them again
        uses = in_pos.new_zeros((extent,)).index_add(0, in_pos, in_pos.new_ones(in_pos.shape))
        if in_pos.numel() and not uses.is_meta and int(uses.max()) > 1:  # (a meta tensor has no counts to read)
            storage = storage / uses.clamp_min(1).to(grad.dtype.to_real())
        return storage[in_pos].reshape(in_shape), None, None, None


def storage_error(size, stride, offset, itemsize, available):
    """PyTorch's error for a geometry that reaches past the end of a storage of ``available`` elements."""
    needed = storage_extent(size, stride, offset)
    return RuntimeError(
        f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
        f"{itemsize} requiring a storage size of {needed * itemsize} are out of bounds for storage of size "
        f"{available * itemsize}"
    )


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s storage with the given sizes, strides and storage offset.

    The view reads the storage ``input`` shares with its base: element ``(i_0, ..., i_k)`` is
    storage position ``storage_offset + sum(i_j * stride[j])``. Writing through a view whose
    elements overlap is refused, as in PyTorch.

    Args:
        input (Tensor): the tensor whose storage to view.
        size (tuple of int): the shape of the view.
        stride (tuple of int): the step, in elements, along each dimension of the view.
        storage_offset (int, optional): the storage position of the first element.
            Default: ``input.storage_offset()``

    Example::

        >>> x = ember.arange(6.0)
        >>> ember.as_strided(x, (2, 2), (1, 2))
        tensor([[0., 2.],
                [1., 3.]])
        >>> x.as_strided((2, 2), (2, 1), 1)
        tensor([[1., 2.],
                [3., 4.]])
    """
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)}, stride {list(stride)}")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides or sizes are not supported, got size {list(size)}, stride {list(stride)}"
        )
    backend, data = input._backend, writable_data(input)
    offset = backend.layout(data)[1] if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    available = backend.storage_size(data)
    if storage_extent(size, stride, offset) > available:
        raise storage_error(size, stride, offset, input.element_size(), available)
    return _AsStrided.apply(input, size, stride, offset)


def as_strided_scatter(
    input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """A copy of ``input`` with ``src`` written where :func:`as_strided` of the copy with ``size``,
    ``stride`` and ``storage_offset`` would read (recorded by autograd for both).

    Args:
        input (Tensor): the tensor to copy.
        src (Tensor): the values to write, of shape ``size``.
        size (tuple of int): the shape of the strided view.
        stride (tuple of int): its strides, in elements.
        storage_offset (int, optional): the storage position of its first element. Default: the
            copy's storage offset.

    Example::

        >>> ember.as_strided_scatter(ember.zeros(2, 3), ember.ones(2), (2,), (4,))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    out = input.clone()
    target = as_strided(out, size, stride, storage_offset)
    if tuple(src.shape) != tuple(target.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
            f"slice size = {list(target.shape)}"
        )
    target.copy_(src)
    return out


def slice_inverse(
    input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """The inverse of slicing ``src``: a view of ``input``'s storage with ``src``'s size, strides and offset
    (``input`` being the slice, this is the sliced tensor again). ``dim``, ``start``, ``end`` and ``step``
    name the slice and are not needed to undo it, as in PyTorch.

    Args:
        input (Tensor): the slice (a view of ``src``'s storage).
        src (Tensor): the tensor that was sliced.

    Example::

        >>> base = ember.arange(6.0).reshape(2, 3)
        >>> base[1:].slice_inverse(base, 0)
        tensor([[0., 1., 2.],
                [3., 4., 5.]])
    """
    return as_strided(input, tuple(src.shape), src.stride(), src.storage_offset())
