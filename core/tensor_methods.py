"""The Tensor's surface: every method, property and operator the layers above it give ``Tensor``.

:mod:`ember.tensor` defines what every tensor is (identity, autograd state, host values); this
table names, concept by concept, the function that implements each of the other names a tensor
answers to (``x.matmul``, ``x.sum``, ``x + y``, ``x.backward``, ``repr(x)``). A name listed twice
is an alias (``x.absolute is x.abs``). :func:`install` puts them on the class, once, when
:mod:`ember` is imported; nothing else attaches methods to ``Tensor``.
"""

from __future__ import annotations

import inspect
import numbers
import re
import sys
import types
import warnings

from . import device as _devices
from . import (
    dlpack,
    dtypes,
    overrides,
    pinned_memory,
    plugin,
    printing,
    quantized,
    shared_memory,
    sparse,
    sparse_compressed,
    unstrided,
)
from . import tensor as _tensor
from .autograd import engine, function
from .ops import (
    absent_devices,
    activations,
    aliases,
    arithmetic,
    clamping,
    comparison,
    complex_views,
    composite_math,
    constructions,
    conversion,
    creation,
    deprecated_linalg,
    deprecated_resize,
    geometric_sampling,
    hashing,
    histograms,
    householder,
    indexing,
    inplace,
    linalg,
    linalg_decompositions,
    linalg_functions,
    linalg_solve,
    matrix,
    movement,
    pairwise,
    python_callables,
    reduction,
    removed_linalg,
    scatter_reductions,
    scatter_views,
    sequences,
    shifts,
    slicing_joining,
    special,
    special_functions,
    statistics,
    stft,
    storage_rebinding,
    strided,
    strided_empty,
    tensor_functions,
    tensor_queries,
    typed_storage,
    untyped_storage,
    value_tests,
    view_copies,
)
from .ops.operands import invalid_combination, unguarded
from .tensor import NUMBER_TYPES, Tensor, is_number
from .type_names import type_name

__all__ = ["install"]


# -- small adapters: a method whose operands or result differ from its function's -----------------
def _construct(cls, *args, device=None, dtype=None):
    """``ember.Tensor(2, 3)`` (uninitialised, of that size) or ``ember.Tensor([1, 2])`` (from data); a
    subclass's constructor (``class M(ember.Tensor)``, ``M([1.0])``) gives an instance of that subclass.
    As PyTorch's legacy constructors, they build on their class's device type (``ember.cuda.FloatTensor``
    on CUDA, the others on the CPU), whatever ``set_default_device`` says, and refuse another one."""
    expected = "cuda" if any(klass.__dict__.get("_legacy_cuda") for klass in cls.__mro__) else "cpu"
    if device is None:
        if not (args and isinstance(args[0], Tensor)):  # a tensor is aliased, wherever it is
            device = expected
    elif _devices.device(device).type != expected:
        raise RuntimeError(
            f"legacy constructor expects device type: {expected} but device type: {_devices.device(device).type} "
            "was passed"
        )
    result = creation.legacy_new(cls, args, device=device, dtype=dtype)
    if cls is not Tensor and not any("_legacy_dtype" in klass.__dict__ for klass in cls.__mro__):
        result = overrides.make_subclass(cls, result, result.requires_grad)
    return result


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


def _to_dense(self, dtype=None, *, masked_grad=True):
    """A dense tensor is its own dense form (a sparse one becomes dense), converted to ``dtype`` when given;
    ``masked_grad`` concerns sparse tensors only.

    Example::

        >>> x = ember.tensor([[0.0, 1.0], [2.0, 0.0]])
        >>> x.to_dense() is x
        True
        >>> x.to_dense(dtype=ember.float64).dtype
        ember.float64
        >>> x.to_sparse().to_dense()
        tensor([[0., 1.],
                [2., 0.]])
    """
    return self if dtype is None else self.to(dtype)


def _split(self, split_size, dim=0):
    """``ember.split(self, split_size, dim)``: PyTorch names the sizes ``split_size`` on the method.

    Example::

        >>> ember.arange(5).split(split_size=2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    return movement.split(self, split_size, dim)


def _where(self, condition, other):
    """``ember.where(condition, self, other)``: this tensor where ``condition`` holds, else ``other``.

    Example::

        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> x.where(x > 0, ember.tensor(0.0))
        tensor([1., 0., 3.])
    """
    return arithmetic.where(condition, self, other)


def _transposed(self):
    """``x.T``: the dimensions reversed (the transpose of a matrix).

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x.T
        tensor([[1, 4],
                [2, 5],
                [3, 6]])
    """
    if self.ndim != 2:  # PyTorch deprecates it there (x.mT transposes batches of matrices)
        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
            if self.ndim == 0
            else "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
            "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return movement.permute(self, tuple(reversed(range(self.ndim))))


def _matrix_transposed(self):
    """``x.mT``: the last two dimensions swapped (a batch of transposed matrices).

    Example::

        >>> ember.zeros(5, 2, 3).mT.shape
        ember.Size([5, 3, 2])
    """
    if self.ndim == 1:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    if self.ndim == 0:  # the identity, as PyTorch's deprecated 0-D case
        warnings.warn(
            "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.",
            UserWarning,
            stacklevel=2,
        )
        return self
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


# Python's binary operators, as PyTorch's, return NotImplemented when called with a keyword they do not take
# (``x.__mul__(y, alpha=2)``, ``x.__rsub__(y, out=None)``) or when their op refuses the other operand with a
# TypeError (``x + "a"``, ``None - x``): PyTorch turns its argument parser's TypeError into it, and Python then
# raises its own (``unsupported operand type(s) for +: 'Tensor' and 'str'``). ``x.__add__``'s ``alpha`` and
# ``x.__truediv__``'s ``rounding_mode`` are theirs (:func:`_deferring`, :func:`_reflected`).


def _known_operand(other):
    """Whether the ops take ``other`` as an operand (a tensor, a number, a NumPy array or scalar): their TypeError
    for it is the answer (a backend without complex dtypes, a bfloat16 tensor with an array), where for any other
    operand the operator returns NotImplemented and Python's TypeError follows."""
    return isinstance(other, (Tensor, numbers.Number)) or hasattr(type(other), "__array__")


