"""The Tensor's surface: every method, property and operator the layers above it give ``Tensor``.

:mod:`ember.tensor` defines what every tensor is (identity, autograd state, host values); this
table names, concept by concept, the function that implements each of the other names a tensor
answers to (``x.matmul``, ``x.sum``, ``x + y``, ``x.backward``, ``repr(x)``). A name listed twice
is an alias (``x.absolute is x.abs``). :func:`install` puts them on the class, once, when
:mod:`ember` is imported; nothing else attaches methods to ``Tensor``.
"""

from __future__ import annotations

from . import dlpack, dtypes, plugin, printing, shared_memory, sparse
from . import tensor as _tensor
from .autograd import engine, function
from .ops import (
    arrangement,
    comparison,
    conversion,
    creation,
    elementwise,
    functional_aliases,
    indexing,
    inplace,
    linalg,
    manipulation,
    mathematical,
    matrix,
    movement,
    pointwise,
    reduction,
)
from .tensor import Tensor

__all__ = ["install"]


# -- small adapters: a method whose operands or result differ from its function's -----------------
def _construct(cls, *args, device=None, dtype=None):
    """``ember.Tensor(2, 3)`` (uninitialised, of that size) or ``ember.Tensor([1, 2])`` (from data)."""
    return creation.legacy_new(cls, args, device=device, dtype=dtype or dtypes.get_default_dtype())


def _new(self, *args):
    """The legacy ``x.new(...)``: ``ember.Tensor(...)`` with this tensor's dtype and device.

    Example::

        >>> x = ember.tensor([1, 2], dtype=ember.int32)
        >>> x.new([3, 4])
        tensor([3, 4], dtype=ember.int32)
        >>> x.new(2, 3).shape
        ember.Size([2, 3])
    """
    return creation.legacy_new(Tensor, args, device=self._device, dtype=self.dtype)


def _to_dense(self):
    """A dense tensor is its own dense form (a sparse one becomes dense).

    Example::

        >>> x = ember.tensor([[0.0, 1.0], [2.0, 0.0]])
        >>> x.to_dense() is x
        True
        >>> x.to_sparse().to_dense()
        tensor([[0., 1.],
                [2., 0.]])
    """
    return self


def _where(self, condition, other):
    """``ember.where(condition, self, other)``: this tensor where ``condition`` holds, else ``other``.

    Example::

        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> x.where(x > 0, ember.tensor(0.0))
        tensor([1., 0., 3.])
    """
    return elementwise.where(condition, self, other)


def _transposed(self):
    """``x.T``: the dimensions reversed (the transpose of a matrix).

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x.T
        tensor([[1, 4],
                [2, 5],
                [3, 6]])
    """
    return movement.permute(self, tuple(reversed(range(self.ndim))))


def _matrix_transposed(self):
    """``x.mT``: the last two dimensions swapped (a batch of transposed matrices).

    Example::

        >>> ember.zeros(5, 2, 3).mT.shape
        ember.Size([5, 3, 2])
    """
    return movement.transpose(self, -2, -1)


def _nbytes(self):
    """Bytes the elements take: ``numel() * itemsize``.

    Example::

        >>> ember.zeros(2, 3).nbytes
        24
    """
    return self.numel() * self.dtype.itemsize


def _itemsize(self):
    """Bytes one element takes.

    Example::

        >>> ember.zeros(2, dtype=ember.float64).itemsize
        8
    """
    return self.dtype.itemsize


def _radd(self, other):
    """``other + self``."""
    return elementwise.add(self, other)


def _rsub(self, other):
    """``other - self``."""
    return elementwise.sub(other, self)


def _rmul(self, other):
    """``other * self``."""
    return elementwise.mul(self, other)


def _rtruediv(self, other):
    """``other / self``."""
    return elementwise.div(other, self)


def _rfloordiv(self, other):
    """``other // self``."""
    return elementwise.floor_divide(elementwise.full_like_scalar(self, other), self)


def _rmod(self, other):
    """``other % self``."""
    return elementwise.remainder(other, self)


def _rpow(self, other):
    """``other ** self``."""
    return elementwise.pow(other, self)


def _pos(self):
    """``+self``: the tensor itself."""
    return self


def _invert(self):
    """``~self``: logical not of a bool tensor, bitwise not of an integer one."""
    return elementwise.logical_not(self) if self.dtype is dtypes.bool else self._make(~self._data)


