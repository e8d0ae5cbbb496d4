"""``Tensor.apply_``, ``Tensor.map_`` and ``Tensor.map2_``: a Python callable run on every element of a CPU tensor,
in place, as in PyTorch (slow: one Python call per element; for tests and small tensors).

Each result is stored as the tensor's dtype stores a Python number: a float rounded to the
floating type, an integer truncated toward zero and refused outside the integer type's range, any
value as its truth for ``bool``. As in PyTorch, the call is not recorded by autograd (a tensor
that requires grad is refused) and leaves the version counter as it is.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor, writable_data
from ..type_names import type_name

__all__ = ["apply_", "map_", "map2_"]


def _check(self: Tensor, op: str) -> None:
    if self._device.type != "cpu":
        raise RuntimeError(f"{op} is only implemented on CPU tensors (got a tensor on {self._device})")
    if self._requires_grad:
        raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use var.detach().{op}() instead.")


def _converter(self: Tensor) -> Callable[[Any], Any]:
    """How a callable's result becomes an element of ``self``'s dtype."""
    dtype = self.dtype
    if dtype.is_floating_point:

        def to_float(value: Any) -> float:
            if not isinstance(value, numbers.Real):
                raise TypeError(f"must be real number, not {type_name(value)}")
            return float(value)

        return to_float
    if dtype._category == 0:  # bool
        return bool
    info = np.iinfo(self._data.dtype)

    def to_int(value: Any) -> int:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
        number = int(value)  # a float truncates toward zero, as a C cast
        if not info.min <= number <= info.max:
            if dtype.itemsize == 8:
                raise ValueError("Overflow when unpacking long long")
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
        return number

    return to_int


def _store(self: Tensor, results: list[Any]) -> Tensor:
    data = writable_data(self)
    data[...] = np.asarray(results, dtype=data.dtype).reshape(data.shape)
    return self


def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace every element ``x`` of this CPU tensor by ``callable(x)``, in place.

    Args:
        callable (callable): takes one Python number, returns one.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0])
        >>> x.apply_(lambda v: v * 10)
        tensor([10., 20., 30.])
    """
    _check(self, "apply_")
    convert = _converter(self)
    return _store(self, [convert(callable(value)) for value in self.reshape(-1).tolist()])


def map_(self: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:  # noqa: A002
    """Replace every element ``x`` of this CPU tensor by ``callable(x, y)``, with ``y`` the element
    of ``tensor`` (broadcast to this tensor's shape, of the same dtype) at the same place, in place.

    Args:
        tensor (Tensor): the second operand.
        callable (callable): takes two Python numbers, returns one.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0])
        >>> x.map_(ember.tensor([10.0]), lambda a, b: a + b)
        tensor([11., 12., 13.])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not {type_name(tensor)}")
    _check(self, "map_")
    if tensor._requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    if tensor.dtype is not self.dtype:
        raise TypeError(f"map_: expected a {self.dtype} tensor for 'other' (got {tensor.dtype})")
    convert = _converter(self)
    return _store(self, [convert(callable(a, b)) for a, b in zip(_elements(self), _elements(tensor, self.shape))])


def _elements(tensor: Tensor, shape: tuple[int, ...] | None = None) -> list[Any]:
    """The elements of ``tensor`` (broadcast to ``shape``), in row-major order, as Python numbers."""
    return (tensor if shape is None else tensor.expand(shape)).reshape(-1).tolist()


def map2_(self: Tensor, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:  # noqa: A002
    """Replace every element ``a`` of this CPU tensor by ``callable(a, b, c)``, with ``b`` and ``c`` the elements
    of ``x`` and ``y`` (broadcast to this tensor's shape, of its dtype) at the same place, in place.

    Args:
        x (Tensor): the second operand.
        y (Tensor): the third operand.
        callable (callable): takes three Python numbers, returns one.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0])
        >>> x.map2_(ember.tensor([10.0]), ember.tensor([1.0, 2.0, 3.0]), lambda a, b, c: a + b * c)
        tensor([11., 22., 33.])
    """
    for position, (name, operand) in enumerate((("x", x), ("y", y)), 1):
        if not isinstance(operand, Tensor):
            raise TypeError(
                f"map2_(): argument '{name}' (position {position}) must be Tensor, not {type_name(operand)}"
            )
    if x._requires_grad or y._requires_grad:
        raise RuntimeError("Can't call map2_() on Variable that requires grad. Use var.detach().map2_() instead.")
    _check(self, "map2_")
    for name, operand in (("x", x), ("y", y)):
        if operand.dtype is not self.dtype:
            raise TypeError(f"map2_: expected {self.type()} for argument '{name}' (got {operand.type()})")
    convert = _converter(self)
    values = zip(_elements(self), _elements(x, self.shape), _elements(y, self.shape))
    return _store(self, [convert(callable(a, b, c)) for a, b, c in values])