def _reflected(compute, keywords=frozenset()):
    """``compute(self, other)`` (``other <op> self``) as a Tensor's reflected operator, which returns
    NotImplemented for a keyword outside ``keywords`` or where ``compute`` refuses an operand it does not know
    (:func:`_known_operand`) with a TypeError, as PyTorch's."""

    def operator(self, other, **given):
        if given and not given.keys() <= keywords:
            return NotImplemented
        try:
            return compute(self, other, **given)
        except TypeError:
            if _known_operand(other):
                raise
            return NotImplemented

    operator._ember_keywords = keywords  # what the wrappers of ember.overrides let through
    operator.__name__ = operator.__qualname__ = compute.__name__
    operator.__doc__ = compute.__doc__
    return operator


def _inplace_operator(method, keywords=frozenset()):
    """The in-place twin ``method`` (``Tensor.add_``) as a Tensor's in-place operator (``__iadd__``, which
    ``x += y`` calls): as PyTorch's, it returns NotImplemented for a keyword outside ``keywords`` (``alpha``,
    ``rounding_mode``) or where ``method`` refuses an operand it does not know with a TypeError (their argument
    parser's TypeError turned into it); Python then tries the out-of-place operator and, failing that, raises
    its own TypeError (``unsupported operand type(s) for +=: 'Tensor' and 'str'``). It also returns
    NotImplemented for an array that is no number (a NumPy array, 0-d included; PyTorch's argument parser takes
    none): ``x += array`` is then ``x = x + array``, a new tensor of the promoted dtype. A handler of
    ``__torch_function__`` sees ``method`` (:mod:`ember.overrides`)."""

    def operator(self, other, **given):
        if (given and not given.keys() <= keywords) or (
            hasattr(type(other), "__array__") and not isinstance(other, (Tensor, *NUMBER_TYPES))
        ):
            return NotImplemented
        try:
            return method(self, other, **given)
        except TypeError:
            if _known_operand(other):
                raise
            return NotImplemented

    operator._ember_keywords = keywords  # what the wrappers of ember.overrides let through
    operator.__name__ = operator.__qualname__ = method.__name__
    operator.__doc__ = method.__doc__
    operator._ember_computes = method  # what the checking wrapper calls for a tensor, float or int operand
    operator.__wrapped__ = method
    return operator


def _rsub(self, other):
    """``other - self``."""
    return arithmetic.sub(other, self)


def _rmul(self, other):
    """``other * self``."""
    return arithmetic.mul(self, other)


def _rtruediv(self, other):
    """``other / self``: for a number, ``self.reciprocal() * other``, as PyTorch's ``Tensor.__rtruediv__``."""
    if is_number(other):
        return arithmetic.reciprocal(self) * other
    return arithmetic.div(other, self)


def _rfloordiv(self, other):
    """``other // self`` (a number as a 0-d tensor of the type it takes against ``self``)."""
    if isinstance(other, Tensor):
        return arithmetic.floor_divide(other, self)
    return arithmetic.floor_divide(arithmetic.full_like_scalar(self, other), self)


def _rmod(self, other):
    """``other % self``."""
    return arithmetic.remainder(other, self)


def _rpow(self, other):
    """``other ** self``."""
    return arithmetic.pow(other, self)


def _pos(self):
    """``+self``: the tensor itself."""
    return self


def _invert(self):
    """``~self``: logical not of a bool tensor, bitwise not of an integer one (none of a uint16/32/64 one,
    as PyTorch); a TypeError for other types."""
    if self.dtype.is_floating_point or self.dtype.is_complex:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return arithmetic.logical_not(self) if self.dtype is dtypes.bool else clamping.bitwise_not(self)


def _eq(self, other, **given):
    """``self == other`` elementwise; a comparison with anything but a tensor, number or array is Python's."""
    if given or not arithmetic._comparable(other):
        return NotImplemented
    return arithmetic.eq(self, other)


def _ne(self, other, **given):
    """``self != other`` elementwise; a comparison with anything but a tensor, number or array is Python's."""
    if given or not arithmetic._comparable(other):
        return NotImplemented
    return arithmetic.ne(self, other)


def _rand(self, other):
    """``other & self``."""
    return arithmetic.bitwise_and(self, other)


def _ror(self, other):
    """``other | self``."""
    return arithmetic.bitwise_or(self, other)


def _rxor(self, other):
    """``other ^ self``."""
    return arithmetic.bitwise_xor(self, other)


def _rlshift(self, other):
    """``other << self``."""
    return shifts.bitwise_left_shift(other, self)


def _rrshift(self, other):
    """``other >> self``."""
    return shifts.bitwise_right_shift(other, self)


# A binary operator gives way to the other operand's reflected method (``x + Other()`` calls
# ``Other.__radd__``, as in PyTorch, and ``param + proxy`` reaches the tracer's proxy) when that
# operand's type is one the ops do not know and defines the reflected method. The check comes
# before the op, which would otherwise probe the operand (``other.layout``, ``other.to_dense()``);
# tensors and Python floats and ints, the common operands, pass after identity tests alone.


def _defers(other, reflected):
    """Whether ``tensor <op> other`` returns NotImplemented, letting ``other``'s ``reflected`` method run."""
    kind = type(other)
    return (
        hasattr(kind, reflected)
        and not isinstance(other, (Tensor, numbers.Number))
        and not hasattr(kind, "__array__")  # NumPy's arrays and scalars: the ops take them
        and not hasattr(kind, "is_sparse")  # ember's sparse tensors: the ops handle them
    )