def _eq(self, other):
    """``self == other`` elementwise; a comparison with anything but a tensor, number or array is Python's."""
    return elementwise.eq(self, other) if elementwise._comparable(other) else NotImplemented


def _ne(self, other):
    """``self != other`` elementwise; a comparison with anything but a tensor, number or array is Python's."""
    return elementwise.ne(self, other) if elementwise._comparable(other) else NotImplemented


def _rand(self, other):
    """``other & self``."""
    return elementwise.bitwise_and(self, other)


def _ror(self, other):
    """``other | self``."""
    return elementwise.bitwise_or(self, other)


def _rxor(self, other):
    """``other ^ self``."""
    return elementwise.bitwise_xor(self, other)


# -- the table ---------------------------------------------------------------------------------------
# Autograd: the methods that run the backward engine.
AUTOGRAD = {
    "backward": engine.tensor_backward,
    "_gradient_edge": function.gradient_edge,
}

# Construction: ``ember.Tensor(2, 3)`` and the ``new_*`` family (this tensor's dtype and device by default).
CONSTRUCTION = {
    "__new__": staticmethod(_construct),
    "new": _new,
    "new_empty": creation._new_method(creation.empty),
    "new_zeros": creation._new_method(creation.zeros),
    "new_ones": creation._new_method(creation.ones),
    "new_full": creation._new_full,
    "new_tensor": creation._new_tensor,
}

# Conversion: dtype, device, copies, host values and other array protocols.
CONVERSION = {
    "to": conversion.to,
    "float": conversion._cast_method(dtypes.float32),
    "double": conversion._cast_method(dtypes.float64),
    "half": conversion._cast_method(dtypes.float16),
    "bfloat16": conversion._cast_method(dtypes.bfloat16),
    "long": conversion._cast_method(dtypes.int64),
    "int": conversion._cast_method(dtypes.int32),
    "short": conversion._cast_method(dtypes.int16),
    "char": conversion._cast_method(dtypes.int8),
    "byte": conversion._cast_method(dtypes.uint8),
    "bool": conversion._cast_method(dtypes.bool),
    "type": conversion.type_,
    "type_as": conversion.type_as,
    "cpu": conversion.cpu,
    "cuda": conversion.cuda,
    "clone": conversion.clone,
    "copy_": conversion.copy_,
    "numpy": conversion.numpy,
    "share_memory_": shared_memory.share_memory_,
    "is_shared": shared_memory.is_shared,
    "to_sparse": sparse._to_sparse,
    "to_dense": _to_dense,
    "__dlpack__": dlpack._dlpack,
    "__dlpack_device__": dlpack._dlpack_device,
    "__repr__": printing.tensor_repr,
    "__str__": printing.tensor_repr,
}

