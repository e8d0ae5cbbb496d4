"""The array primitives of the backend contract (see :mod:`ember.backend`), in two tiers.

- :data:`REQUIRED`: what every backend's array namespace ``xp`` implements, with the
  Python array API standard's names and semantics.
- :data:`DERIVED`: primitives the core composes from the required ones. Each has a portable
  composition here (:data:`COMPOSITIONS`), written only against ``xp`` and the array object;
  a backend whose namespace has its own function of that name overrides it (NumPy, CuPy and
  OpenCL do, for speed), one that lacks it gets the composition (the restricted backend).

:func:`complete_namespace` adds the compositions a namespace lacks (``ember.backend.Backend``
does that once, when a backend class sets ``xp``); :func:`build_namespace` makes a namespace
of every primitive from a NumPy-like module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any, TypeAlias

__all__ = [
    "AxisError",
    "COMPLEX",
    "COMPOSITIONS",
    "FFT",
    "DERIVED",
    "PRIMITIVES",
    "REQUIRED",
    "build_namespace",
    "complete_namespace",
    "overridden",
    "with_compositions",
]

#: The array-namespace functions every backend implements (array API names and semantics).
REQUIRED = (
    # creation
    "asarray", "full", "arange",
    # element-wise arithmetic
    "add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow", "negative",
    "abs", "sign", "maximum", "minimum",
    # element-wise transcendental
    "exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "tanh", "floor", "ceil", "round",
    # comparison and logic
    "equal", "less", "logical_and", "logical_not", "where",
    # reductions and scans
    "sum", "prod", "max", "min", "mean", "argmax", "argmin", "all", "cumulative_sum", "argsort",
    # linear algebra
    "matmul",
    # manipulation
    "astype", "reshape", "permute_dims", "broadcast_to", "concat",
)  # fmt: skip


# a native array and dtype of some backend (each backend has its own types); an array namespace
_Array: TypeAlias = Any
_Native: TypeAlias = Any
_Namespace: TypeAlias = Any
_Axes: TypeAlias = int | Sequence[int]


class AxisError(ValueError, IndexError):
    """An axis outside an array's dimensions (NumPy's ``AxisError`` is both kinds too)."""


def _axes(axis: _Axes, ndim: int, op: str) -> set[int]:
    """``axis`` (an int or a sequence of ints, negative counting from the end) as a set."""
    out = set()
    for a in (axis,) if isinstance(axis, int) else axis:
        if not -ndim <= a < ndim:
            raise AxisError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
        out.add(a % ndim)
    return out


def _default_float(xp: _Namespace, dtype: _Native) -> _Native:
    return xp.asarray(0.0).dtype if dtype is None else dtype


# -- the portable compositions: each takes the namespace first --------------------------------
def _zeros(xp: _Namespace, shape: int | tuple[int, ...], *, dtype: _Native = None) -> _Array:
    return xp.full(shape, 0, dtype=_default_float(xp, dtype))


def _ones(xp: _Namespace, shape: int | tuple[int, ...], *, dtype: _Native = None) -> _Array:
    return xp.full(shape, 1, dtype=_default_float(xp, dtype))


def _empty(xp: _Namespace, shape: int | tuple[int, ...], *, dtype: _Native = None) -> _Array:
    return xp.full(shape, 0, dtype=_default_float(xp, dtype))


def _eye(xp: _Namespace, n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: _Native = None) -> _Array:
    n_cols = n_rows if n_cols is None else n_cols
    rows = xp.reshape(xp.arange(n_rows), (n_rows, 1))
    on_diagonal = xp.equal(rows + k, xp.reshape(xp.arange(n_cols), (1, n_cols)))
    return xp.astype(on_diagonal, _default_float(xp, dtype))


def _not_equal(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.logical_not(xp.equal(x1, x2))


def _less_equal(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.logical_or(xp.less(x1, x2), xp.equal(x1, x2))


def _greater(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.less(x2, x1)


def _greater_equal(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.less_equal(x2, x1)


def _logical_or(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.logical_not(xp.logical_and(xp.logical_not(x1), xp.logical_not(x2)))


def _logical_xor(xp: _Namespace, x1: _Array, x2: _Array, /) -> _Array:
    return xp.not_equal(xp.logical_not(x1), xp.logical_not(x2))


def _isnan(xp: _Namespace, x: _Array, /) -> _Array:
    return xp.not_equal(x, x)


def _isinf(xp: _Namespace, x: _Array, /) -> _Array:
    return xp.equal(xp.abs(x), math.inf)


def _isfinite(xp: _Namespace, x: _Array, /) -> _Array:
    return xp.logical_not(xp.logical_or(xp.isnan(x), xp.isinf(x)))


def _trunc(xp: _Namespace, x: _Array, /) -> _Array:
    return xp.where(xp.less(x, 0), xp.ceil(x), xp.floor(x))


def _any(xp: _Namespace, x: _Array, /, *, axis: _Axes | None = None, keepdims: bool = False) -> _Array:
    return xp.logical_not(xp.all(xp.logical_not(x), axis=axis, keepdims=keepdims))


def _sort(xp: _Namespace, x: _Array, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> _Array:
    order = xp.argsort(x, axis=axis, descending=descending, stable=stable)
    return xp.take_along_axis(x, order, axis=axis)


def _expand_dims(xp: _Namespace, x: _Array, /, *, axis: _Axes = 0) -> _Array:
    ndim = x.ndim + (1 if isinstance(axis, int) else len(axis))
    new = _axes(axis, ndim, "expand_dims")
    sizes = iter(x.shape)
    return xp.reshape(x, tuple(1 if d in new else next(sizes) for d in range(ndim)))


def _squeeze(xp: _Namespace, x: _Array, /, axis: _Axes | None = None) -> _Array:
    gone = {d for d, n in enumerate(x.shape) if n == 1} if axis is None else _axes(axis, x.ndim, "squeeze")
    for d in gone:
        if x.shape[d] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {d} of size {x.shape[d]} (shape {tuple(x.shape)})")
    return xp.reshape(x, tuple(n for d, n in enumerate(x.shape) if d not in gone))


def _stack(xp: _Namespace, arrays: Sequence[_Array], /, *, axis: int = 0) -> _Array:
    return xp.concat([xp.expand_dims(a, axis=axis) for a in arrays], axis=axis)


def _flip(xp: _Namespace, x: _Array, /, *, axis: _Axes | None = None) -> _Array:
    flipped = range(x.ndim) if axis is None else _axes(axis, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if d in flipped else slice(None) for d in range(x.ndim))]


def _take(xp: _Namespace, x: _Array, indices: _Array, /, *, axis: int | None = None) -> _Array:
    if axis is None:
        x, axis = xp.reshape(x, (-1,)), 0
    (axis,) = _axes(axis, x.ndim, "take")
    return x[(slice(None),) * axis + (indices,)]


def _take_along_axis(xp: _Namespace, x: _Array, indices: _Array, /, *, axis: int = -1) -> _Array:
    if indices.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices ({indices.ndim} dimensions) and array ({x.ndim}) differ in dimensions"
        )
    (axis,) = _axes(axis, x.ndim, "take_along_axis")
    ranges = (
        indices if d == axis else xp.reshape(xp.arange(n), tuple(n if e == d else 1 for e in range(x.ndim)))
        for d, n in enumerate(x.shape)
    )
    return x[tuple(ranges)]


def _nonzero(xp: _Namespace, x: _Array, /) -> tuple[_Array, ...]:
    if x.ndim == 0:
        raise ValueError("nonzero: a 0-d array has no axis to index; reshape it to 1-d first")
    mask = xp.not_equal(x, 0)
    return tuple(
        xp.broadcast_to(xp.reshape(xp.arange(n), tuple(n if e == d else 1 for e in range(x.ndim))), x.shape)[mask]
        for d, n in enumerate(x.shape)
    )


#: Each derived primitive's portable composition, ``fn(xp, *args, **kwargs)``.
COMPOSITIONS: dict[str, Callable[..., _Array]] = {
    # creation
    "zeros": _zeros, "ones": _ones, "empty": _empty, "eye": _eye,
    # element-wise
    "trunc": _trunc,
    # comparison and logic
    "not_equal": _not_equal, "less_equal": _less_equal, "greater": _greater, "greater_equal": _greater_equal,
    "logical_or": _logical_or, "logical_xor": _logical_xor, "isnan": _isnan, "isinf": _isinf, "isfinite": _isfinite,
    # reductions and sorting
    "any": _any, "sort": _sort,
    # manipulation
    "expand_dims": _expand_dims, "squeeze": _squeeze, "stack": _stack, "flip": _flip, "take": _take,
    "take_along_axis": _take_along_axis, "nonzero": _nonzero,
}  # fmt: skip

#: The primitives the core composes from :data:`REQUIRED`; a backend may override each.
DERIVED = tuple(COMPOSITIONS)

#: Every primitive a backend's namespace offers once completed: required, then derived.
PRIMITIVES = REQUIRED + DERIVED

#: The array API's functions that complex numbers need beyond :data:`PRIMITIVES` (the inverse
#: hyperbolic functions on their principal branches): a namespace has them where its backend
#: registers the complex dtypes (NumPy, CuPy); a backend without complex dtypes need not.
COMPLEX = ("real", "imag", "conj", "asinh", "acosh", "atanh")

#: The array API's ``fft`` extension: the functions of the namespace's ``xp.fft`` (NumPy's and
#: CuPy's signatures: ``n``/``s``, ``axis``/``axes``, ``norm``), where its backend registers the
#: complex dtypes; ``ember.fft`` casts their results to PyTorch's dtypes.
FFT = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn", "ifftn", "rfftn", "irfftn")


def _bind(composition: Callable[..., Any], namespace: _Namespace) -> Callable[..., Any]:
    def primitive(*args: Any, **kwargs: Any) -> Any:
        return composition(namespace, *args, **kwargs)

    primitive.__name__ = composition.__name__.lstrip("_")
    primitive.__wrapped__ = composition  # type: ignore[attr-defined]
    return primitive


def with_compositions(xp: _Namespace, names: Iterable[str] = DERIVED) -> SimpleNamespace:
    """A copy of namespace ``xp`` whose primitives ``names`` are the portable compositions.

    The compositions call the copy, so a derived primitive composed from another derived one
    uses ``xp``'s own where it has one and the composition where it does not.

    Args:
        xp: an array namespace (a module or an object with one attribute per primitive).
        names: the derived primitives to take from their compositions (default: all).

    Example::

        >>> from ember.backends.numpy.namespace import namespace
        >>> portable = ember.primitives.with_compositions(namespace)
        >>> x = namespace.asarray([[1.0, 2.0], [3.0, 4.0]])
        >>> portable.flip(x, axis=0).tolist(), portable.eye(2, dtype=x.dtype).tolist()
        ([[3.0, 4.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]])
    """
    namespace = SimpleNamespace(**vars(xp))
    for name in names:
        setattr(namespace, name, _bind(COMPOSITIONS[name], namespace))
    return namespace


def complete_namespace(xp: _Namespace) -> _Namespace:
    """``xp`` itself if it has every derived primitive, else a copy with the missing ones composed.

    Example::

        >>> from types import SimpleNamespace
        >>> from ember.backends.numpy.namespace import namespace
        >>> required = SimpleNamespace(**{n: getattr(namespace, n) for n in ember.primitives.REQUIRED})
        >>> xp = ember.primitives.complete_namespace(required)
        >>> xp.stack([xp.arange(2), xp.arange(2)], axis=1).tolist()
        [[0, 0], [1, 1]]
    """
    missing = [name for name in DERIVED if not callable(getattr(xp, name, None))]
    return with_compositions(xp, missing) if missing else xp


def overridden(xp: _Namespace) -> list[str]:
    """The derived primitives namespace ``xp`` implements itself rather than by composition.

    Example::

        >>> len(ember.primitives.overridden(ember.backends.get_backend("cpu").xp))
        23
        >>> ember.primitives.overridden(ember.backends.get_backend("restricted").xp)
        []
    """
    return [name for name in DERIVED if getattr(getattr(xp, name), "__wrapped__", None) is not COMPOSITIONS[name]]


# -- namespaces from NumPy-like modules ---------------------------------------------------------
# array API name -> classic NumPy name, for modules that predate the standard's names
_CLASSIC_NAMES = {
    "permute_dims": "transpose",
    "concat": "concatenate",
    "pow": "power",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
}


def build_namespace(module: ModuleType, name: str) -> SimpleNamespace:
    """A namespace holding exactly :data:`PRIMITIVES` (and :data:`COMPLEX`, with ``fft`` holding
    :data:`FFT`, where ``module`` has them), taken from the NumPy-like ``module``
    (NumPy, CuPy): the module's own functions, adapted only where the module departs from
    the array API standard (older names, no ``descending`` sort, ``floor`` of integers).

    Args:
        module: the array library's module (``numpy``, ``cupy``).
        name: the namespace's ``__name__``.

    Example::

        >>> import numpy as np
        >>> xp = ember.backend.build_namespace(np, "numpy-namespace")
        >>> xp.sort(xp.asarray([3, 1, 2]), descending=True).tolist()
        [3, 2, 1]
    """

    def integer_preserving(fn: Callable[..., _Array]) -> Callable[..., _Array]:
        def op(x: _Array, *args: Any, **kwargs: Any) -> _Array:
            return module.array(x, copy=True) if x.dtype.kind in "iub" else fn(x, *args, **kwargs)

        op.__name__ = fn.__name__
        return op

    def argsort(x: _Array, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> _Array:
        if not descending:
            return module.argsort(x, axis=axis, kind="stable")
        n = x.shape[axis]
        flipped = module.argsort(module.flip(x, axis=axis), axis=axis, kind="stable")
        return module.flip(n - 1 - flipped, axis=axis)

    def sort(x: _Array, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> _Array:
        return module.take_along_axis(x, argsort(x, axis=axis, descending=descending), axis=axis)

    def astype(x: _Array, dtype: _Native, /, *, copy: bool = True) -> _Array:
        return x.astype(dtype, copy=copy)

    # A sum, product or mean whose result is float16 or bfloat16 (ml_dtypes' kind "V") accumulates
    # in float32 and rounds once, as PyTorch's acc_type: NumPy's bfloat16 loop rounds after every
    # addition (the sum of 1,000 ones would be 256)
    float32 = module.dtype(module.float32)

    def narrow_result(x: _Array, dtype: _Native) -> _Native:
        """The 16-bit float type of the result, or None when the result is of another type."""
        out = x.dtype if dtype is None else module.dtype(dtype)
        return out if out.itemsize == 2 and out.kind in "fV" else None

    def cumulative_sum(
        x: _Array, /, *, axis: int | None = None, dtype: _Native = None, include_initial: bool = False
    ) -> _Array:
        narrow = narrow_result(x, dtype)
        if narrow is not None:
            return module.cumsum(x, axis=axis, dtype=float32).astype(narrow)
        return module.cumsum(x, axis=axis, dtype=dtype)

    # The array methods do what the module functions do, without the functions' Python
    # wrappers (about twice as fast per call, which matters for small tensors); reductions
    # always return arrays, never NumPy scalars (which cannot be written in place).
    ndarray = module.ndarray

    def reduction(method: str) -> Callable[..., _Array]:
        def reduce(x: _Array, /, *, axis: _Axes | None = None, keepdims: bool = False, **kwargs: Any) -> _Array:
            narrow = narrow_result(x, kwargs.get("dtype")) if accumulates else None
            if narrow is not None:
                kwargs["dtype"] = float32
                result = getattr(x, method)(axis=axis, keepdims=keepdims, **kwargs).astype(narrow)
            else:
                result = getattr(x, method)(axis=axis, keepdims=keepdims, **kwargs)
            return result if type(result) is ndarray else module.asarray(result)

        accumulates = method in ("sum", "prod", "mean")

        reduce.__name__ = method
        return reduce

    def reshape(x: _Array, /, shape: Sequence[int], *, copy: bool | None = None) -> _Array:
        y = x.reshape(shape)
        # a view's base is its memory's owner in NumPy and CuPy alike (CuPy's may_share_memory
        # answered True for a copy on the GPU)
        if copy is False and y.size and (y.base is None or (y.base is not x and y.base is not x.base)):
            raise ValueError(f"cannot reshape an array of shape {x.shape} into {tuple(shape)} without copying")
        return y

    def permute_dims(x: _Array, /, axes: Sequence[int]) -> _Array:
        return x.transpose(axes)

    adapted: dict[str, Callable[..., _Array]] = {
        "floor": integer_preserving(module.floor),
        "ceil": integer_preserving(module.ceil),
        "trunc": integer_preserving(module.trunc),
        "round": integer_preserving(module.round),
        "argsort": argsort,
        "sort": sort,
        "astype": astype,
        "cumulative_sum": cumulative_sum,
        "reshape": reshape,
        "permute_dims": permute_dims,
        **{name: reduction(name) for name in ("sum", "prod", "max", "min", "mean", "any", "all")},
    }
    functions: dict[str, Callable[..., _Array]] = {}
    for primitive in PRIMITIVES:
        fn = adapted.get(primitive) or getattr(module, primitive, None)
        if fn is None:
            fn = getattr(module, _CLASSIC_NAMES[primitive])
        functions[primitive] = fn
    if hasattr(module, "complex64"):
        functions.update(
            {name: getattr(module, name, None) or getattr(module, _CLASSIC_NAMES[name]) for name in COMPLEX}
        )
    namespace = SimpleNamespace(**functions)
    namespace.__name__ = name
    if hasattr(module, "fft"):
        namespace.fft = SimpleNamespace(**{name: getattr(module.fft, name) for name in FFT})
    return namespace
