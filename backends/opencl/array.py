"""The OpenCL array: a strided view (shape, strides, offset in elements) of an OpenCL buffer,
its Python operators, and the shape and stride arithmetic of views.

The operators compute with the array namespace, which is built on this class and so cannot
be imported here: the namespace hands its functions to :func:`bind_operations` once, when it
is imported (the backend imports it before any array exists).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ember.strides import contiguous_strides

from .runtime import Storage

__all__ = [
    "CLArray",
    "empty",
    "result",
    "as_shape",
    "contiguous_strides",
    "broadcast_shapes",
    "broadcast_strides",
    "collapse",
    "bind_operations",
]


class _Unbound:
    """The operations before :func:`bind_operations`: any use says what is missing."""

    def __getattr__(self, name):
        raise RuntimeError(f"CLArray's operators need ember.backends.opencl.namespace imported (it binds {name})")


_ops = _Unbound()


def bind_operations(operations):
    """Give the array's operators the functions they compute with (``add`` ... ``matmul``,
    the comparisons, ``negative``, ``abs``, ``bitwise_invert``, ``copy_into``, ``getitem``,
    ``setitem`` and ``to_host``); called once by ``namespace.py``."""
    global _ops
    _ops = operations


class CLArray:
    """An array in OpenCL device memory (array API array object).

    Attributes:
        shape, strides (in elements), offset (in elements), dtype (a NumPy dtype),
        storage (the :class:`~ember.backends.opencl.runtime.Storage` shared by views).
    """

    __slots__ = ("shape", "strides", "offset", "dtype", "storage", "__weakref__")
    __hash__ = None

    def __init__(self, storage, shape, dtype, strides=None, offset=0):
        self.storage = storage
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.strides = contiguous_strides(self.shape) if strides is None else tuple(strides)
        self.offset = int(offset)

    @property
    def device(self):
        return self.storage.device

    @property
    def buffer(self):
        return self.storage.buffer

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def is_contiguous(self):
        # an array without elements is contiguous whatever its strides, as PyTorch and NumPy count it
        if 0 in self.shape:
            return True
        return all(st == c for st, c, n in zip(self.strides, contiguous_strides(self.shape), self.shape) if n != 1)

    def view(self, shape, strides, offset):
        return CLArray(self.storage, shape, self.dtype, strides, offset)

    def bitcast(self, dtype):
        """This array's bytes read as ``dtype`` (the rules of :meth:`ember.backend.Backend.bitcast`)."""
        dtype = np.dtype(dtype)
        old, new = self.dtype.itemsize, dtype.itemsize
        if old == new:
            return CLArray(self.storage, self.shape, dtype, self.strides, self.offset)
        shape = self.shape[:-1] + (self.shape[-1] * old // new,)
        strides = tuple(s * old // new for s in self.strides[:-1]) + (1,)
        return CLArray(self.storage, shape, dtype, strides, self.offset * old // new)

    def __repr__(self):
        return f"CLArray({_ops.to_host(self)!r}, device={self.device.name!r})"

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __setitem__(self, key, value):
        _ops.setitem(self, key, value)

    def __bool__(self):
        return bool(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __index__(self):
        return operator.index(self._scalar())

    def _scalar(self):
        if self.size != 1:
            raise TypeError(f"only one-element arrays convert to Python scalars (shape {self.shape})")
        return _ops.to_host(self).reshape(()).item()

    # -- arithmetic: the array namespace's functions, reflected and in place -------------------
    def _inplace(self, result):
        _ops.copy_into(self, result)
        return self

    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __iadd__(self, other):
        return self._inplace(_ops.add(self, other))

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __isub__(self, other):
        return self._inplace(_ops.subtract(self, other))

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __imul__(self, other):
        return self._inplace(_ops.multiply(self, other))

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __itruediv__(self, other):
        return self._inplace(_ops.divide(self, other))

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __ifloordiv__(self, other):
        return self._inplace(_ops.floor_divide(self, other))

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __imod__(self, other):
        return self._inplace(_ops.remainder(self, other))

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __ipow__(self, other):
        return self._inplace(_ops.pow(self, other))

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __imatmul__(self, other):
        return self._inplace(_ops.matmul(self, other))

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __iand__(self, other):
        return self._inplace(_ops.bitwise_and(self, other))

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __ior__(self, other):
        return self._inplace(_ops.bitwise_or(self, other))

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __ixor__(self, other):
        return self._inplace(_ops.bitwise_xor(self, other))

    # -- comparisons and unary operators ----------------------------------------------------------
    def __eq__(self, other):
        return _ops.equal(self, other)

    def __ne__(self, other):
        return _ops.not_equal(self, other)

    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.bitwise_invert(self)


_STRIDES = {}


def empty(shape, dtype, device):
    """A new contiguous array on ``device`` (uninitialised)."""
    dtype = np.dtype(dtype)
    shape = tuple(map(int, shape))
    out = object.__new__(CLArray)
    out.storage = Storage(device, math.prod(shape) * dtype.itemsize)
    out.shape, out.dtype, out.offset = shape, dtype, 0
    strides = _STRIDES.get(shape)
    if strides is None:
        if len(_STRIDES) > 4096:
            _STRIDES.clear()
        strides = _STRIDES[shape] = contiguous_strides(shape)
    out.strides = strides
    return out


def result(device, shape, strides, dtype, nbytes):
    """A new contiguous array of a layout the caller has cached (``strides`` the contiguous
    strides of ``shape``, ``nbytes`` its size): :func:`empty` without its conversions."""
    out = object.__new__(CLArray)
    out.storage = Storage(device, nbytes)
    out.shape, out.strides, out.dtype, out.offset = shape, strides, dtype, 0
    return out


# -- shapes -------------------------------------------------------------------------------
def as_shape(shape):
    """``shape`` (an int or a sequence of ints) as a tuple of ints."""
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def broadcast_shapes(*shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(ndim):
        sizes = {s[d - ndim + len(s)] for s in shapes if d - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_strides(a_shape, a_strides, shape):
    """The strides ``a_strides`` of an ``a_shape`` array broadcast to ``shape`` (0 along
    broadcast dimensions)."""
    lead = len(shape) - len(a_shape)
    if lead < 0:
        raise ValueError(f"cannot broadcast an array of shape {a_shape} to {tuple(shape)}")
    strides = [0] * lead
    for size, n, st in zip(shape[lead:], a_shape, a_strides):
        if n == size:
            strides.append(st if n != 1 else 0)
        elif n == 1:
            strides.append(0)
        else:
            raise ValueError(f"cannot broadcast an array of shape {a_shape} to {tuple(shape)}")
    return tuple(strides)


def collapse(shape, stride_lists):
    """Merge dimensions that every operand walks contiguously; drop size-1 dimensions."""
    dims = [d for d, n in enumerate(shape) if n != 1]
    out_shape, out_strides = [], [[] for _ in stride_lists]
    for d in dims:
        if out_shape and all(st[-1] == s[d] * shape[d] for st, s in zip(out_strides, stride_lists)):
            out_shape[-1] *= shape[d]
            for st, s in zip(out_strides, stride_lists):
                st[-1] = s[d]
            continue
        out_shape.append(shape[d])
        for st, s in zip(out_strides, stride_lists):
            st.append(s[d])
    return out_shape, out_strides