# Arithmetic and elementwise math.
ARITHMETIC = {
    "add": elementwise.add,
    "sub": elementwise.sub,
    "subtract": elementwise.subtract,
    "mul": elementwise.mul,
    "multiply": elementwise.multiply,
    "div": elementwise.div,
    "divide": elementwise.divide,
    "true_divide": elementwise.true_divide,
    "floor_divide": elementwise.floor_divide,
    "remainder": elementwise.remainder,
    "fmod": elementwise.fmod,
    "pow": elementwise.pow,
    "float_power": pointwise.float_power,
    "neg": elementwise.neg,
    "negative": elementwise.negative,
    "positive": mathematical.positive,
    "abs": elementwise.abs,
    "absolute": elementwise.abs,
    "sign": elementwise.sign,
    "sgn": mathematical.sgn,
    "signbit": mathematical.signbit,
    "copysign": mathematical.copysign,
    "exp": elementwise.exp,
    "exp2": mathematical.exp2,
    "expm1": elementwise.expm1,
    "log": elementwise.log,
    "log1p": elementwise.log1p,
    "log2": elementwise.log2,
    "log10": elementwise.log10,
    "logaddexp": mathematical.logaddexp,
    "logaddexp2": mathematical.logaddexp2,
    "xlogy": mathematical.xlogy,
    "logit": mathematical.logit,
    "sqrt": elementwise.sqrt,
    "rsqrt": elementwise.rsqrt,
    "square": elementwise.square,
    "reciprocal": elementwise.reciprocal,
    "hypot": mathematical.hypot,
    "sin": elementwise.sin,
    "cos": elementwise.cos,
    "tan": elementwise.tan,
    "asin": elementwise.asin,
    "arcsin": elementwise.asin,
    "acos": elementwise.acos,
    "arccos": elementwise.acos,
    "atan": elementwise.atan,
    "arctan": elementwise.atan,
    "atan2": elementwise.atan2,
    "sinh": elementwise.sinh,
    "cosh": elementwise.cosh,
    "tanh": elementwise.tanh,
    "asinh": mathematical.asinh,
    "arcsinh": mathematical.arcsinh,
    "acosh": mathematical.acosh,
    "arccosh": mathematical.arccosh,
    "atanh": mathematical.atanh,
    "arctanh": mathematical.arctanh,
    "sinc": mathematical.sinc,
    "deg2rad": mathematical.deg2rad,
    "rad2deg": mathematical.rad2deg,
    "sigmoid": elementwise.sigmoid,
    "erf": elementwise.erf,
    "erfc": mathematical.erfc,
    "heaviside": mathematical.heaviside,
    "floor": elementwise.floor,
    "ceil": elementwise.ceil,
    "round": elementwise.round,
    "trunc": elementwise.trunc,
    "fix": mathematical.fix,
    "frac": elementwise.frac,
    "clamp": elementwise.clamp,
    "clip": elementwise.clip,
    "clamp_min": pointwise.clamp_min,
    "clamp_max": pointwise.clamp_max,
    "nan_to_num": pointwise.nan_to_num,
    "maximum": elementwise.maximum,
    "minimum": elementwise.minimum,
    "fmax": mathematical.fmax,
    "fmin": mathematical.fmin,
    "lerp": elementwise.lerp,
    "where": _where,
    "addcmul": elementwise.addcmul,
    "addcdiv": elementwise.addcdiv,
}

# Comparison, logical and bitwise ops, and tests of values.
COMPARISON = {
    "eq": elementwise.eq,
    "ne": elementwise.ne,
    "not_equal": elementwise.ne,
    "lt": elementwise.lt,
    "less": elementwise.lt,
    "le": elementwise.le,
    "less_equal": elementwise.le,
    "gt": elementwise.gt,
    "greater": elementwise.gt,
    "ge": elementwise.ge,
    "greater_equal": elementwise.ge,
    "isclose": comparison.isclose,
    "allclose": comparison.allclose,
    "equal": comparison.equal,
    "isnan": elementwise.isnan,
    "isinf": elementwise.isinf,
    "isfinite": elementwise.isfinite,
    "is_complex": manipulation.is_complex,
    "logical_and": elementwise.logical_and,
    "logical_or": elementwise.logical_or,
    "logical_not": elementwise.logical_not,
    "logical_xor": elementwise.logical_xor,
    "bitwise_and": elementwise.bitwise_and,
    "bitwise_or": elementwise.bitwise_or,
    "bitwise_xor": elementwise.bitwise_xor,
    "bitwise_not": pointwise.bitwise_not,
}

# Reductions and scans.
REDUCTIONS = {
    "sum": reduction.sum,
    "nansum": reduction.nansum,
    "mean": reduction.mean,
    "nanmean": reduction.nanmean,
    "prod": reduction.prod,
    "amax": reduction.amax,
    "amin": reduction.amin,
    "aminmax": reduction.aminmax,
    "max": reduction.max,
    "min": reduction.min,
    "argmax": reduction.argmax,
    "argmin": reduction.argmin,
    "median": reduction.median,
    "var": reduction.var,
    "std": reduction.std,
    "var_mean": reduction.var_mean,
    "std_mean": reduction.std_mean,
    "norm": reduction.norm,
    "logsumexp": reduction.logsumexp,
    "all": reduction.all,
    "any": reduction.any,
    "count_nonzero": reduction.count_nonzero,
    "cumsum": reduction.cumsum,
    "cumprod": reduction.cumprod,
    "cummax": reduction.cummax,
    "cummin": reduction.cummin,
    "logcumsumexp": reduction.logcumsumexp,
    "diff": arrangement.diff,
    "bincount": manipulation.bincount,
    "unique": manipulation.unique,
}