def _deferring(op, reflected, keywords=frozenset()):
    """``op`` as a Tensor's binary operator that gives way to an unknown operand's ``reflected`` method.

    ``keywords`` are the keyword arguments PyTorch's operator takes, as its method does (``x.__add__(y,
    alpha=2)``); given any other (``out``), the operator returns NotImplemented, as PyTorch's (which turn
    their argument parser's TypeError into NotImplemented). An operator without keywords takes none."""
    tensor, real, integer = Tensor, float, int  # closure cells: faster to read than globals and builtins

    def operator(self, other, **given):
        kind = other.__class__
        if kind is tensor or kind is real or kind is integer or not _defers(other, reflected):
            try:
                if not given:
                    return op(self, other)
                if given.keys() <= keywords:
                    return op(self, other, **given)
            except TypeError:  # an operand the op refuses (``x + "a"``): Python's TypeError, as PyTorch's
                if _known_operand(other):
                    raise
        return NotImplemented

    operator._ember_keywords = keywords  # what the wrappers of ember.overrides let through
    operator._ember_computes = op  # what the checking wrapper calls for a tensor, float or int operand
    operator.__name__ = operator.__qualname__ = getattr(op, "__name__", "operator")
    operator.__doc__ = op.__doc__
    operator.__wrapped__ = op
    return operator


def _radd(self, other, **given):
    """``other + self``; ``x.__radd__(y, alpha=a)`` is ``x + a * y``, as PyTorch's (its ``add``)."""
    return arithmetic.add(self, other, **given)


_ALPHA = frozenset(("alpha",))
_ROUNDING_MODE = frozenset(("rounding_mode",))
_RTRUEDIV = _reflected(_rtruediv)  # Tensor.__rtruediv__ and Tensor.__rdiv__


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
    "cfloat": conversion._cast_method(dtypes.complex64),
    "cdouble": conversion._cast_method(dtypes.complex128),
    "type": conversion.type_,
    "type_as": conversion.type_as,
    "cpu": conversion.cpu,
    "cuda": conversion.cuda,
    "clone": conversion.clone,
    "copy_": conversion.copy_,
    "numpy": conversion.numpy,
    "share_memory_": shared_memory.share_memory_,
    "is_shared": shared_memory.is_shared,
    "pin_memory": pinned_memory.pin_memory,
    "is_pinned": pinned_memory.is_pinned,
    "to_sparse": sparse._to_sparse,
    "to_sparse_coo": sparse._to_sparse_coo,
    "sparse_mask": sparse._dense_sparse_mask,
    "sparse_dim": sparse._dense_sparse_dim,
    "dense_dim": sparse._dense_dense_dim,
    **sparse.DENSE_REFUSALS,
    "to_sparse_csr": sparse_compressed._to_sparse_csr,
    "to_sparse_csc": sparse_compressed._to_sparse_csc,
    "to_sparse_bsr": sparse_compressed._to_sparse_bsr,
    "to_sparse_bsc": sparse_compressed._to_sparse_bsc,
    "to_dense": _to_dense,
    "__dlpack__": dlpack._dlpack,
    "__dlpack_device__": dlpack._dlpack_device,
    "__repr__": printing.tensor_repr,
    "__str__": printing.tensor_repr,
}

# Arithmetic and elementwise math.
ARITHMETIC = {
    "add": arithmetic.add,
    "sub": arithmetic.sub,
    "subtract": arithmetic.subtract,
    "mul": arithmetic.mul,
    "multiply": arithmetic.multiply,
    "div": arithmetic.div,
    "divide": arithmetic.divide,
    "true_divide": arithmetic.true_divide,
    "floor_divide": arithmetic.floor_divide,
    "remainder": arithmetic.remainder,
    "fmod": arithmetic.fmod,
    "pow": arithmetic.pow,
    "float_power": clamping.float_power,
    "neg": arithmetic.neg,
    "negative": arithmetic.negative,
    "positive": composite_math.positive,
    "abs": arithmetic.abs,
    "absolute": arithmetic.abs,
    "sign": arithmetic.sign,
    "sgn": composite_math.sgn,
    "signbit": composite_math.signbit,
    "copysign": composite_math.copysign,
    "exp": arithmetic.exp,
    "exp2": composite_math.exp2,
    "expm1": arithmetic.expm1,
    "log": arithmetic.log,
    "log1p": arithmetic.log1p,
    "log2": arithmetic.log2,
    "log10": arithmetic.log10,
    "logaddexp": composite_math.logaddexp,
    "logaddexp2": composite_math.logaddexp2,
    "xlogy": composite_math.xlogy,
    "logit": composite_math.logit,
    "sqrt": arithmetic.sqrt,
    "rsqrt": arithmetic.rsqrt,
    "square": arithmetic.square,
    "reciprocal": arithmetic.reciprocal,
    "hypot": composite_math.hypot,
    "sin": arithmetic.sin,
    "cos": arithmetic.cos,
    "tan": arithmetic.tan,
    "asin": arithmetic.asin,
    "arcsin": arithmetic.asin,
    "acos": arithmetic.acos,
    "arccos": arithmetic.acos,
    "atan": arithmetic.atan,
    "arctan": arithmetic.atan,
    "atan2": arithmetic.atan2,
    "sinh": arithmetic.sinh,
    "cosh": arithmetic.cosh,
    "tanh": arithmetic.tanh,
    "asinh": composite_math.asinh,
    "arcsinh": composite_math.arcsinh,
    "acosh": composite_math.acosh,
    "arccosh": composite_math.arccosh,
    "atanh": composite_math.atanh,
    "arctanh": composite_math.arctanh,
    "sinc": composite_math.sinc,
    "deg2rad": composite_math.deg2rad,
    "rad2deg": composite_math.rad2deg,
    "sigmoid": arithmetic.sigmoid,
    "erf": arithmetic.erf,
    "erfc": composite_math.erfc,
    "heaviside": composite_math.heaviside,
    "floor": arithmetic.floor,
    "ceil": arithmetic.ceil,
    "round": arithmetic.round,
    "trunc": arithmetic.trunc,
    "fix": composite_math.fix,
    "frac": arithmetic.frac,
    "clamp": arithmetic.clamp,
    "clip": arithmetic.clip,
    "clamp_min": clamping.clamp_min,
    "clamp_max": clamping.clamp_max,
    "nan_to_num": clamping.nan_to_num,
    "maximum": arithmetic.maximum,
    "minimum": arithmetic.minimum,
    "fmax": composite_math.fmax,
    "fmin": composite_math.fmin,
    "lerp": arithmetic.lerp,
    "where": _where,
    "addcmul": arithmetic.addcmul,
    "addcdiv": arithmetic.addcdiv,
}

