"""An opaque array that offers only the array API's array object, over a NumPy array."""

from __future__ import annotations

import operator

import numpy as np

from ember.backends.numpy.namespace import quiet

__all__ = ["RestrictedArray", "unwrap", "wrap"]


def unwrap(value):
    """The NumPy value inside ``value`` (recursing into lists, tuples and index keys)."""
    if isinstance(value, RestrictedArray):
        return value._array
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    return value


def wrap(value):
    """Wrap NumPy arrays (and tuples of them) returned by NumPy."""
    if isinstance(value, np.ndarray):
        return RestrictedArray(value)
    if isinstance(value, np.generic):
        return RestrictedArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    return value


class RestrictedArray:
    """Only ``shape``, ``ndim``, ``size``, ``dtype``, operators and ``[]`` are available."""

    __slots__ = ("_array",)

    def __init__(self, array):
        self._array = array

    @property
    def shape(self):
        return self._array.shape

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def size(self):
        return self._array.size

    @property
    def dtype(self):
        return self._array.dtype

    def __getitem__(self, key):
        return RestrictedArray(np.asarray(self._array[unwrap(key)]))

    def __setitem__(self, key, value):
        self._array[unwrap(key)] = unwrap(value)

    def __repr__(self):
        return f"RestrictedArray({self._array!r})"


def _binary(op):
    op = quiet(op)  # silent on 0/0, inf - inf ... as the NumPy backend is
    return lambda self, other: RestrictedArray(np.asarray(op(self._array, unwrap(other))))


def _reflected(op):
    op = quiet(op)
    return lambda self, other: RestrictedArray(np.asarray(op(unwrap(other), self._array)))


def _inplace(op):
    def method(self, other):
        self._array = op(self._array, unwrap(other))
        return self

    return method


for _name, _op in {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
}.items():  # fmt: skip
    setattr(RestrictedArray, f"__{_name}__", _binary(_op))
    setattr(RestrictedArray, f"__r{_name}__", _reflected(_op))
    setattr(RestrictedArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name, _op in {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}.items():  # fmt: skip
    setattr(RestrictedArray, f"__{_name}__", _binary(_op))
RestrictedArray.__hash__ = None
RestrictedArray.__neg__ = lambda self: RestrictedArray(-self._array)
RestrictedArray.__pos__ = lambda self: self
RestrictedArray.__abs__ = lambda self: RestrictedArray(np.abs(self._array))
RestrictedArray.__invert__ = lambda self: RestrictedArray(~self._array)