# Linear algebra and matrix structure.
LINEAR_ALGEBRA = {
    "matmul": linalg.matmul,
    "mm": linalg.mm,
    "bmm": linalg.bmm,
    "mv": linalg.mv,
    "dot": linalg.dot,
    "vdot": linalg.vdot,
    "inner": linalg.inner,
    "outer": linalg.outer,
    "ger": linalg.ger,
    "addmm": linalg.addmm,
    "addmv": linalg.addmv,
    "addr": arrangement.addr,
    "baddbmm": linalg.baddbmm,
    "kron": matrix.kron,
    "cross": matrix.cross,
    "diag": matrix.diag,
    "diagonal": matrix.diagonal,
    "diag_embed": matrix.diag_embed,
    "trace": matrix.trace,
    "tril": matrix.tril,
    "triu": matrix.triu,
}

# Shape and movement: views, reshapes, joins, splits and reorderings.
SHAPE = {
    "reshape": movement.reshape,
    "reshape_as": movement.reshape_as,
    "view": movement.view,
    "view_as": movement.view_as,
    "flatten": movement.flatten,
    "unflatten": movement.unflatten,
    "ravel": arrangement.ravel,
    "squeeze": movement.squeeze,
    "unsqueeze": movement.unsqueeze,
    "permute": movement.permute,
    "transpose": movement.transpose,
    "swapaxes": movement.swapaxes,
    "swapdims": movement.swapdims,
    "t": movement.t,
    "movedim": movement.movedim,
    "expand": movement.expand,
    "expand_as": movement.expand_as,
    "broadcast_to": movement.broadcast_to,
    "broadcast_tensors": movement.broadcast_tensors,
    "sum_to_size": manipulation.sum_to_size,
    "contiguous": movement.contiguous,
    "is_contiguous": movement.is_contiguous,
    "narrow": movement.narrow,
    "select": manipulation.select,
    "unfold": manipulation.unfold,
    "repeat": movement.repeat,
    "repeat_interleave": arrangement.repeat_interleave,
    "tile": movement.tile,
    "roll": movement.roll,
    "flip": movement.tensor_flip,
    "fliplr": manipulation.fliplr,
    "flipud": manipulation.flipud,
    "rot90": manipulation.rot90,
    "cat": movement.cat,
    "concat": movement.concat,
    "concatenate": movement.concatenate,
    "stack": movement.stack,
    "hstack": movement.hstack,
    "vstack": movement.vstack,
    "split": movement.split,
    "tensor_split": manipulation.tensor_split,
    "hsplit": manipulation.hsplit,
    "vsplit": manipulation.vsplit,
    "dsplit": manipulation.dsplit,
    "chunk": movement.chunk,
    "unbind": movement.unbind,
}

# Indexing, selection, scatter and sorting.
INDEXING = {
    "gather": indexing.gather,
    "scatter": indexing.scatter,
    "scatter_add": indexing.scatter_add,
    "index_select": indexing.index_select,
    "index_add": indexing.index_add,
    "index_copy": indexing.index_copy,
    "index_fill": indexing.index_fill,
    "index_put": manipulation.index_put,
    "masked_fill": indexing.masked_fill,
    "masked_select": indexing.masked_select,
    "masked_scatter": indexing.masked_scatter,
    "take": indexing.take,
    "take_along_dim": indexing.take_along_dim,
    "nonzero": indexing.nonzero,
    "argwhere": indexing.argwhere,
    "sort": indexing.sort,
    "argsort": indexing.argsort,
    "msort": arrangement.msort,
    "topk": indexing.topk,
    "kthvalue": indexing.kthvalue,
}

# Activations whose functional forms live in ``ember.nn.functional``.
ACTIVATIONS = {
    "softmax": functional_aliases.softmax,
    "log_softmax": functional_aliases.log_softmax,
    "relu": functional_aliases.relu,
    "relu_": functional_aliases.relu_,
    "hardshrink": functional_aliases.hardshrink,
}

# In-place fills and random sampling.
FILLS = {
    "fill_": inplace.fill_,
    "zero_": inplace.zero_,
    "uniform_": inplace.uniform_,
    "normal_": inplace.normal_,
    "bernoulli_": inplace.bernoulli_,
    "exponential_": inplace.exponential_,
    "random_": inplace.random_,
    "log_normal_": inplace.log_normal_,
    "cauchy_": inplace.cauchy_,
}

