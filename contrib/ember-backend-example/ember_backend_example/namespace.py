"""The array namespace of the example backend: one function per name in
``ember.backend.REQUIRED``, with the array API standard's signature and semantics (ember
composes the ``DERIVED`` primitives from these; a backend may add its own for speed).

Each function unwraps its ``ExampleArray`` arguments, computes with NumPy and wraps the
result. A backend for real hardware would launch its kernels here instead.
"""

from __future__ import annotations

import numpy as np

from .array import unwrap, wrap


def _elementwise(numpy_function):
    """A primitive that applies ``numpy_function`` to unwrapped arguments."""

    def primitive(*args, **kwargs):
        return wrap(numpy_function(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))

    primitive.__name__ = numpy_function.__name__
    return primitive


# -- creation (the current device is implicit: this backend has one) -----------------------------
def asarray(obj, /, *, dtype=None, copy=None):
    return wrap(np.array(unwrap(obj), dtype=dtype, copy=True))


def full(shape, fill_value, *, dtype=None):
    return wrap(np.full(shape, unwrap(fill_value), dtype=dtype))


def arange(start, /, stop=None, step=1, *, dtype=None):
    return wrap(np.arange(start, stop, step, dtype=dtype))


# -- element-wise arithmetic ------------------------------------------------------------------------
add = _elementwise(np.add)
subtract = _elementwise(np.subtract)
multiply = _elementwise(np.multiply)
divide = _elementwise(np.divide)
floor_divide = _elementwise(np.floor_divide)
remainder = _elementwise(np.remainder)
pow = _elementwise(np.power)
negative = _elementwise(np.negative)
abs = _elementwise(np.abs)
sign = _elementwise(np.sign)
maximum = _elementwise(np.maximum)
minimum = _elementwise(np.minimum)

# -- element-wise transcendental -----------------------------------------------------------------------
exp = _elementwise(np.exp)
expm1 = _elementwise(np.expm1)
log = _elementwise(np.log)
log1p = _elementwise(np.log1p)
sqrt = _elementwise(np.sqrt)
sin = _elementwise(np.sin)
cos = _elementwise(np.cos)
tan = _elementwise(np.tan)
asin = _elementwise(np.arcsin)
acos = _elementwise(np.arccos)
atan = _elementwise(np.arctan)
atan2 = _elementwise(np.arctan2)
sinh = _elementwise(np.sinh)
cosh = _elementwise(np.cosh)
tanh = _elementwise(np.tanh)


def _rounding(numpy_function):
    # The standard keeps integer inputs as they are (NumPy's floor would return floats).
    def primitive(x, /):
        return asarray(x) if x.dtype.kind in "iub" else wrap(numpy_function(unwrap(x)))

    return primitive


floor = _rounding(np.floor)
ceil = _rounding(np.ceil)
round = _rounding(np.round)  # half to even, like the standard

# -- comparison and logic ------------------------------------------------------------------------------
equal = _elementwise(np.equal)
less = _elementwise(np.less)
logical_and = _elementwise(np.logical_and)
logical_not = _elementwise(np.logical_not)
where = _elementwise(np.where)

# -- reductions and scans (axis: None, an int or a tuple; keepdims) ----------------------------------
sum = _elementwise(np.sum)
prod = _elementwise(np.prod)
max = _elementwise(np.max)
min = _elementwise(np.min)
mean = _elementwise(np.mean)
argmax = _elementwise(np.argmax)
argmin = _elementwise(np.argmin)
all = _elementwise(np.all)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    return wrap(np.cumulative_sum(unwrap(x), axis=axis, dtype=dtype, include_initial=include_initial))


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    data = unwrap(x)
    if not descending:
        return wrap(np.argsort(data, axis=axis, kind="stable"))
    # descending and stable: sort the reversed array ascending, then map the positions back
    n = data.shape[axis]
    reversed_order = np.argsort(np.flip(data, axis=axis), axis=axis, kind="stable")
    return wrap(np.flip(n - 1 - reversed_order, axis=axis))


# -- linear algebra ------------------------------------------------------------------------------------
matmul = _elementwise(np.matmul)


# -- manipulation -----------------------------------------------------------------------------------------
def astype(x, dtype, /, *, copy=True):
    return wrap(unwrap(x).astype(dtype, copy=copy))


reshape = _elementwise(np.reshape)
permute_dims = _elementwise(np.transpose)
broadcast_to = _elementwise(np.broadcast_to)
concat = _elementwise(np.concatenate)
