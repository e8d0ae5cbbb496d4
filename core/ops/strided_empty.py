"""Uninitialised tensors with given strides: ``empty_strided``, ``Tensor.new_empty_strided`` and
``empty_permuted``.

The result sees a fresh storage just large enough to hold every element the sizes and strides
reach, as PyTorch allocates it; it is a tensor of its own, no view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..strides import contiguous_strides, storage_extent
from ..tensor import Tensor
from .creation import empty, seen_strided
from .creation_options import layout_options

__all__ = ["empty_permuted", "empty_strided"]


@layout_options(pin_memory=True)
def empty_strided(
    size: Sequence[int],
    stride: Sequence[int],
    *,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""An uninitialised tensor of shape ``size`` whose elements lie ``stride`` apart in its storage.

    Args:
        size (tuple of int): the shape of the result.
        stride (tuple of int): the step, in elements, along each dimension.
        dtype (ember.dtype, optional): the dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only; another raises ``NotImplementedError``.
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.
        pin_memory (bool, optional): whether to return the result in page-locked memory (which needs an
            accelerator). Default: ``False``.

    Example::

        >>> x = ember.empty_strided((2, 3), (1, 2))
        >>> x.shape, x.stride()
        (ember.Size([2, 3]), (1, 2))
    """
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"dimensionality of sizes ({len(size)}) must match dimensionality of strides ({len(stride)})"
        )
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    for s in stride:
        if s < 0:
            raise RuntimeError(
                f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}"
            )
    return seen_strided(
        empty(storage_extent(size, stride), dtype=dtype, device=device, requires_grad=requires_grad), size, stride
    )


@layout_options(pin_memory=True)
def empty_permuted(
    size: Sequence[int],
    physical_layout: Sequence[int],
    *,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""An uninitialised dense tensor of shape ``size`` whose dimensions lie in memory in the order
    ``physical_layout``, from the outermost to the innermost (``(0, 2, 3, 1)``: channels last).

    Args:
        size (tuple of int): the shape of the result.
        physical_layout (tuple of int): a permutation of the dimensions, the outermost first.
        dtype (ember.dtype, optional): the dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only; another raises ``NotImplementedError``.
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.
        pin_memory (bool, optional): whether to return the result in page-locked memory (which needs an
            accelerator). Default: ``False``.

    Example::

        >>> ember.empty_permuted((2, 3, 4), (2, 0, 1)).stride()
        (3, 1, 6)
    """
    size, order = tuple(size), tuple(physical_layout)
    if len(order) != len(size):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout; i.e. "
            f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}"
        )
    seen = set()
    for i, d in enumerate(order):  # PyTorch's order: each dim's range, then whether it came before
        if not 0 <= d < len(size):
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {len(size) - 1}, but got {d} at index {i}).  "
                "NB: negative dims not currently supported; file an issue if you want it."
            )
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    flat = empty(math.prod(size), dtype=dtype, device=device, requires_grad=requires_grad)
    # PyTorch's empty(permuted sizes).permute(inverse): row-major strides, a size-0 dimension stepping as 1
    permuted = contiguous_strides(tuple(size[d] for d in order))
    strides = [0] * len(size)
    for d, stride in zip(order, permuted):
        strides[d] = stride
    return seen_strided(flat, size, tuple(strides))


@layout_options(pin_memory=True)
def new_empty_strided(
    self: Tensor,
    size: Sequence[int],
    stride: Sequence[int],
    *,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r""":func:`ember.empty_strided` with this tensor's dtype and device unless given.

    Args:
        size (tuple of int): the shape of the result.
        stride (tuple of int): the step, in elements, along each dimension.
        dtype (ember.dtype, optional): the dtype. Default: this tensor's.
        device (ember.device, optional): the device. Default: this tensor's.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Example::

        >>> ember.ones(2, dtype=ember.float64).new_empty_strided((2, 2), (1, 2)).dtype
        ember.float64
    """
    return empty_strided(
        size,
        stride,
        dtype=self.dtype if dtype is None else dtype,
        device=self.device if device is None else device,
        requires_grad=requires_grad,
    )