# Python operators (the reflected ones take the operands the other way round).
OPERATORS = {
    "__add__": elementwise.add,
    "__radd__": _radd,
    "__sub__": elementwise.sub,
    "__rsub__": _rsub,
    "__mul__": elementwise.mul,
    "__rmul__": _rmul,
    "__truediv__": elementwise.div,
    "__rtruediv__": _rtruediv,
    "__floordiv__": elementwise.floor_divide,
    "__rfloordiv__": _rfloordiv,
    "__mod__": elementwise.remainder,
    "__rmod__": _rmod,
    "__pow__": elementwise.pow,
    "__rpow__": _rpow,
    "__matmul__": linalg._matmul_operator,
    "__rmatmul__": linalg._rmatmul_operator,
    "__neg__": elementwise.neg,
    "__pos__": _pos,
    "__abs__": elementwise.abs,
    "__invert__": _invert,
    "__eq__": _eq,
    "__ne__": _ne,
    "__lt__": elementwise.lt,
    "__le__": elementwise.le,
    "__gt__": elementwise.gt,
    "__ge__": elementwise.ge,
    "__and__": elementwise.bitwise_and,
    "__rand__": _rand,
    "__or__": elementwise.bitwise_or,
    "__ror__": _ror,
    "__xor__": elementwise.bitwise_xor,
    "__rxor__": _rxor,
    "__getitem__": indexing.getitem,
    "__setitem__": indexing.setitem,
}

# Properties computed from other attributes.
PROPERTIES = {
    "T": property(_transposed),
    "mT": property(_matrix_transposed),
    "nbytes": property(_nbytes),
    "itemsize": property(_itemsize),
}

# In-place twins: ``x.add_(y)`` computes ``x.add(y)`` and writes the result into ``x``'s storage
# (ops/inplace.py); they wrap the out-of-place methods above, so they are made after those.
INPLACE_TWINS = (
    "add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "neg", "abs", "sign",
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal", "sin",
    "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "sigmoid", "erf", "floor",
    "ceil", "round", "trunc", "frac", "clamp", "clip", "maximum", "minimum", "masked_fill",
    "index_add", "index_fill", "scatter", "scatter_add", "lerp", "addcmul", "addcdiv", "logical_not",
    "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge",
    "nan_to_num", "clamp_min", "clamp_max", "float_power", "bitwise_not", "tril", "triu", "cumsum",
    "cumprod", "index_put",
)  # fmt: skip

# In-place shape changes: ``x.squeeze_()`` gives ``x`` the shape of ``x.squeeze()`` (ops/manipulation.py).
SHAPE_INPLACE_TWINS = ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims")

# Other names of the in-place twins, and the in-place operators (``x += y`` is ``x.add_(y)``).
INPLACE_ALIASES = {
    "subtract_": "sub_",
    "multiply_": "mul_",
    "divide_": "div_",
    "true_divide_": "div_",
    "negative_": "neg_",
    "absolute_": "abs_",
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "__ipow__": "pow_",
    "__imod__": "remainder_",
    "__ifloordiv__": "floor_divide_",
}

TABLES = (
    AUTOGRAD,
    CONSTRUCTION,
    CONVERSION,
    ARITHMETIC,
    COMPARISON,
    REDUCTIONS,
    LINEAR_ALGEBRA,
    SHAPE,
    INDEXING,
    ACTIVATIONS,
    FILLS,
    OPERATORS,
    PROPERTIES,
)


def install():
    """Put the table on ``Tensor`` and connect the tensor to the plugin host's backends; run once."""
    defined = set(Tensor.__dict__)  # what ember/tensor.py defines: the table must not shadow it
    for table in TABLES:
        for name, implementation in table.items():
            if name in defined:
                raise RuntimeError(f"Tensor.{name} is defined both in ember/tensor.py and in the method table")
            setattr(Tensor, name, implementation)
    for name in INPLACE_TWINS:
        setattr(Tensor, name + "_", inplace._inplace(name))
    for name in SHAPE_INPLACE_TWINS:
        setattr(Tensor, name + "_", manipulation._shape_inplace(name))
    for alias, name in INPLACE_ALIASES.items():
        setattr(Tensor, alias, Tensor.__dict__[name])
    _tensor.connect(plugin.backend_registry, creation.default_device)
