"""An array namespace from a NumPy-like module (NumPy, CuPy): the module's own functions,
adapted only where the module departs from the array API standard that ember's
primitives follow (older names, no ``descending`` sort, ``floor`` of integers)."""

from __future__ import annotations

from types import SimpleNamespace

from ember.backend import PRIMITIVES

__all__ = ["build_namespace"]

# array API name -> classic NumPy name, for modules that predate the standard's names
_CLASSIC_NAMES = {
    "permute_dims": "transpose",
    "concat": "concatenate",
    "pow": "power",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
}


def build_namespace(module, name):
    """A namespace holding exactly :data:`ember.backend.PRIMITIVES`, taken from ``module``."""

    def integer_preserving(fn):
        def op(x, *args, **kwargs):
            return module.array(x, copy=True) if x.dtype.kind in "iub" else fn(x, *args, **kwargs)

        op.__name__ = fn.__name__
        return op

    def argsort(x, /, *, axis=-1, descending=False, stable=True):
        if not descending:
            return module.argsort(x, axis=axis, kind="stable")
        n = x.shape[axis]
        flipped = module.argsort(module.flip(x, axis=axis), axis=axis, kind="stable")
        return module.flip(n - 1 - flipped, axis=axis)

    def sort(x, /, *, axis=-1, descending=False, stable=True):
        return module.take_along_axis(x, argsort(x, axis=axis, descending=descending), axis=axis)

    def astype(x, dtype, /, *, copy=True):
        return x.astype(dtype, copy=copy)

    def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
        return module.cumsum(x, axis=axis, dtype=dtype)

    # The array methods do what the module functions do, without the functions' Python
    # wrappers (about twice as fast per call, which matters for small tensors); reductions
    # always return arrays, never NumPy scalars (which cannot be written in place).
    ndarray = module.ndarray

    def reduction(method):
        def reduce(x, /, *, axis=None, keepdims=False, **kwargs):
            result = getattr(x, method)(axis=axis, keepdims=keepdims, **kwargs)
            return result if type(result) is ndarray else module.asarray(result)

        reduce.__name__ = method
        return reduce

    def reshape(x, /, shape, *, copy=None):
        y = x.reshape(shape)
        # a view's base is its memory's owner in NumPy and CuPy alike (CuPy's may_share_memory
        # answered True for a copy on the GPU)
        if copy is False and y.size and (y.base is None or (y.base is not x and y.base is not x.base)):
            raise ValueError(f"cannot reshape an array of shape {x.shape} into {tuple(shape)} without copying")
        return y

    def permute_dims(x, /, axes):
        return x.transpose(axes)

    adapted = {
        "floor": integer_preserving(module.floor),
        "ceil": integer_preserving(module.ceil),
        "trunc": integer_preserving(module.trunc),
        "round": integer_preserving(module.round),
        "argsort": argsort,
        "sort": sort,
        "astype": astype,
        "cumulative_sum": getattr(module, "cumulative_sum", cumulative_sum),
        "reshape": reshape,
        "permute_dims": permute_dims,
        **{name: reduction(name) for name in ("sum", "prod", "max", "min", "mean", "any", "all")},
    }
    functions = {}
    for primitive in PRIMITIVES:
        fn = adapted.get(primitive) or getattr(module, primitive, None)
        if fn is None:
            fn = getattr(module, _CLASSIC_NAMES[primitive])
        functions[primitive] = fn
    namespace = SimpleNamespace(**functions)
    namespace.__name__ = name
    return namespace