# Comparison, logical and bitwise ops, and tests of values.
COMPARISON = {
    "eq": arithmetic.eq,
    "ne": arithmetic.ne,
    "not_equal": arithmetic.ne,
    "lt": arithmetic.lt,
    "less": arithmetic.lt,
    "le": arithmetic.le,
    "less_equal": arithmetic.le,
    "gt": arithmetic.gt,
    "greater": arithmetic.gt,
    "ge": arithmetic.ge,
    "greater_equal": arithmetic.ge,
    "isclose": comparison.isclose,
    "allclose": comparison.allclose,
    "equal": comparison.equal,
    "isnan": arithmetic.isnan,
    "isinf": arithmetic.isinf,
    "isfinite": arithmetic.isfinite,
    "is_complex": slicing_joining.is_complex,
    "logical_and": arithmetic.logical_and,
    "logical_or": arithmetic.logical_or,
    "logical_not": arithmetic.logical_not,
    "logical_xor": arithmetic.logical_xor,
    "bitwise_and": arithmetic.bitwise_and,
    "bitwise_or": arithmetic.bitwise_or,
    "bitwise_xor": arithmetic.bitwise_xor,
    "bitwise_not": clamping.bitwise_not,
    "bitwise_left_shift": shifts.bitwise_left_shift,
    "bitwise_right_shift": shifts.bitwise_right_shift,
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
    "diff": sequences.diff,
    "bincount": slicing_joining.bincount,
    "unique": slicing_joining.unique,
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
    "addr": sequences.addr,
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

# Decompositions, inverses and linear systems (ember.linalg's classic spellings).
DECOMPOSITIONS = {
    "det": linalg_solve.det,
    "logdet": linalg_solve.logdet,
    "slogdet": linalg_solve.slogdet,
    "inverse": linalg_solve.inverse,
    "matrix_power": linalg_solve.matrix_power,
    "triangular_solve": linalg_solve.triangular_solve,
    "lu_solve": linalg_solve.lu_solve,
    "cholesky": linalg_decompositions.cholesky,
    "cholesky_solve": linalg_decompositions.cholesky_solve,
    "cholesky_inverse": linalg_decompositions.cholesky_inverse,
    "qr": linalg_decompositions.qr,
    "svd": linalg_decompositions.svd,
    "pinverse": linalg_decompositions.pinverse,
    "matrix_exp": linalg_functions.matrix_exp,
}

# Shape and movement: views, reshapes, joins, splits and reorderings.
SHAPE = {
    "reshape": movement.tensor_reshape,
    "reshape_as": movement.reshape_as,
    "view": movement.view,
    "view_as": movement.view_as,
    "flatten": movement.flatten,
    "unflatten": movement.unflatten,
    "ravel": sequences.ravel,
    "squeeze": movement.squeeze,
    "unsqueeze": movement.unsqueeze,
    "permute": movement.tensor_permute,
    "transpose": movement.tensor_transpose,
    "swapaxes": movement.swapaxes,
    "swapdims": movement.swapdims,
    "t": movement.t,
    "movedim": movement.tensor_movedim,
    "expand": movement.expand,
    "expand_as": movement.expand_as,
    "broadcast_to": movement._broadcast_to_method,
    "sum_to_size": slicing_joining.sum_to_size,
    "contiguous": movement.contiguous,
    "is_contiguous": movement.is_contiguous,
    "narrow": movement.tensor_narrow,
    "select": slicing_joining.tensor_select,
    "unfold": slicing_joining.unfold,
    "repeat": movement.repeat,
    "repeat_interleave": sequences.repeat_interleave,
    "tile": movement.tensor_tile,
    "roll": movement.tensor_roll,
    "flip": movement.tensor_flip,
    "fliplr": slicing_joining.fliplr,
    "flipud": slicing_joining.flipud,
    "rot90": slicing_joining.rot90,
    "split": _split,
    "tensor_split": slicing_joining.tensor_split,
    "hsplit": slicing_joining.hsplit,
    "vsplit": slicing_joining.vsplit,
    "dsplit": slicing_joining.dsplit,
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
    "index_put": slicing_joining.index_put,
    "masked_fill": indexing.masked_fill,
    "masked_select": indexing.masked_select,
    "masked_scatter": indexing.masked_scatter,
    "take": indexing.take,
    "take_along_dim": indexing.take_along_dim,
    "nonzero": indexing.nonzero,
    "argwhere": indexing.argwhere,
    "sort": indexing.sort,
    "argsort": indexing.argsort,
    "msort": sequences.msort,
    "topk": indexing.topk,
    "kthvalue": indexing.kthvalue,
}

# Activations whose functional forms live in ``ember.nn.functional``.
ACTIVATIONS = {
    "softmax": activations.softmax,
    "log_softmax": activations.log_softmax,
    "relu": activations.relu,
    "relu_": activations.relu_,
    "hardshrink": activations.hardshrink,
    "prelu": activations.prelu_method,
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
    "__add__": _deferring(arithmetic.add, "__radd__", _ALPHA),
    "__radd__": _reflected(_radd, _ALPHA),
    "__sub__": _deferring(arithmetic.sub, "__rsub__", _ALPHA),
    "__rsub__": _reflected(_rsub),
    "__mul__": _deferring(arithmetic.mul, "__rmul__"),
    "__rmul__": _reflected(_rmul),
    "__truediv__": _deferring(arithmetic.div, "__rtruediv__", _ROUNDING_MODE),
    "__rtruediv__": _RTRUEDIV,
    "__div__": _deferring(
        arithmetic.div, "__rtruediv__", _ROUNDING_MODE
    ),  # PyTorch keeps Python 2's names of the division operators
    "__rdiv__": _RTRUEDIV,  # one operator, as PyTorch's
    "__floordiv__": _deferring(arithmetic.floor_divide, "__rfloordiv__"),
    "__rfloordiv__": _reflected(_rfloordiv),
    "__mod__": _deferring(arithmetic.remainder, "__rmod__"),
    "__rmod__": _reflected(_rmod),
    "__pow__": _deferring(arithmetic.pow, "__rpow__"),
    "__rpow__": _reflected(_rpow),
    "__matmul__": _deferring(linalg._matmul_operator, "__rmatmul__"),
    "__rmatmul__": _reflected(linalg._rmatmul_operator),
    "__neg__": arithmetic.neg,
    "__pos__": _pos,
    "__abs__": arithmetic.abs,
    "__invert__": _invert,
    "__eq__": _eq,
    "__ne__": _ne,
    "__lt__": _deferring(arithmetic.lt, "__gt__"),
    "__le__": _deferring(arithmetic.le, "__ge__"),
    "__gt__": _deferring(arithmetic.gt, "__lt__"),
    "__ge__": _deferring(arithmetic.ge, "__le__"),
    "__and__": _deferring(arithmetic.bitwise_and, "__rand__"),
    "__rand__": _reflected(_rand),
    "__or__": _deferring(arithmetic.bitwise_or, "__ror__"),
    "__ror__": _reflected(_ror),
    "__xor__": _deferring(arithmetic.bitwise_xor, "__rxor__"),
    "__rxor__": _reflected(_rxor),
    "__lshift__": _deferring(shifts.bitwise_left_shift, "__rlshift__"),
    "__rlshift__": _reflected(_rlshift),
    "__rshift__": _deferring(shifts.bitwise_right_shift, "__rrshift__"),
    "__rrshift__": _reflected(_rrshift),
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
    "ceil", "round", "trunc", "frac", "clamp", "clip", "masked_fill",
    "index_add", "index_fill", "scatter", "scatter_add", "lerp", "addcmul", "addcdiv", "logical_not",
    "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge",
    "nan_to_num", "clamp_min", "clamp_max", "float_power", "bitwise_not", "tril", "triu", "cumsum",
    "cumprod", "index_put", "bitwise_left_shift", "bitwise_right_shift",
)  # fmt: skip

# In-place shape changes: ``x.squeeze_()`` gives ``x`` the shape of ``x.squeeze()`` (ops/slicing_joining.py).
SHAPE_INPLACE_TWINS = ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims")

# Other names of the in-place twins, and the in-place operators (``x += y`` computes ``x.add_(y)``).
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
    "__idiv__": "div_",
    "__ipow__": "pow_",
    "__imod__": "remainder_",
    "__ifloordiv__": "floor_divide_",
    "__ilshift__": "bitwise_left_shift_",
    "__irshift__": "bitwise_right_shift_",
    "__iand__": "bitwise_and_",
    "__ior__": "bitwise_or_",
    "__ixor__": "bitwise_xor_",
}

