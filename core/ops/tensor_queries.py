"""Questions about a tensor's layout, values and origin that return Python values: ``stride``,
``storage_offset``, ``is_signed``, ``is_nonzero``, ``is_same_size``, ``is_inference``.

Strides and offsets are the backend's (:meth:`ember.backend.Backend.layout`), counted in
elements as PyTorch counts them; a backend without strided views reports a fresh row-major layout.
"""

from __future__ import annotations

from ..tensor import Tensor, _InferenceVersion, writable_data
from .operands import wrap_dim

__all__ = ["is_signed", "is_nonzero", "is_same_size", "is_inference"]


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
    strides = input._backend.layout(writable_data(input))[0]
    if dim is None:
        return tuple(strides)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"stride(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")
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
    return input._backend.layout(writable_data(input))[1]


def _tensor_arg(op: str, name: str, value: object, position: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")


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
