"""The meta device's array namespace: every primitive computes only its result's shape and dtype.

The rules are NumPy's, the ones the NumPy backend follows, applied to stand-ins that cost no
memory: a result's dtype is that of the NumPy backend's own function applied to one-element
arrays of the operands' dtypes (so type promotion, Python-scalar operands and the dtype of a
reduction are exactly the CPU's), and a shape comes from NumPy's broadcasting, reshaping and
indexing of arrays whose elements take no bytes. A primitive whose result depends on the values
(``nonzero``) raises NotImplementedError, and so does any function the namespace lacks.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ember.backends.numpy.namespace import namespace as numpy_namespace
from ember.backends.numpy.namespace import quiet
from ember.meta_errors import no_data
from ember.primitives import COMPLEX, COMPOSITIONS, DERIVED, FFT
from ember.strides import view_strides

from .array import _NO_BYTES, MetaArray, install_operators

__all__ = ["MetaNamespace", "namespace"]

_Axes = int | Sequence[int] | None

_ONES: dict[Any, np.ndarray] = {}


def _one(dtype: Any, ndim: int = 0) -> np.ndarray:
    """A NumPy array of ``ndim`` dimensions holding one 1 of ``dtype``: the stand-in that gives dtypes."""
    if ndim:
        return np.ones((1,) * ndim, dtype)
    one = _ONES.get(dtype)
    if one is None:
        one = _ONES[dtype] = np.ones((), dtype)
    return one


def _standin(value: Any) -> Any:
    """A one-element NumPy stand-in for an array operand; a Python scalar stands for itself."""
    return _one(value.dtype) if isinstance(value, (MetaArray, np.ndarray)) else value


def _no_bytes(shape: tuple[int, ...]) -> np.ndarray:
    """A NumPy array of ``shape`` whose elements take no bytes, for NumPy's shape rules."""
    return np.empty(shape, _NO_BYTES)


def _rule(name: str) -> Callable[..., Any]:
    """The NumPy backend's function ``name`` (or NumPy's), silent on the stand-ins' 1 / 0 and such."""
    return quiet(getattr(numpy_namespace, name, None) or getattr(np, name))


def _elementwise(name: str) -> Callable[..., MetaArray]:
    rule = _rule(name)

    def op(*args: Any, **kwargs: Any) -> MetaArray:
        dtype = rule(*(_standin(a) for a in args), **kwargs).dtype
        shapes = [a.shape for a in args if isinstance(a, (MetaArray, np.ndarray))]
        return MetaArray.empty(np.broadcast_shapes(*shapes), dtype)

    op.__name__ = name
    return op


def _reduced_shape(shape: tuple[int, ...], axis: _Axes, keepdims: bool) -> tuple[int, ...]:
    axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
    return tuple(1 if d in axes else n for d, n in enumerate(shape) if keepdims or d not in axes)


def _reduction(name: str) -> Callable[..., MetaArray]:
    rule = _rule(name)

    def reduce(x: MetaArray, /, *, axis: _Axes = None, keepdims: bool = False, **kwargs: Any) -> MetaArray:
        dtype = rule(_one(x.dtype), **kwargs).dtype
        return MetaArray.empty(_reduced_shape(x.shape, axis, keepdims), dtype)

    reduce.__name__ = name
    return reduce


def _cumulative_sum(
    x: MetaArray, /, *, axis: int | None = None, dtype: Any = None, include_initial: bool = False
) -> MetaArray:
    out = _rule("cumulative_sum")(_one(x.dtype), dtype=dtype).dtype
    if axis is None:
        return MetaArray.empty((x.size + include_initial,), out)
    axis = normalize_axis_index(axis, x.ndim)
    return MetaArray.empty(x.shape[:axis] + (x.shape[axis] + include_initial,) + x.shape[axis + 1 :], out)