# The keywords PyTorch's in-place operators take, as their methods do (``x.__iadd__(y, alpha=2)``); given any
# other, an in-place operator returns NotImplemented (:func:`_inplace_operator`).
INPLACE_OPERATOR_KEYWORDS = {
    "__iadd__": _ALPHA,
    "__isub__": _ALPHA,
    "__itruediv__": _ROUNDING_MODE,
    "__idiv__": _ROUNDING_MODE,
}

# The in-place operators that are methods of their own in PyTorch, not other names of the twins: a handler or
# a mode sees ``Tensor.__iand__`` for ``x &= y`` (but ``Tensor.add_`` for ``x += y``), as PyTorch's.
OWN_INPLACE_OPERATORS = ("__ipow__", "__ilshift__", "__irshift__", "__iand__", "__ior__", "__ixor__")

# PyTorch's surface that programs call and the tables above lacked (the surface work, one block).
SURFACE = {
    "apply_": python_callables.apply_,
    "map_": python_callables.map_,
    "map2_": python_callables.map2_,
    "stride": tensor_queries.stride,
    "storage_offset": tensor_queries.storage_offset,
    "dim_order": tensor_queries.dim_order,
    "as_strided": strided.as_strided,
    "is_signed": tensor_queries.is_signed,
    "is_nonzero": tensor_queries.is_nonzero,
    "is_same_size": tensor_queries.is_same_size,
    "is_inference": tensor_queries.is_inference,
    "data_ptr": untyped_storage.data_ptr,
    "const_data_ptr": untyped_storage.data_ptr,
    "untyped_storage": untyped_storage.untyped_storage,
    "storage": typed_storage.storage,
    "resize_": storage_rebinding.resize_,
    "resize_as_": storage_rebinding.resize_as_,
    "set_": storage_rebinding.set_,
    "is_set_to": storage_rebinding.is_set_to,
    "as_strided_": storage_rebinding.as_strided_,
    "as_strided_scatter": strided.as_strided_scatter,
    "moveaxis": aliases.moveaxis,
    "arctan2": aliases.arctan2,
    "renorm": pairwise.renorm,
    "erfinv": special.erfinv,
    "lgamma": special.lgamma,
    "digamma": special.digamma,
    "polygamma": special._polygamma_method,
    "mvlgamma": special.mvlgamma,
    "dist": pairwise.dist,
    "i0": special.i0,
    "stft": stft.stft,
    "istft": stft.istft,
    "gcd": value_tests.gcd,
    "lcm": value_tests.lcm,
    "ldexp": value_tests.ldexp,
    "frexp": value_tests.frexp,
    "nextafter": value_tests.nextafter,
    "isneginf": value_tests.isneginf,
    "isposinf": value_tests.isposinf,
    "isreal": value_tests.isreal,
    "histc": statistics.histc,
    "quantile": statistics.quantile,
    "nanquantile": statistics.nanquantile,
    "nanmedian": statistics.nanmedian,
    "mode": statistics.mode,
    "cov": statistics.cov,
    "corrcoef": statistics.corrcoef,
    "diagflat": constructions.diagflat,
    "unique_consecutive": constructions.unique_consecutive,
    "fill_diagonal_": constructions.fill_diagonal_,
    "scatter_reduce": scatter_reductions.tensor_scatter_reduce,
    "index_reduce": scatter_reductions.index_reduce,
    "addbmm": scatter_reductions.addbmm,
    "bernoulli": creation.bernoulli,
    "multinomial": creation.multinomial,
    "new_empty_strided": strided_empty.new_empty_strided,
    "igamma": special_functions.igamma,
    "igammac": special_functions.igammac,
    "real": complex_views.real_property,
    "imag": complex_views.imag_property,
    "H": complex_views.H,
    "mH": complex_views.mH,
    "adjoint": complex_views.adjoint,
    "conj": complex_views.conj,
    "angle": complex_views.angle,
    "conj_physical": complex_views.conj_physical,
    "resolve_conj": complex_views.resolve_conj,
    "resolve_neg": complex_views.resolve_neg,
    "is_conj": complex_views.is_conj,
    "is_neg": complex_views.is_neg,
    "narrow_copy": view_copies.narrow_copy,
    "split_with_sizes": view_copies.split_with_sizes,
    "unsafe_split": view_copies.unsafe_split,
    "unsafe_chunk": view_copies.unsafe_chunk,
    "unsafe_split_with_sizes": view_copies.unsafe_split_with_sizes,
    "select_scatter": scatter_views.select_scatter,
    "slice_scatter": scatter_views.slice_scatter,
    "diagonal_scatter": scatter_views.diagonal_scatter,
    "put_": scatter_views.put_,
    "put": scatter_views.put,
    "geometric_": geometric_sampling.geometric_,
    "lu": deprecated_linalg.lu,
    "eig": removed_linalg.eig,
    "lstsq": removed_linalg.lstsq,
    "solve": removed_linalg.solve,
    "symeig": removed_linalg.symeig,
    "hash_tensor": hashing.hash_tensor,
    "output_nr": tensor_functions.output_nr,
    "histogram": histograms.histogram,
    "nonzero_static": indexing.nonzero_static,
    "resize": deprecated_resize.resize,
    "resize_as": deprecated_resize.resize_as,
    "as_subclass": tensor_functions.as_subclass,
    "geqrf": householder.geqrf,
    "orgqr": householder.orgqr,
    "ormqr": householder.ormqr,
    "storage_type": typed_storage.storage_type,
    "slice_inverse": strided.slice_inverse,
}
# the flags and methods of the devices, layouts and features ember has no backend for (ops/absent_devices.py)
SURFACE |= {name: getattr(absent_devices, name) for name in absent_devices.__all__}

