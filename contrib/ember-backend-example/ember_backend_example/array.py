"""``ExampleArray``: the native array of the example backend.

ember reads only what the array API standard's array object offers: ``shape``, ``ndim``,
``size``, ``dtype``, the arithmetic and comparison operators (with Python scalars too),
``x[key]`` and ``x[key] = value``. A real backend would hold a device buffer here; this one
holds a NumPy array in ``.data``.
"""

from __future__ import annotations

import operator

import numpy as np

__all__ = ["ExampleArray", "unwrap", "wrap"]


class ExampleArray:
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)

    def __getitem__(self, key):
        return wrap(self.data[unwrap(key)])

    def __setitem__(self, key, value):
        self.data[unwrap(key)] = unwrap(value)

    def __repr__(self):
        return f"ExampleArray({self.data!r})"

    __hash__ = None


def unwrap(value):
    """The NumPy array inside an ``ExampleArray`` (also inside tuples and lists, such as index keys)."""
    if isinstance(value, ExampleArray):
        return value.data
    if isinstance(value, (tuple, list)):
        return type(value)(unwrap(v) for v in value)
    return value


def wrap(value):
    """An ``ExampleArray`` around a NumPy result (NumPy scalars become 0-d arrays)."""
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    return ExampleArray(np.asarray(value))


def _binary(op):
    return lambda self, other: wrap(op(self.data, unwrap(other)))


def _reflected(op):
    return lambda self, other: wrap(op(unwrap(other), self.data))


def _inplace(iop):
    def method(self, other):
        # `x += y` must update x's buffer in place: views of x see the change
        self.data = iop(self.data, unwrap(other))
        return self

    return method


# The operators: each unwraps its operands, applies NumPy's operator and wraps the result.
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(ExampleArray, f"__{_name}__", _binary(_op))
    setattr(ExampleArray, f"__r{_name}__", _reflected(_op))
    setattr(ExampleArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ExampleArray, f"__{_name}__", _binary(getattr(operator, _name)))
ExampleArray.__neg__ = lambda self: wrap(-self.data)
ExampleArray.__pos__ = lambda self: self
ExampleArray.__abs__ = lambda self: wrap(abs(self.data))
ExampleArray.__invert__ = lambda self: wrap(~self.data)