def _argsort(x: MetaArray, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> MetaArray:
    normalize_axis_index(axis, x.ndim)
    return MetaArray.empty(x.shape, np.intp)


def _matmul(x1: MetaArray, x2: MetaArray, /) -> MetaArray:
    if not x1.ndim or not x2.ndim:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a = (1,) + x1.shape if x1.ndim == 1 else x1.shape
    b = x2.shape + (1,) if x2.ndim == 1 else x2.shape
    if a[-1] != b[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {b[-2]} is different from {a[-1]})"
        )
    rows = (a[-2],) if x1.ndim > 1 else ()
    cols = (b[-1],) if x2.ndim > 1 else ()
    dtype = _rule("matmul")(_one(x1.dtype, 1), _one(x2.dtype, 1)).dtype
    return MetaArray.empty(np.broadcast_shapes(a[:-2], b[:-2]) + rows + cols, dtype)


def _astype(x: MetaArray, dtype: Any, /, *, copy: bool = True) -> MetaArray:
    dtype = np.dtype(dtype)
    return x if not copy and dtype == x.dtype else MetaArray.laid_out_as(x.shape, x.strides, dtype)


def _reshape(x: MetaArray, /, shape: Sequence[int], *, copy: bool | None = None) -> MetaArray:
    new = _no_bytes(x.shape).reshape(shape).shape  # NumPy's -1 and size rules
    strides = None if copy else view_strides(x.shape, x.strides, new)
    if strides is not None:
        return x.view(new, strides, x.offset)
    if copy is False:
        raise ValueError(f"cannot reshape an array of shape {x.shape} into {tuple(shape)} without copying")
    return MetaArray.empty(new, x.dtype)


def _permute_dims(x: MetaArray, /, axes: Sequence[int]) -> MetaArray:
    order = normalize_axis_tuple(axes, x.ndim)
    if len(order) != x.ndim:
        raise ValueError("permute_dims: axes don't match array")
    return x.view(tuple(x.shape[d] for d in order), tuple(x.strides[d] for d in order), x.offset)


def _broadcast_to(x: MetaArray, /, shape: Sequence[int]) -> MetaArray:
    new = np.broadcast_to(_no_bytes(x.shape), shape).shape  # NumPy's check
    lead = len(new) - x.ndim
    strides = (0,) * lead + tuple(
        0 if n == 1 and m != 1 else s for n, m, s in zip(x.shape, new[lead:], x.strides, strict=True)
    )
    return x.view(new, strides, x.offset)


def _concat(arrays: Sequence[MetaArray], /, *, axis: int | None = 0) -> MetaArray:
    if axis is None:
        arrays, axis = [_reshape(a, (-1,)) for a in arrays], 0
    ndim = arrays[0].ndim
    # NumPy's checks of the axis, of zero-dimensional arrays and of the dtypes, and its result dtype
    dtype = _rule("concat")([_one(a.dtype, min(a.ndim, 1) and a.ndim) for a in arrays], axis=axis).dtype
    axis = normalize_axis_index(axis, ndim)
    shape = list(arrays[0].shape)
    for i, a in enumerate(arrays[1:], 1):
        for d, (n, m) in enumerate(zip(shape, a.shape, strict=True)):
            if d != axis and n != m:
                raise ValueError(
                    "all the input array dimensions except for the concatenation axis must match exactly, but "
                    f"along dimension {d}, the array at index 0 has size {n} and the array at index {i} has size {m}"
                )
    shape[axis] = sum(a.shape[axis] for a in arrays)
    return MetaArray.empty(tuple(shape), dtype)


def _asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None) -> MetaArray:
    if isinstance(obj, MetaArray):
        return _astype(obj, obj.dtype if dtype is None else dtype, copy=bool(copy))
    host = np.asarray(obj, dtype=dtype)
    return MetaArray.empty(host.shape, host.dtype)


def _full(shape: int | tuple[int, ...], fill_value: Any, *, dtype: Any = None, device: Any = None) -> MetaArray:
    dtype = np.full((), _standin(fill_value), dtype=dtype).dtype
    return MetaArray.empty((shape,) if isinstance(shape, int) else tuple(shape), dtype)