# In-place twins (as INPLACE_TWINS) and aliases (as INPLACE_ALIASES) of the surface work.
SURFACE_INPLACE_TWINS = (
    "acosh", "asinh", "atanh", "exp2", "erfc", "logit", "sinc", "deg2rad", "rad2deg", "heaviside", "copysign",
    "hypot", "xlogy", "sgn", "fix", "renorm", "erfinv", "lgamma", "digamma", "polygamma", "i0", "gcd", "lcm",
    "ldexp", "scatter_reduce", "index_reduce", "addbmm", "addmm", "addmv", "addr", "baddbmm", "masked_scatter",
    "index_copy", "nextafter", "mvlgamma", "bitwise_and", "bitwise_or", "bitwise_xor", "igamma", "igammac",
    "conj_physical",
)  # fmt: skip
SURFACE_INPLACE_ALIASES = {
    "greater_": "gt_",
    "greater_equal_": "ge_",
    "less_": "lt_",
    "less_equal_": "le_",
    "not_equal_": "ne_",
    "arccos_": "acos_",
    "arcsin_": "asin_",
    "arctan_": "atan_",
    "arctan2_": "atan2_",
    "arccosh_": "acosh_",
    "arcsinh_": "asinh_",
    "arctanh_": "atanh_",
}

# PyTorch's top-level in-place functions (``ember.exp_(x)``): the Tensor methods of these names.
TOP_LEVEL_INPLACE = (
    "abs_", "absolute_", "acos_", "arccos_", "acosh_", "arccosh_", "asin_", "arcsin_", "asinh_", "arcsinh_",
    "atan_", "arctan_", "atanh_", "arctanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_",
    "cosh_", "deg2rad_", "erf_", "erfc_", "exp_", "exp2_", "expm1_", "fill_", "fix_", "floor_", "frac_",
    "index_put_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_",
    "trunc_", "xlogy_", "zero_", "gcd_", "lcm_", "i0_", "ldexp_", "addmv_", "detach_",
    "resize_as_", "conj_physical_",
)  # fmt: skip

# the signatures PyTorch's argument parser lists when a top-level in-place function's input is not a tensor, for
# those whose parser has other overloads or other arguments (the others name the input: "must be Tensor")
TOP_LEVEL_INPLACE_SIGNATURES = {
    "addmv_": ("Tensor input, Tensor mat, Tensor vec, *, Number beta = 1, Number alpha = 1",),
    "clamp_": (
        "Tensor input, Tensor min = None, Tensor max = None",
        "Tensor input, Number min = None, Number max = None",
    ),
    "clip_": (
        "Tensor input, Tensor min = None, Tensor max = None",
        "Tensor input, Number min = None, Number max = None",
    ),
    "clamp_max_": ("Tensor input, Tensor max", "Tensor input, Number max"),
    "clamp_min_": ("Tensor input, Tensor min", "Tensor input, Number min"),
    "fill_": ("Tensor input, Tensor value", "Tensor input, Number value"),
    "xlogy_": ("Tensor input, Tensor other", "Tensor input, Number other"),
}


