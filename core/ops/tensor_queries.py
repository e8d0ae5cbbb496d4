"""Questions about a tensor's layout, values and origin that return Python values: ``stride``,
``storage_offset``, ``dim_order``, ``is_signed``, ``is_nonzero``, ``is_same_size``, ``is_inference``.

Strides and offsets are the backend's (:meth:`ember.backend.Backend.strides` and
:meth:`~ember.backend.Backend.layout`), counted in elements as PyTorch counts them; a backend without
strided views reports a fresh row-major layout.
"""

from __future__ import annotations

from typing import cast

from ..layout import channels_last, contiguous_format, memory_format
from ..strides import dense_order
from ..tensor import Tensor, _InferenceVersion, writable_data
from ..type_names import type_name
from .movement import is_contiguous
from .operands import tensor_input, wrap_dim

__all__ = ["dim_order", "is_signed", "is_nonzero", "is_same_size", "is_inference"]


def stride(input: Tensor, dim: int | None = None) -> tuple[int, ...] | int:
    """The step, in elements, between neighbours along each dimension (or along ``dim``).

    Args:
        dim (int, optional): the dimension to ask about; all of them when omitted.

    Example::

        >>> x = ember.zeros(2, 3)
        >>> x.stride()
        (3, 1)
        >>> x.t().stride(0)
        1
    """
    strides = input._backend.strides(writable_data(input))
    if dim is None:
        return tuple(strides)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"stride(): argument 'dim' (position 1) must be int, not {type_name(dim)}")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return strides[wrap_dim(dim, input.ndim)]


def storage_offset(input: Tensor) -> int:
    """The index, in elements, of this tensor's first element in its storage.

    Example::

        >>> x = ember.arange(6.0)
        >>> x[2:].storage_offset()
        2
    """
    return input._backend.storage_offset(writable_data(input))


def dim_order(input: Tensor, *, ambiguity_check: bool | list[memory_format] = False) -> tuple[int, ...]:
    """The dimensions from the outermost to the innermost in memory (the physical layout).

    A row-major tensor gives ``(0, 1, ..., n - 1)``, a channels-last one ``(0, 2, ..., n - 1, 1)``,
    any other the order of its strides (a tie going to the smaller size inside). Where a size-1
    dimension or two equal strides leave the order open, one legal order is returned, unless
    ``ambiguity_check`` asks for a unique one.

    Args:
        ambiguity_check (bool or list of ember.memory_format): True raises a ``RuntimeError`` where the
            order is not unique; a list of memory formats raises one unless the tensor is laid out
            in exactly one of them. Default: ``False``.

    Example::

        >>> ember.empty(2, 3, 5, 7).transpose(1, 2).dim_order()
        (0, 2, 1, 3)
        >>> ember.empty(2, 3, 5, 7, memory_format=ember.channels_last).dim_order()
        (0, 2, 3, 1)
    """
    if not isinstance(ambiguity_check, bool) and not (
        isinstance(ambiguity_check, list) and all(isinstance(f, memory_format) for f in ambiguity_check)
    ):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory formats.")
    shape, strides = tuple(input.shape), cast(tuple[int, ...], stride(input))
    if ambiguity_check is not False:
        open_order = 1 in shape or any(a == b for a, b in zip(strides, strides[1:]))
        formats = [] if ambiguity_check is True else ambiguity_check
        if open_order and sum(is_contiguous(input, memory_format=f) for f in formats) != 1:
            raise RuntimeError(
                "The tensor does not have unique dim order, or cannot map to exact one of the given memory formats."
            )
    if input.ndim < 2:
        return tuple(range(input.ndim))
    row_major = is_contiguous(input, memory_format=contiguous_format)
    if row_major != is_contiguous(input, memory_format=channels_last):
        return tuple(range(input.ndim)) if row_major else (0, *range(2, input.ndim), 1)
    order = dense_order(shape, strides)
    # asked for a unique order: each dimension must step strictly further than the next one inside it
    if ambiguity_check and not all(0 < strides[i] < strides[o] for o, i in zip(order, order[1:])):
        raise RuntimeError("The tensor does not have unique dim order.")
    return order


def _tensor_arg(op: str, name: str, value: object, position: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type_name(value)}")


def is_signed(input: Tensor) -> bool:
    """True if ``input``'s dtype holds negative numbers (floating and signed integer dtypes).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_signed(ember.tensor([1.0]))
        True
        >>> ember.tensor([1], dtype=ember.uint8).is_signed()
        False
    """
    _tensor_arg("is_signed", "input", input, 1)
    return input.dtype.is_signed


def is_nonzero(input: Tensor) -> bool:
    """True if the single element of ``input`` is not zero (an error for any other number of elements).

    Args:
        input (Tensor): a tensor of one element.

    Example::

        >>> ember.is_nonzero(ember.tensor([0.5]))
        True
        >>> ember.tensor(0).is_nonzero()
        False
    """
    _tensor_arg("is_nonzero", "input", input, 1)
    return bool(input)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """True if ``input`` and ``other`` have the same shape.

    Args:
        input (Tensor): the first tensor.
        other (Tensor): the second tensor.

    Example::

        >>> ember.is_same_size(ember.zeros(2, 3), ember.ones(2, 3))
        True
        >>> ember.zeros(2).is_same_size(ember.zeros(3))
        False
    """
    _tensor_arg("is_same_size", "input", input, 0)
    _tensor_arg("is_same_size", "other", other, 1)
    return tuple(input.shape) == tuple(other.shape)


@tensor_input
def is_inference(input: Tensor) -> bool:
    """True if ``input`` is an inference tensor: made inside :class:`ember.inference_mode`, or a
    view of such a tensor. A view made in inference mode of an ordinary tensor is ordinary, and so is
    an ordinary tensor updated in place there, as in PyTorch.

    Example::

        >>> x = ember.ones(2)
        >>> with ember.inference_mode():
        ...     y = x * 2
        >>> x.is_inference(), y.is_inference(), y[1:].is_inference()
        (False, True, True)
    """
    return type(input._version_counter) is _InferenceVersion