def _arange(start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None) -> MetaArray:
    if stop is None:
        start, stop = 0, start
    dtype = np.arange(start, start + 0 * stop, step, dtype=dtype).dtype  # NumPy's dtype, from no element
    if all(isinstance(v, int) for v in (start, stop, step)):
        count = -((start - stop) // step)
    else:
        count = math.ceil((stop - start) / step)
    return MetaArray.empty((max(count, 0),), dtype)


def _flip(x: MetaArray, /, *, axis: _Axes = None) -> MetaArray:
    if axis is not None:
        normalize_axis_tuple(axis, x.ndim)
    return MetaArray.laid_out_as(x.shape, x.strides, x.dtype)  # a copy in the input's layout, as the CPU's


def _nonzero(x: MetaArray, /) -> tuple[MetaArray, ...]:
    raise no_data("nonzero")


#: the transforms whose last transformed axis holds ``n // 2 + 1`` frequencies of ``n`` real points
_TO_HALF = ("rfft", "ihfft", "rfftn")
#: the transforms whose last transformed axis gives ``n`` real points, ``2 * (m - 1)`` by default
_FROM_HALF = ("irfft", "hfft", "irfftn")


def _transform(name: str) -> Callable[..., MetaArray]:
    """An ``xp.fft`` function: the transformed sizes from NumPy's rules for ``n``/``s`` and ``axis``/``axes``,
    and the dtype NumPy's function gives on a stand-in of two elements an axis."""
    numpy_fn = getattr(numpy_namespace.fft, name)
    rule, signature = quiet(numpy_fn), inspect.signature(numpy_fn)

    def transform(x: MetaArray, /, *args: Any, **kwargs: Any) -> MetaArray:
        bound = signature.bind(x, *args, **kwargs)
        bound.apply_defaults()
        given = bound.arguments
        if "axis" in given:
            axes: tuple[int, ...] = (normalize_axis_index(given["axis"], x.ndim),)
            points: Sequence[int | None] = (given["n"],)
        else:
            s = given["s"]
            axes = normalize_axis_tuple(
                range(x.ndim - (x.ndim if s is None else len(s)), x.ndim) if given["axes"] is None else given["axes"],
                x.ndim,
            )
            points = (None,) * len(axes) if s is None else tuple(s)
        shape = list(x.shape)
        for i, (axis, n) in enumerate(zip(axes, points, strict=True)):
            last = i == len(axes) - 1
            if n is None:
                n = 2 * (x.shape[axis] - 1) if last and name in _FROM_HALF else x.shape[axis]
            if n < 1:
                raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
            shape[axis] = n // 2 + 1 if last and name in _TO_HALF else n
        dtype = rule(np.ones((2,) * len(axes), x.dtype)).dtype
        return MetaArray.empty(tuple(shape), dtype)

    transform.__name__ = name
    return transform


class _UnsupportedOnMeta(NotImplementedError, AttributeError):
    """A function the meta namespace lacks: NotImplementedError for the caller, and AttributeError to
    ``getattr(xp, name, default)``, which the core uses to ask whether a namespace has a function."""


class MetaNamespace(SimpleNamespace):
    """The namespace: its functions compute shapes and dtypes; any other raises NotImplementedError."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _UnsupportedOnMeta(f"{name}: the meta device has no implementation of this operation")


_ELEMENTWISE = (
    "add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow", "negative", "abs", "sign",
    "maximum", "minimum", "exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "tanh", "floor", "ceil", "round", "trunc", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf",
    "isfinite", "where", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", *COMPLEX,
)  # fmt: skip

namespace = MetaNamespace(
    **{name: _elementwise(name) for name in _ELEMENTWISE},
    **{name: _reduction(name) for name in ("sum", "prod", "max", "min", "mean", "all", "any", "argmax", "argmin")},
    cumulative_sum=_cumulative_sum,
    argsort=_argsort,
    matmul=_matmul,
    astype=_astype,
    reshape=_reshape,
    permute_dims=_permute_dims,
    broadcast_to=_broadcast_to,
    concat=_concat,
    asarray=_asarray,
    full=_full,
    arange=_arange,
    flip=_flip,
    nonzero=_nonzero,
    fft=SimpleNamespace(**{name: _transform(name) for name in FFT}),
)
for _name in DERIVED:  # the rest of the derived primitives: the core's compositions over this namespace
    if _name not in vars(namespace):
        _composed = partial(COMPOSITIONS[_name], namespace)
        _composed.__wrapped__ = COMPOSITIONS[_name]  # type: ignore[attr-defined]
        setattr(namespace, _name, _composed)
install_operators(namespace)