def top_level_inplace(name):
    """The Tensor's in-place method ``name`` as PyTorch's top-level function (``ember.exp_(x)``): an input that is
    not a tensor gets PyTorch's TypeError ("exp_(): argument 'input' (position 1) must be Tensor, not str"), where
    the method would fail on one of its attributes; a tensor is handed to the method ``Tensor`` holds now (the
    argument-checked one once a subclass takes part in ``__torch_function__``)."""
    method = Tensor.__dict__[name]
    signatures = TOP_LEVEL_INPLACE_SIGNATURES.get(name)

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            if signatures:  # PyTorch's argument parser names its signatures
                raise invalid_combination(name, (input, *args), kwargs, signatures)
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
        return Tensor.__dict__[name](input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__
    function.__module__ = "ember"
    return overrides._hidden_from_warnings(function)  # a warning's stacklevel counts the caller's frame


# PyTorch's __torch_function__ protocol (ember.overrides): the default handler every subclass inherits,
# and the hook that wraps a subclass's surface when it is defined (Tensor's own stays unwrapped)
PROTOCOL = {
    "__torch_function__": classmethod(overrides.default_torch_function),
    "__init_subclass__": classmethod(overrides.init_subclass),
    "_make_subclass": staticmethod(overrides.make_subclass),
}

TABLES = (
    PROTOCOL,
    AUTOGRAD,
    CONSTRUCTION,
    CONVERSION,
    ARITHMETIC,
    COMPARISON,
    REDUCTIONS,
    LINEAR_ALGEBRA,
    DECOMPOSITIONS,
    SHAPE,
    INDEXING,
    ACTIVATIONS,
    FILLS,
    OPERATORS,
    PROPERTIES,
    SURFACE,
    quantized.TENSOR_METHODS,  # is_quantized, dequantize, and the quantized-only methods (which raise)
)


def install():
    """Put the table on ``Tensor`` and connect the tensor to the plugin host's backends; run once."""
    defined = set(Tensor.__dict__)  # what ember/tensor.py defines: the table must not shadow it
    for table in TABLES:
        for name, implementation in table.items():
            if name in defined:
                raise RuntimeError(f"Tensor.{name} is defined both in ember/tensor.py and in the method table")
            setattr(Tensor, name, unguarded(implementation))  # self is a tensor: no check
    for name in INPLACE_TWINS + SURFACE_INPLACE_TWINS:
        setattr(Tensor, name + "_", inplace._inplace(name))
    for name in SHAPE_INPLACE_TWINS:
        setattr(Tensor, name + "_", slicing_joining._shape_inplace(name))
    operators = {}  # name of the twin -> its in-place operator (``Tensor.__idiv__ is Tensor.__itruediv__``)
    for alias, name in (INPLACE_ALIASES | SURFACE_INPLACE_ALIASES).items():
        method = Tensor.__dict__[name]
        if alias.startswith("__"):
            if name not in operators:
                operators[name] = _inplace_operator(method, INPLACE_OPERATOR_KEYWORDS.get(alias, frozenset()))
            method = operators[name]
        setattr(Tensor, alias, method)
    for table in TABLES:  # PyTorch's other names: functions of their own (Tensor.arctan is not Tensor.atan)
        aliases.rename_aliases(table)
    for name in aliases.TORCH_ALIASES.intersection(Tensor.__dict__) | set(OWN_INPLACE_OPERATORS):
        setattr(Tensor, name, aliases.renamed(Tensor.__dict__[name], name))
    _name_after_tensor()
    _refuse_out()
    _tensor.connect(plugin.backend_registry, creation.default_device)
    _devices.connect(plugin.backend_registry)
    overrides.connect(_wrap_surface, _restore_surface, _check_surface)
    unstrided.hide_dense_surface()


_ABSENT = object()  # ``out`` not given to a method


def _parameters(function):
    """``function``'s parameters as its signature lists them, each ``(kind, name, has_default)`` with kind
    ``""`` (positional), ``"*"``, ``"keyword"`` (keyword-only) or ``"**"``: read from its code object, without
    :mod:`inspect`'s cost."""
    code = function.__code__
    positional, keyword_only = code.co_argcount, code.co_argcount + code.co_kwonlyargcount
    names, flags = code.co_varnames, code.co_flags
    first_default = positional - len(function.__defaults__ or ())
    keyword_defaults = function.__kwdefaults__ or {}
    parameters = [("", name, i >= first_default) for i, name in enumerate(names[:positional])]
    rest = keyword_only
    if flags & inspect.CO_VARARGS:
        parameters.append(("*", names[rest], False))
        rest += 1
    parameters += [("keyword", name, name in keyword_defaults) for name in names[positional:keyword_only]]
    if flags & inspect.CO_VARKEYWORDS:
        parameters.append(("**", names[rest], False))
    return parameters


def _takes_out(name, function):
    """Whether the method ``name`` is an op that takes ``out=`` (itself, or the op a decorator's
    ``*args, **kwargs`` pass it to); an operator (``__add__``) computes its op without it."""
    if not isinstance(function, types.FunctionType):
        return False
    code = function.__code__
    if "out" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
        return True
    if not code.co_flags & inspect.CO_VARKEYWORDS or name.startswith("__"):
        return False
    inner = inspect.unwrap(function).__code__
    return "out" in inner.co_varnames[: inner.co_argcount + inner.co_kwonlyargcount]


def _refuse_out():
    """Put :func:`_refusing_out` on each method of ``Tensor`` that is an op taking ``out=`` (one method per op:
    ``Tensor.__abs__ is Tensor.abs``), and point the operators that compute one (``__add__``) at its method."""
    methods = {}
    for name, value in list(Tensor.__dict__.items()):
        if _takes_out(name, value):
            if id(value) not in methods:
                methods[id(value)] = _refusing_out(value.__name__, value)
            setattr(Tensor, name, methods[id(value)])
    for value in Tensor.__dict__.values():
        computed = getattr(value, "__wrapped__", None)
        if isinstance(value, types.FunctionType) and id(computed) in methods:
            value.__wrapped__ = methods[id(computed)]


_POSITION = re.compile(r"\(position (\d+)\)")


def _renumbered(error, op):
    """``error``, the TypeError of the op ``op`` called as a method, with the argument's position as PyTorch's
    argument parser gives a method's, which does not count ``self`` ("add(): argument 'other' (position 1)" for
    ``x.add("a")``, where ``ember.add(x, "a")`` says position 2). Only the error path pays for it."""
    message = str(error)
    if type(error) is TypeError and len(error.args) == 1 and message.startswith(f"{op}(): argument '"):
        error.args = (_POSITION.sub(lambda found: f"(position {int(found[1]) - 1})", message, count=1),)


def _refusing_out(name, function):
    """``function`` (an op that takes ``out=``, ``ember.add``) as the method ``Tensor.name``, which refuses
    ``out`` as PyTorch's methods do: none of them takes it. The TypeError is PyTorch's for a method of ``self``
    alone ("Tensor.exp() takes no keyword arguments") and for the others ("add() got an unexpected keyword
    argument 'out'"; an overloaded method's, "received an invalid combination of arguments", names its
    signatures, which ember does not keep).

    The method has ``function``'s own parameters, ``out`` given a default that stands for its absence, and
    passes them on as they came (no ``*args``/``**kwargs`` of its own to pack: the call costs one frame). An
    argument's position in the op's TypeError is the method's (:func:`_renumbered`).
    """
    head, passed = [], []
    for kind, given, has_default in _parameters(function):
        if kind == "**" and "out=_ABSENT" not in head:  # a decorator's: out comes before
            head.append("out=_ABSENT" if any(part.startswith("*") for part in head) else "*, out=_ABSENT")
        if kind == "keyword" and not any(part.startswith("*") for part in head):
            head.append("*")
        if given == "out":
            head.append("out=_ABSENT")
            continue
        star = kind if kind in ("*", "**") else ""
        head.append(star + given + ("=None" if has_default else ""))  # the defaults are set below
        passed.append(f"{given}={given}" if kind == "keyword" else star + given)
    self_alone = len(passed) == 1 and not passed[0].startswith("*")
    message = (
        f"Tensor.{name}() takes no keyword arguments"
        if self_alone
        else f"{name}() got an unexpected keyword argument 'out'"
    )
    source = (
        f"def {name}({', '.join(head)}):\n"
        "    if out is not _ABSENT:\n"
        f"        raise TypeError({message!r})\n"
        "    try:\n"
        f"        return _function({', '.join(passed)})\n"
        "    except TypeError as error:\n"
        f"        _renumbered(error, {function.__name__!r})\n"
        "        raise\n"
    )
    namespace = {"_ABSENT": _ABSENT, "_function": function, "_renumbered": _renumbered}
    exec(compile(source, f"<ember.Tensor.{name}>", "exec"), namespace)  # noqa: S102 - the source is built above
    method = overrides._hidden_from_warnings(namespace[name])  # a warning's stacklevel counts the caller's frame
    method.__defaults__ = function.__defaults__
    method.__kwdefaults__ = {**(function.__kwdefaults__ or {}), "out": _ABSENT}
    method.__doc__ = function.__doc__
    method.__module__ = function.__module__
    method.__qualname__ = name  # what Python names in its own errors ("add() missing ...")
    method._ember_op = function  # the op the table names
    return method


def _name_after_tensor():
    """A method whose function has an internal name (``indexing.getitem`` as ``Tensor.__getitem__``,
    ``_split`` as ``Tensor.split``) takes the name ``Tensor`` gives it first, as PyTorch's methods have:
    a ``__torch_function__`` handler or a mode that logs ``func.__name__`` sees PyTorch's names. Aliases
    stay one function (``Tensor.greater`` is ``Tensor.gt``); a function that is also public under its own
    name elsewhere keeps it. (An operator named after the op it computes, ``x * 2``'s ``mul``, takes its own
    name: its handlers see the op, ``Tensor.mul``.)"""
    public = vars(sys.modules["ember"])  # being imported: what it holds so far
    for name, value in list(Tensor.__dict__.items()):
        if not isinstance(value, types.FunctionType) or overrides._private(name) or value.__name__ == name:
            continue
        if (value.__name__ in Tensor.__dict__ and not hasattr(value, "__wrapped__")) or public.get(
            value.__name__
        ) is value:
            continue
        value.__name__ = name


_UNWRAPPED: dict = {}  # while a TorchFunctionMode is active: the surface's own methods and properties


def _wrap_surface(wrap):
    """Replace each method and property of ``Tensor`` by ``wrap(name, value)`` (not None), keeping the
    originals for :func:`_restore_surface`: a :class:`~ember.overrides.TorchFunctionMode` sees plain
    tensors' calls only while one is active."""
    for name, value in list(Tensor.__dict__.items()):
        wrapped = wrap(name, value)
        if wrapped is not None:
            _UNWRAPPED[name] = value
            setattr(Tensor, name, wrapped)
    return _UNWRAPPED


def _restore_surface():
    for name, value in _UNWRAPPED.items():
        setattr(Tensor, name, value)
    _UNWRAPPED.clear()


def _check_surface(check, originals):
    """Replace each method of ``Tensor`` by ``check(name, value)`` (not None), for good: the argument checks
    that :mod:`ember.overrides` switches on once a subclass takes part in ``__torch_function__``. While a
    mode is active (``originals``: what it puts back at its exit), the checked methods go there instead."""
    surface = originals or Tensor.__dict__
    for name, value in sorted(surface.items(), key=lambda item: item[0].startswith("__")):  # methods first
        checked = check(name, value)
        if checked is None:
            continue
        if originals:
            originals[name] = checked
        else:
            setattr(Tensor, name, checked)
