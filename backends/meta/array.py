"""The meta device's array: a shape, a NumPy dtype, strides and an offset into a storage that
holds no elements.

Shapes of results come from NumPy's own rules, applied to arrays that cost no memory: the view
a basic index gives is read off a NumPy view of a one-byte buffer with the meta array's strides
(no element is ever read), and the shape of an advanced index off a NumPy array of the empty
structured dtype, whose elements take no bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember.meta_errors import no_data
from ember.strides import contiguous_strides, dense_order, is_dense

__all__ = ["MetaArray", "MetaStorage", "install_operators"]

#: the dtype of the stand-ins for shape arithmetic: its elements take no bytes
_NO_BYTES = np.dtype([])
#: the buffer the views of basic indexing are laid over (one byte, never read)
_ONE_BYTE = np.zeros(1, np.uint8)
#: the index array that stands for an integer meta array: its one element, 0, is in range of any nonempty axis
_ZERO_INDEX = np.zeros((), np.intp)


class MetaStorage:
    """The storage of meta arrays: only its size in bytes (views of one array share one)."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


class MetaArray:
    """An array on the meta device: ``shape``, ``dtype`` (a NumPy dtype), ``strides`` and ``offset``
    (in elements) into a :class:`MetaStorage`, and no elements."""

    __slots__ = ("shape", "dtype", "strides", "offset", "storage")
    __hash__ = None  # type: ignore[assignment]  # == is element-wise

    def __init__(
        self, shape: tuple[int, ...], dtype: Any, strides: tuple[int, ...], offset: int, storage: MetaStorage
    ) -> None:
        self.shape = shape
        self.dtype = dtype
        self.strides = strides
        self.offset = offset
        self.storage = storage

    @classmethod
    def empty(cls, shape: tuple[int, ...], dtype: Any, strides: tuple[int, ...] | None = None) -> MetaArray:
        """A fresh array of ``shape`` and NumPy ``dtype`` with a storage of its own, row-major unless
        ``strides`` are given."""
        shape, dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        strides = contiguous_strides(shape) if strides is None else tuple(strides)
        return cls(shape, dtype, strides, 0, MetaStorage(math.prod(shape) * dtype.itemsize))

    @classmethod
    def laid_out_as(cls, shape: tuple[int, ...], strides: tuple[int, ...], dtype: Any) -> MetaArray:
        """A fresh array of ``shape`` and ``dtype`` laid out as a copy of a ``shape``/``strides`` array is
        (PyTorch's ``preserve_format``): with those strides where they cover the elements once without
        gaps, else with dense strides in the order of theirs."""
        shape = tuple(int(n) for n in shape)
        if not is_dense(shape, strides):
            order = dense_order(shape, strides)
            inner = contiguous_strides(tuple(shape[d] for d in order))
            strides = tuple(inner[order.index(d)] for d in range(len(shape)))
        return cls.empty(shape, dtype, strides)

    def view(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int, dtype: Any = None) -> MetaArray:
        """An array seeing this one's storage with another shape, strides, offset (and dtype)."""
        return MetaArray(shape, self.dtype if dtype is None else dtype, strides, offset, self.storage)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def strided_standin(self) -> np.ndarray:
        """A NumPy view with this array's shape and strides (one byte an element) over one byte,
        whose views give the shapes, strides and offsets of this array's views; never read."""
        return as_strided(_ONE_BYTE, self.shape, self.strides)

    def __getitem__(self, key: Any) -> MetaArray:
        key = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, (MetaArray, np.ndarray, list)) for k in key):
            standin = np.empty(self.shape, _NO_BYTES)
            return MetaArray.empty(standin[_index_standins(key)].shape, self.dtype)
        if not any(k is Ellipsis for k in key):
            key += (Ellipsis,)  # a view even where every axis gets an integer (NumPy gives a scalar)
        base = self.strided_standin()
        view = base[key]
        strides = view.strides  # one byte an element: the strides count elements
        if any(s < 0 for s in strides):  # a reversed axis: the meta device copies (as torch.flip does)
            return MetaArray.empty(view.shape, self.dtype)
        moved = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return self.view(view.shape, strides, self.offset + moved)

    def __setitem__(self, key: Any, value: Any) -> None:
        key = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, MetaArray) and k.dtype == np.bool_ for k in key):
            return  # how many elements a meta mask selects is unknown: nothing to check, nothing to write (torch)
        target = self[key].shape
        shape = value.shape if isinstance(value, (MetaArray, np.ndarray)) else ()
        np.broadcast_to(np.empty(shape, _NO_BYTES), target)  # NumPy's check that the value fits, no write

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def __pos__(self) -> MetaArray:
        return self

    def __bool__(self) -> bool:
        raise no_data("bool")

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"


def _index_standins(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """``key`` with each integer meta array replaced by a NumPy index array of its shape that takes no
    memory; a boolean meta array (whose result's shape depends on its values) is refused."""
    out = []
    for k in key:
        if isinstance(k, MetaArray):
            if k.dtype == np.bool_:
                raise no_data("index with a boolean mask")
            k = np.broadcast_to(_ZERO_INDEX, k.shape)
        out.append(k)
    return tuple(out)


def install_operators(namespace: Any) -> None:
    """Give :class:`MetaArray` the array object's operators, each the namespace function of its name."""

    def binary(fn: Callable[..., MetaArray]) -> tuple[Callable[..., MetaArray], ...]:
        def forward(self: MetaArray, other: Any) -> MetaArray:
            return fn(self, other)

        def reflected(self: MetaArray, other: Any) -> MetaArray:
            return fn(other, self)

        def inplace(self: MetaArray, other: Any) -> MetaArray:
            result = fn(self, other)
            if result.shape != self.shape:
                raise ValueError(
                    f"non-broadcastable output operand with shape {self.shape} doesn't match the broadcast "
                    f"shape {result.shape}"
                )
            return self

        return forward, reflected, inplace

    for name, fn_name in {
        "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "floordiv": "floor_divide",
        "mod": "remainder", "pow": "pow", "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
        "xor": "bitwise_xor",
    }.items():  # fmt: skip
        forward, reflected, inplace = binary(getattr(namespace, fn_name))
        setattr(MetaArray, f"__{name}__", forward)
        setattr(MetaArray, f"__r{name}__", reflected)
        setattr(MetaArray, f"__i{name}__", inplace)
    for name, fn_name in {
        "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    }.items():  # fmt: skip
        setattr(MetaArray, f"__{name}__", binary(getattr(namespace, fn_name))[0])
    for name, fn_name in {"neg": "negative", "abs": "abs", "invert": "bitwise_invert"}.items():
        setattr(MetaArray, f"__{name}__", getattr(namespace, fn_name))
