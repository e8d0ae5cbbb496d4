"""Helpers shared by the op modules: device checks, promotion, reduction shapes."""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import operator
import re
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard, TypeVar, cast

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import grad_state
from ..autograd.named_nodes import named_node  # noqa: F401 - the ops take it from here with the other helpers
from ..dim_errors import called_op, dim_type_error
from ..tensor import NUMBER_TYPES, Tensor, tensor
from ..type_names import type_name
from ..typeinfo import iinfo
from ..unstrided import UnstridedTensor, by_layout
from .dtype_support import check_limited_support
from .overloads import SIGNATURES, TORCH_NAMES

if TYPE_CHECKING:
    from ..types import Number

__all__ = [
    "check_same_device",
    "on_one_device",
    "promote",
    "promote_floating",
    "sum_to",
    "normalize_dims",
    "is_scalar",
    "wrap_dim",
    "numpy_names",
    "dim_or_axis",
    "check_factor",
    "require_tensors",
    "tensor_input",
    "tensor_input_checked",
    "unguarded",
    "read_before_checked",
    "type_name",
    "broadcast_error",
    "raise_broadcast_error",
    "fill_value_for",
    "check_scalar_fits",
    "bool_arg_error",
    "int_list",
    "int_arg",
    "is_index",
    "given_arguments",
    "invalid_combination",
]

#: ember dtype -> the C++ type PyTorch's overflow errors name
_C_TYPES = {
    dtypes.bool: "bool", dtypes.uint8: "uint8_t", dtypes.int8: "int8_t", dtypes.int16: "int16_t",
    dtypes.int32: "int", dtypes.int64: "int64_t", dtypes.float16: "c10::Half",
    dtypes.bfloat16: "c10::BFloat16", dtypes.float32: "float", dtypes.float64: "double",
    dtypes.uint16: "uint16_t", dtypes.uint32: "uint32_t", dtypes.uint64: "uint64_t",
    **{d: f"c10::{dtypes.TORCH_SCALAR_NAMES[d.name]}" for d in dtypes.float8_dtypes},
}  # fmt: skip


#: an op, as the decorators here take and give it
_Op = TypeVar("_Op", bound=Callable[..., Any])

#: the Python number types themselves: a value of one is a number without the checks against the numbers ABCs
_PYTHON_NUMBERS = (float, int, bool, complex)


def is_scalar(value: object) -> TypeGuard[Number]:
    """A Python (or NumPy) number, not a tensor. NumPy's bool scalar counts: PyTorch's argument parser
    takes it as a floating-point number (``int_tensor + numpy.bool_(True)`` is float32)."""
    return type(value) in _PYTHON_NUMBERS or (isinstance(value, NUMBER_TYPES) and not isinstance(value, Tensor))


def python_scalar(value: Number) -> Number:
    """The Python number PyTorch's argument parser reads from ``value``: a NumPy scalar becomes the
    Python int, float or complex it holds (its bool a float), so it promotes as a Python number
    would (NumPy's own scalars are not 'weak': float64 ** float32 array is float64 there)."""
    if isinstance(value, np.generic):
        return float(value) if isinstance(value, np.bool_) else value.item()
    return value


def check_same_device(op, *tensors):
    """Raise the PyTorch-style error if tensors of one op live on different devices."""
    first = tensors[0]._device
    for t in tensors[1:]:
        if t._device is not first and t._device != first:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{first} and {t._device}! (when checking argument for {op})"
            )


def _is_cpu_scalar(t):
    return t.ndim == 0 and t._device.type == "cpu"


def on_one_device(op, *tensors):
    """``tensors`` on one device, as PyTorch computes them: a 0-d CPU tensor is a scalar that joins
    (differentiably) the device of the others; any other mismatch raises the device error."""
    first = tensors[0]._device
    if all(t._device is first or t._device == first for t in tensors[1:]):
        return tensors
    device = next((t._device for t in tensors if not _is_cpu_scalar(t)), first)
    moved = []
    for t in tensors:
        if t._device is not device and t._device != device:
            if not _is_cpu_scalar(t):
                check_same_device(op, *tensors)
            t = t.to(device)
        moved.append(t)
    return tuple(moved)


def as_tensor_arg(op, value, like):
    """``value`` as a tensor on ``like``'s device (scalars become 0-d tensors, a 0-d CPU tensor
    moves to ``like``'s accelerator). A real floating-point number beside a floating-point ``like`` takes
    ``like``'s type, the type it promotes to (a weak operand): ``0.1`` beside float64 is not rounded to float32."""
    if isinstance(value, Tensor):
        return on_one_device(op, like, value)[1]
    if is_scalar(value):
        dtype = dtypes.scalar_dtype(value)
        if dtype.is_floating_point and like.dtype.is_floating_point:
            dtype = like.dtype
        elif type(value) is int and not -(1 << 63) <= value < 1 << 63:  # PyTorch reads 2**63 .. 2**64 - 1 as a uint64
            if value >> 64 or value < 0:
                raise _int_overflow(value)
            # beside a floating tensor, the value it casts to (also where the backend holds no uint64: OpenCL)
            dtype = like.dtype if like.dtype.is_floating_point or like.dtype.is_complex else dtypes.uint64
        return tensor(value, dtype=dtype, device=like._device)
    raise TypeError(f"{op}(): expected a Tensor or a number, got {type(value).__name__}")


def array_operands(like, value):
    """``(like, value, dtype)`` with the NumPy array ``value`` made a tensor on ``like``'s device, both
    cast to the dtype NumPy's promotion gives them; None when ``value`` is no NumPy array.

    PyTorch's operators compute a tensor and a NumPy array with NumPy's promotion rules
    (``float32 tensor * int64 array`` is float64); NumPy defers its own operators to ours
    through ``__array_priority__``, so both operand orders arrive here.
    """
    if not isinstance(value, np.ndarray):
        return None
    if like.dtype is dtypes.bfloat16:  # PyTorch converts the tensor to NumPy first, which has no bfloat16
        raise TypeError("Got unsupported ScalarType BFloat16")
    result = dtypes.as_dtype(np.result_type(dtypes.host_dtype(like.dtype), value).name)
    converted = tensor(value, dtype=result, device=like._device)
    return (like if like.dtype is result else like.to(result)), converted, result


# the ops whose argument parser reads ``other`` as a Tensor alone (a number is its own, hidden overload), so that
# it names ``other`` for an operand it does not take ("add(): argument 'other' (position 2) must be Tensor, not
# str"); the others list their overloads, as "received an invalid combination of arguments"
_TENSOR_OTHER = frozenset(("add", "sub", "mul", "div"))


def promote(op, a, b, refuse_limited=True):
    """Bring ``a`` (a tensor) and ``b`` (a tensor or Python scalar) to a common dtype.

    Returns ``(a, b, dtype)``; Python scalars stay Python scalars (they are 'weak'),
    tensors are cast (differentiably) only when their dtype differs from the result.
    A result of uint16/32/64 or a float8 type raises PyTorch's ``NotImplementedError`` where it has
    no kernel of ``op`` for it (:func:`~ember.ops.dtype_support.check_limited_support`), unless
    ``refuse_limited`` is False (the caller checks).
    """
    if type(b) is Tensor or (isinstance(b, Tensor) and not isinstance(b, UnstridedTensor)):
        if a._device is not b._device and a._device != b._device:
            a, b = on_one_device(op, a, b)
        na, nb = a._data.dtype, b._data.dtype
        if na is nb or na == nb:  # the common case: one native type, no ember dtype lookups
            result = a._backend._ember[na]
            if result in dtypes.limited_dtypes and refuse_limited:
                check_limited_support(op, result, b.ndim == 0)
            return a, b, result
        da, db = a.dtype, b.dtype
        groups = ([], [], [])
        for t, d in ((a, da), (b, db)):
            groups[0 if t.ndim else 1].append(d)
        result = dtypes.result_type(groups[0], groups[1], [])
        if result in dtypes.limited_dtypes and refuse_limited:
            check_limited_support(op, result, b.ndim == 0)
        return (a if da is result else a.to(result)), (b if db is result else b.to(result)), result
    tb = type(b)
    if tb is float or tb is int:  # the common case: a Python number with a floating tensor
        da = a._backend._ember[a._data.dtype]
        if tb is int and not -(1 << 63) <= b < 1 << 64:
            raise _int_overflow(b)
        if da.is_floating_point:  # no scalar outranks a floating tensor's category
            if da in dtypes.limited_dtypes and refuse_limited:
                check_limited_support(op, da, True)
            return a, float(b), da
    elif not is_scalar(b):
        # dense +/- sparse (COO or compressed) is dense, as in PyTorch, and so is the sparse operand's gradient
        # (an ember sparse tensor: PyTorch's own tensors have a _nnz too, and their to_dense is themselves)
        if op in ("add", "sub") and hasattr(b, "_nnz") and type(b).__module__.startswith("ember."):
            return promote(op, a, b._dense_operand(), refuse_limited)
        operands = array_operands(a, b)
        if operands is not None:
            return operands
        if op in _TENSOR_OTHER:
            raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor, not {type_name(b)}")
        raise TypeError(f"{op}(): expected a Tensor or a number as the other operand, got {type(b).__name__}")
    da = a.dtype
    sd = dtypes.scalar_dtype(b)
    if da is dtypes.bool and sd is dtypes.int64 and b >= 1 << 63:  # PyTorch's scalar is a uint64 there
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote Bool and UInt64"
        )
    if sd._category > da._category:
        result = da.to_complex() if sd.is_complex and da.is_floating_point else sd
        a = a.to(result)
    else:
        result = da
    if result in dtypes.limited_dtypes and refuse_limited:
        check_limited_support(op, result, True)
    if result.is_floating_point:
        b = float(b)
    elif result.is_complex:
        b = complex(b)
    elif result is not dtypes.bool:
        b = wrap_integer(int(b), result)
    return a, b, result


def promote_floating(op, a, b):
    """:func:`promote` for an op that computes in floating point (true division, atan2, xlogy):
    integer and bool operands become the default dtype with the values they hold, not through
    their integer result type (``int8 / uint8(200)`` divides by 200, not by -56, and
    ``xlogy(uint8, -2)`` takes the log of -2, not of 254).

    Returns ``(a, b, dtype)`` as :func:`promote` does.
    """
    pa, pb, result = promote(op, a, b, refuse_limited=False)  # an unsigned result is computed in floating point
    if result.is_floating_point or result.is_complex:
        if result in dtypes.limited_dtypes:
            check_limited_support(op, result, not isinstance(b, Tensor) or b.ndim == 0)
        return pa, pb, result
    result = dtypes.get_default_dtype()
    if isinstance(b, Tensor):
        a, b = on_one_device(op, a, b)
        return a.to(result), b.to(result), result
    if is_scalar(b):
        return a.to(result), float(b), result
    return pa.to(result), pb.to(result), result  # a NumPy array, which NumPy's rules promoted


def wrap_integer(value, dtype):
    """A Python int as the integer ``dtype`` holds it: wrapped modulo 2**bits as PyTorch casts a
    scalar (``uint8 tensor + -1`` adds 255, ``int64 tensor + 2**63`` adds -2**63: PyTorch reads an int
    from 2**63 up as a uint64); a value beyond both int64 and uint64 is PyTorch's OverflowError."""
    bits = 8 * dtype.itemsize
    low = -(1 << (bits - 1)) if dtype.is_signed else 0
    if low <= value < low + (1 << bits):
        return value
    if not -(1 << 63) <= value < 1 << 64:
        raise _int_overflow(value)
    return (value - low) % (1 << bits) + low


def _int_overflow(value):
    """PyTorch's error for a Python int that is neither an int64 nor a uint64 (its argument parser's)."""
    return OverflowError("int too big to convert" if value > 0 else "can't convert negative int to unsigned")


#: the C++ type of an element, as PyTorch's conversion errors name it (the integers: ``int64_t``, ...)
def fill_value_for(value, dtype):
    """The Python number ``value`` as PyTorch stores it as a fill value of ``dtype`` (``full``,
    ``fill_``, ``masked_fill``): an integer type takes an int in its range and, if unsigned, the
    negatives down to minus its maximum, wrapped (-1 is 255 as uint8); a float must lie in the
    integer type's range (NaN does not); a floating type takes a finite number within its range (1e39 is no
    float32, 70000 no float16; PyTorch's one-element fills skip that check, ember does not); a
    complex number goes into complex types only. Anything beyond raises PyTorch's RuntimeError;
    other types take ``value`` as it is."""
    kind = type(value)
    if kind is not float and kind is not int:  # (a Python float or int, the common case, is a real number)
        if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real) and not dtype.is_complex:
            raise RuntimeError(
                f"value cannot be converted to type {_C_TYPES.get(dtype, dtype.name + '_t')} without overflow"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return value
    elif kind is int and not -(1 << 63) <= value < 1 << 64:  # PyTorch's argument parser refuses it first
        raise _int_overflow(value)
    if dtype._category == 2:  # a floating type takes a finite number in its range (float16: up to 65504)
        if _finite(value) and abs(value) > _FLOAT_MAX[dtype]:
            raise _overflow(dtype)
        if dtype in _FLOAT8_WITHOUT_INF and math.isinf(value) or dtype is dtypes.float8_e8m0fnu and value < 2.0**-127:
            raise _overflow(dtype)  # float8_e8m0fnu: powers of two from 2**-127, no zero, no sign
        if dtype.itemsize == 2 and isinstance(value, float):  # PyTorch rounds it through float32 first
            return float(np.float32(value))
        return value
    if dtype._category != 1:
        return value
    bits = 8 * dtype.itemsize
    high = (1 << (bits - 1)) - 1 if dtype.is_signed else (1 << bits) - 1
    low = -(1 << (bits - 1)) if dtype.is_signed else 0
    if isinstance(value, numbers.Integral) and not dtype.is_signed and -high <= value < 0:
        return int(value) + (1 << bits)
    if not low <= value <= high:  # NaN too, as in PyTorch
        raise _overflow(dtype)
    return value


#: the float8 types with no infinity, where PyTorch's fill refuses one
_FLOAT8_WITHOUT_INF = frozenset(
    {dtypes.float8_e4m3fn, dtypes.float8_e4m3fnuz, dtypes.float8_e5m2fnuz, dtypes.float8_e8m0fnu}
)

#: the largest finite value of each floating type (written out: finfo of bfloat16 would import ml_dtypes)
_FLOAT_MAX = {
    dtypes.float16: 65504.0,
    dtypes.bfloat16: 3.3895313892515355e38,
    dtypes.float32: 3.4028234663852886e38,
    dtypes.float64: sys.float_info.max,
    dtypes.float8_e4m3fn: 448.0,
    dtypes.float8_e5m2: 57344.0,
    dtypes.float8_e4m3fnuz: 240.0,
    dtypes.float8_e5m2fnuz: 57344.0,
    dtypes.float8_e8m0fnu: 1.7014118346046923e38,
}


def _finite(value):
    """Neither infinite nor NaN (an int of any size is finite)."""
    return value == value and value != math.inf and value != -math.inf


def _overflow(dtype):
    return RuntimeError(f"value cannot be converted to type {_C_TYPES[dtype]} without overflow")


def check_scalar_fits(value, dtype):
    """Raise PyTorch's overflow error where the Python number ``value`` lies outside the range of
    ``dtype`` (an integer type's, or a floating type's finite range; infinities and NaN fit), as
    PyTorch's checked conversion of a scalar operand does (``int8_tensor ** 300``)."""
    if type(value) is int and not -(1 << 63) <= value < 1 << 64:  # PyTorch's argument parser refuses it first
        raise _int_overflow(value)
    if dtype._category == 1:
        info = iinfo(dtype)
        if not info.min <= value <= info.max:
            raise _overflow(dtype)
    elif dtype._category == 2 and _finite(value) and abs(value) > _FLOAT_MAX[dtype]:
        raise _overflow(dtype)


def _expanded_axes(gshape, shape):
    """The axes of ``gshape`` that broadcasting ``shape`` to it added or stretched from 1."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)


def sum_to(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting expanded to get from ``shape``."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = _expanded_axes(gshape, shape)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    elif grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def sum_to_array(xp, array, shape):
    """:func:`sum_to` on a native array of namespace ``xp`` (a gradient outside any graph)."""
    if array.shape == shape:
        return array
    axes = _expanded_axes(array.shape, shape)
    if axes:
        array = xp.sum(array, axis=axes, keepdims=True)
    return xp.reshape(array, shape)


_Dim = TypeVar("_Dim")


def numpy_names(
    op: str,
    dim: _Dim,
    dim_default: object,
    axis: _Dim | None,
    keepdim: bool,
    keepdims: bool | None,
    required: bool = False,
) -> tuple[_Dim, bool]:
    """``(dim, keepdim)`` of a call that may use NumPy's names ``axis`` and ``keepdims``, as PyTorch's argument
    parser accepts them; a dimension or flag given under both names is PyTorch's TypeError, and so is no
    dimension under either name for an op that ``required`` one."""
    if axis is not None:
        if dim is not dim_default and dim != dim_default:
            raise TypeError(f"{op}() got multiple values for argument 'dim' (as dim and as axis)")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}() got multiple values for argument 'keepdim' (as keepdim and as keepdims)")
        keepdim = keepdims
    if required and dim is None:
        raise TypeError(f'{op}() missing 1 required positional arguments: "dim"')
    return dim, keepdim


class _Omitted:
    """The default of an argument whose absence PyTorch's parser tells from its default value: ``dim`` of
    ``sum``/``mean``, whose ``keepdim`` belongs to the overload with a ``dim`` (``x.sum(None, True)`` is
    accepted, ``x.sum(keepdim=True)`` is not). It reads as the value it stands for (repr, truth)."""

    __slots__ = ("_shown",)

    def __init__(self, shown: str) -> None:
        self._shown = shown

    def __repr__(self) -> str:
        return self._shown

    def __bool__(self) -> bool:
        return False


#: ``dim`` not given (reads as ``None``); ``keepdim`` not given (reads as ``False``)
DIM_OMITTED: Any = _Omitted("None")
KEEPDIM_OMITTED: Any = _Omitted("False")


def given_arguments(args: tuple, kwargs: dict) -> str:
    """A call's arguments as PyTorch's argument parser lists them in "got (...)": each positional argument's
    type, then each keyword as ``name=type``, the keywords in the reverse of their order in the call (a call
    with keywords only ends in ", ", as PyTorch's: ``(other=Tensor, )``)."""
    listed = ", ".join(type_name(value) for value in args)
    for name, value in reversed(kwargs.items()):
        listed = f"{listed}, {name}={type_name(value)}" if args else f"{listed}{name}={type_name(value)}, "
    return listed


def invalid_combination(op: str, args: tuple, kwargs: dict, signatures: tuple[str, ...]) -> TypeError:
    """PyTorch's TypeError for a call of ``op`` with ``args`` and ``kwargs`` that fits none of its
    ``signatures``, each as PyTorch prints it (``"Tensor other, *, str rounding_mode"``); an op of one signature
    names it on the same line ("but expected (Tensor input, Tensor mat, ...)")."""
    given = f"{op}() received an invalid combination of arguments - got ({given_arguments(args, kwargs)}), "
    if len(signatures) == 1:
        return TypeError(f"{given}but expected ({signatures[0]})")
    expected = "".join(f" * ({signature})\n" for signature in signatures)
    return TypeError(f"{given}but expected one of:\n{expected}")


def is_index(value: object) -> bool:
    """Whether PyTorch's argument parser reads ``value`` as an int (where an ``int[]`` begins, too): an int or what
    has ``__index__`` (NumPy's integers, an integer tensor of one element), not a bool."""
    return type(value) is int or (not isinstance(value, bool) and hasattr(type(value), "__index__"))


def int_arg(op: str, name: str, value: Any, position: int | None) -> int:
    """``value``, the ``int`` argument ``name`` of ``op``, as an int, read as PyTorch's argument parser reads it
    (:func:`is_index`); else its TypeError, with the argument's 1-based ``position`` where the call gives it
    positionally (``x.transpose("a", 1)``: "transpose(): argument 'dim0' (position 1) must be int, not str").
    Callers test ``type(value) is not int`` first, which costs the common call nothing measurable."""
    if is_index(value):
        try:
            return operator.index(value)
        except TypeError:  # a floating tensor, which has __index__ but is no int
            pass
    at = "" if position is None else f" (position {position})"
    raise TypeError(f"{op}(): argument '{name}'{at} must be int, not {type_name(value)}")


def int_list(op: str, name: str, value: Any, size: int = 0, position: int | None = None) -> tuple[int, ...]:
    """``value``, the ``int[]`` argument ``name`` of ``op``, as a tuple of ints, read as PyTorch's argument parser
    reads it: a tuple or list whose first element is an int (not a bool: NumPy's integers count) and whose other
    elements are ints or bools, or, for an argument of a fixed ``size`` (``int[2] kernel_size``), one int for
    each element. Else its TypeError, with the argument's 1-based ``position`` where the call gives it
    positionally (``max_pool2d(x, 2.5)``: "max_pool2d(): argument 'kernel_size' (position 2) must be tuple of
    ints, not float"; "... but found element of type float at pos 0"; "... failed to unpack the object at pos 2
    with error ..."). The caller checks the length."""
    kind = type(value)
    at = "" if position is None else f" (position {position})"
    if kind is tuple or kind is list or isinstance(value, (tuple, list)):  # (a Size too)
        if value and not is_index(value[0]):
            raise TypeError(
                f"{op}(): argument '{name}'{at} must be tuple of ints, but found element of type "
                f"{type_name(value[0])} at pos 0"
            )
        ints = []
        for i, item in enumerate(value):
            try:
                ints.append(item if type(item) is int else operator.index(item))
            except TypeError:
                raise TypeError(
                    f"{op}(): argument '{name}' failed to unpack the object at pos {i + 1} with error "
                    f'"type must be tuple of ints,but got {type_name(item)}"'
                ) from None
        return tuple(ints)
    if size and is_index(value):
        return (operator.index(value),) * size
    raise TypeError(f"{op}(): argument '{name}'{at} must be tuple of ints, not {type_name(value)}")


def bool_arg_error(op: str, name: str, value: object) -> TypeError:
    """PyTorch's TypeError for a bool argument given anything but ``True`` or ``False`` (an int, None, a
    NumPy bool: ``x.sum(0, keepdim=1)``: "sum(): argument 'keepdim' must be bool, not int"). The callers test
    ``value is not True and value is not False`` first, which costs the common call nothing measurable."""
    kind = type(value)
    name_of_type = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return TypeError(f"{op}(): argument '{name}' must be bool, not {name_of_type}")


def dim_and_keepdim(op: str, dim: Any, keepdim: Any) -> tuple[Any, bool]:
    """``(dim, keepdim)`` of a reduction whose ``dim`` and ``keepdim`` default to :data:`DIM_OMITTED` and
    :data:`KEEPDIM_OMITTED`: PyTorch's TypeError for a ``keepdim`` given without a ``dim`` (its overload
    without ``dim`` takes no ``keepdim``: ``x.sum(keepdim=True)``), else the values they stand for."""
    if dim is DIM_OMITTED:
        if keepdim is not KEEPDIM_OMITTED:
            raise TypeError(
                f"{op}() received an invalid combination of arguments - got (keepdim=bool, ): the overload "
                f"without dim takes no keepdim (give dim=None to reduce every dimension and keep them)"
            )
        return None, False
    return dim, False if keepdim is KEEPDIM_OMITTED else keepdim


def refuse_none_dim(op: str, dim: Any) -> Any:
    """``dim`` of a reduction whose ``dim`` defaults to :data:`DIM_OMITTED` and whose whole-tensor overload
    takes no ``dim`` (``prod``, ``max``, ``min``, ``median``, ``nanmedian``): PyTorch's TypeError for
    ``dim=None`` given (``x.max(dim=None)``), else ``dim``, None when it was omitted."""
    if dim is None:
        raise TypeError(
            f"{op}() received an invalid combination of arguments - got (dim=NoneType, ): dim must be an int "
            f"(omit it to reduce every element)"
        )
    return None if dim is DIM_OMITTED else dim


def refuse_keepdim_without_dim(op: str, dim: object, keepdim: bool) -> None:
    """PyTorch's TypeError for ``keepdim=True`` given to a reduction over a single ``dim`` without one
    (``x.prod(keepdim=True)``): its overload without ``dim`` takes no ``keepdim``, and the result
    would otherwise lose the dimensions the caller asked to keep; and its TypeError for a ``keepdim`` that is
    no bool (``x.prod(0, keepdim=1)``)."""
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error(op, "keepdim", keepdim)
    if dim is None and keepdim:
        raise TypeError(
            f"{op}() received an invalid combination of arguments - got (keepdim=bool, ): keepdim needs dim"
        )


def require_tensors(op: str, names: tuple[str, ...], *operands: object, first: int = 1) -> None:
    """PyTorch's TypeError for an op whose signature takes tensors only, given a number or another
    object (``torch.maximum(x, 1)``: "argument 'other' (position 2) must be Tensor, not int"): ``names``
    are the parameters of ``operands``, which are the op's arguments from position ``first`` on."""
    for position, (name, operand) in enumerate(zip(names, operands), first):
        if not isinstance(operand, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type_name(operand)}")


def tensor_input(body: _Op) -> _Op:
    """Decorator of an op whose first argument PyTorch's argument parser requires to be a tensor: a call
    whose first argument is anything else fails with PyTorch's TypeError ("sum(): argument 'input'
    (position 1) must be Tensor, not list", the argument named as the op's first parameter, its position
    given where the call gave it by position), whatever error the op's body met with it (an AttributeError
    reading ``input.dtype``, a TypeError, a NumPy error).

    An op of several overloads (:data:`~ember.ops.overloads.SIGNATURES`): a call that more than one of them
    takes by its number of arguments and its keywords (``std(list)``), or that gives a keyword none of them
    has (``sum(x, foo=1)``), fails with PyTorch's "received an invalid combination of arguments", which lists
    them; a call that one of them takes names that one's first parameter (``repeat_interleave(list)``:
    ``repeats``).

    The check runs only once the body has failed (a try costs the successful call nothing); an op whose body
    takes what is no tensor without failing is :func:`tensor_input_checked`'s. The decorated
    function is what ``ember`` and the other namespaces hand out; ``Tensor``'s method, whose ``self`` is a
    tensor, is the body itself (:func:`unguarded`), so that a method call costs no frame more. The op named
    is the outermost ember op on the stack where another op called this one (``argwhere``'s ``nonzero``)."""
    return _guarded(body, checked=False)


def tensor_input_checked(body: _Op) -> _Op:
    """:func:`tensor_input` for an op whose body computes something from what is no tensor (a NumPy array,
    which has ``ndim``, ``reshape`` and ``dtype``: ``flatten``, ``count_nonzero``) or reads nothing of it
    (``is_conj``): its first argument is checked before the body runs (an ``isinstance`` each call)."""
    return _guarded(body, checked=True)


#: a TypeError of the device, not of the call's arguments: it stands (OpenCL's uint64)
_DEVICE_ERROR = re.compile(r"backend does not support dtype")


def _guarded(body: _Op, checked: bool) -> _Op:
    """``body`` with the check of :func:`tensor_input`, made before the body runs where ``checked``."""
    op = TORCH_NAMES.get(body.__name__, body.__name__)
    signatures = SIGNATURES.get(body.__name__, ())
    code = inspect.unwrap(body).__code__
    name, parameters = code.co_varnames[0], code.co_varnames[: code.co_argcount]

    def refusal(args: tuple, kwargs: dict, error: Exception | None) -> Exception | None:
        """The error to raise for a call that failed with ``error`` (None: checked before it ran), or None
        where ``error`` stands (or, checked, the body is to run)."""
        given = args[0] if args else kwargs.get(name, _ABSENT)
        refused = given is not _ABSENT and not isinstance(given, Tensor)  # the first argument no tensor
        # (an unknown keyword, a wrong count, a wrong type; not a dtype the device lacks)
        mistyped = len(signatures) > 1 and isinstance(error, TypeError) and not _DEVICE_ERROR.search(str(error))
        parameter = name
        if signatures and refused or mistyped:
            taking = [signature for signature in signatures if _takes(signature, args, kwargs)]
            if len(taking) == 1 and not taking[0].startswith("Tensor "):  # its first argument no tensor (normal's)
                return invalid_combination(called_op(2) or op, args, kwargs, signatures) if mistyped else None
            if len(taking) != 1:
                return invalid_combination(called_op(2) or op, args, kwargs, signatures)
            parameter = taking[0].split(", ", 1)[0].rsplit(" ", 1)[-1]  # the one overload's
        if not refused:
            return _positioned(error, parameters[: len(args)]) if isinstance(error, TypeError) else None
        position = " (position 1)" if args else ""
        message = f"argument '{parameter}'{position} must be Tensor, not {type_name(given)}"
        return TypeError(f"{called_op(2) or op}(): {message}")

    @functools.wraps(body)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except Exception as error:
            if args and isinstance(args[0], UnstridedTensor) and isinstance(error, AttributeError):
                return by_layout(body.__name__, *args, **kwargs)  # a sparse or nested tensor: its layout's op
            refused = refusal(args, kwargs, error)
            if refused is None:
                raise
            raise refused from None

    if checked:
        unchecked = guarded

        @functools.wraps(body)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not (args and isinstance(args[0], Tensor)):
                refused = refusal(args, kwargs, None)
                if refused is not None:
                    raise refused
            return unchecked(*args, **kwargs)

    guarded._ember_unguarded = body  # type: ignore[attr-defined]
    guarded._ember_checked = checked  # type: ignore[attr-defined]
    return cast(_Op, guarded)


#: an argument's TypeError without its position: "sum(): argument 'keepdim' must be bool, not int"
_UNPOSITIONED = re.compile(r"(\w+\(\): argument '(\w+)') (must be .*)", re.DOTALL)


def _positioned(error: TypeError, given: tuple[str, ...]) -> TypeError | None:
    """``error``, an argument's TypeError, with the argument's 1-based position where the call gave it by
    position (one of ``given``, the parameters the call's positional arguments fill), as PyTorch's argument
    parser words it ("sum(): argument 'keepdim' (position 3) must be bool, not int"); None where it stands."""
    found = _UNPOSITIONED.fullmatch(str(error))
    if found is None or found[2] not in given:
        return None
    return TypeError(f"{found[1]} (position {given.index(found[2]) + 1}) {found[3]}")


def _takes(signature: str, args: tuple, kwargs: dict) -> bool:
    """Whether PyTorch's argument parser tries the overload ``signature`` (as it prints it: ``"Tensor input,
    int dim, bool keepdim = False, *, Tensor out = None"``) for a call of ``args`` and ``kwargs``: their
    number and names fit its parameters, whatever their types."""
    positional: list[str] = []
    names, required = set(), set()
    for part in signature.split(", "):
        if part == "*":
            positional.append("*")
            continue
        declared, _, default = part.partition(" = ")
        parameter = declared.rsplit(" ", 1)[-1]
        names.add(parameter)
        if "*" not in positional:
            positional.append(parameter)
        if not default:
            required.add(parameter)
    positional = positional[: positional.index("*")] if "*" in positional else positional
    given = set(positional[: len(args)]) | set(kwargs)
    return len(args) <= len(positional) and set(kwargs) <= names - set(positional[: len(args)]) and required <= given


def unguarded(function: _Op) -> _Op:
    """``function``'s body without the check of :func:`tensor_input` (a method's, whose ``self`` is a
    tensor); any other function as it is."""
    return getattr(function, "_ember_unguarded", function)


_ABSENT = object()  # what getattr gives for an attribute an object lacks


def read_before_checked(input: object, attribute: str, called: bool = True) -> None:
    """PyTorch's error where its Python functional reads ``input.<attribute>`` before any check that ``input``
    is a tensor (``F.group_norm`` calls ``input.dim()`` first): the AttributeError Python raises for an
    ``input`` that lacks the attribute ("'list' object has no attribute 'dim'"), and, where the functional
    calls it (``called``), the TypeError for one that is no method (a NumPy array's ``size``: "'int' object
    is not callable"). Anything else passes, to the op's own checks."""
    if not isinstance(input, Tensor):
        value = getattr(input, attribute, _ABSENT)
        if value is _ABSENT:
            raise AttributeError(f"'{type_name(input)}' object has no attribute '{attribute}'")
        if called and not callable(value):
            raise TypeError(f"'{type_name(value)}' object is not callable")


def refuse_gradients(op: str, **arguments: Tensor | None) -> None:
    """PyTorch's RuntimeError for an argument its kernel has no derivative for (a loss's class
    ``weight``, batch norm's running statistics) that requires grad while grad mode is on."""
    if not grad_state.enabled:
        return
    for name, argument in arguments.items():
        if argument is not None and argument.requires_grad:
            raise RuntimeError(
                f"The function '{op}' is not differentiable with respect to argument '{name}'. "
                "This input cannot have requires_grad True."
            )


def converted_factor(factor: Number, dtype: dtypes.dtype) -> Number:
    """``factor`` as PyTorch converts a scalar multiplier to ``dtype``: a complex number with an imaginary
    part is its RuntimeError for a real type ("value cannot be converted to type float without
    overflow"), one without counts as its real part (``2+0j`` is 2); a real number outside the range of
    ``dtype`` is its RuntimeError too (``value=300`` for int8)."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        fill_value_for(factor, dtype)  # raises where it does not fit
    if isinstance(factor, complex) and not dtype.is_complex:
        if factor.imag:
            fill_value_for(factor, dtype)  # raises
        return factor.real
    return factor


def check_factor(name: str, factor: Number, result: dtypes.dtype) -> None:
    """PyTorch's checks of a scalar factor (``add``'s ``alpha``, ``addr``'s ``beta``) against the dtype of
    the result it scales: no float factor for an integral or bool result, no bool factor for a non-bool
    result, no complex factor for a real one, none outside the range of the result's type (``alpha=300``
    for uint8: PyTorch's overflow error)."""
    kind = type(factor)
    if (kind is float or kind is int) and result.is_floating_point:  # the common case: its range alone
        fill_value_for(factor, result)  # raises where it does not fit
        return
    if isinstance(factor, (int, float)) and not isinstance(factor, bool) and result is not dtypes.bool:
        fill_value_for(factor, result)  # raises where it does not fit
    if isinstance(factor, (bool, np.bool_)):
        if result is not dtypes.bool:
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
    elif not (result.is_floating_point or result.is_complex) and not isinstance(factor, (int, np.integer)):
        raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")
    elif isinstance(factor, complex) and not result.is_complex:
        raise RuntimeError(f"For non-complex input tensors, argument {name} must not be a complex number.")


def dim_or_axis(op: _Op) -> _Op:
    """``op`` also taking its ``dim`` as NumPy's ``axis=``, as PyTorch's argument parser accepts it for
    every parameter named ``dim``; for the ops whose ``dim`` sits between required operands
    (``gather(input, dim, index)``), where :func:`numpy_names`' defaulted keyword cannot go."""

    @functools.wraps(op)
    def with_axis(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{op.__name__}() got multiple values for argument 'dim' (as dim and as axis)")
            kwargs["dim"] = kwargs.pop("axis")
        return op(*args, **kwargs)

    return cast(_Op, with_axis)


def wrap_dim(dim, ndim):
    """Turn a possibly negative ``dim`` into an index in ``[0, ndim)`` (0-d counts as 1-d)."""
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, checked without max()
        return dim + ndim if dim < 0 else dim
    bound = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        if isinstance(dim, Tensor) and dim.ndim == 0 and not (dim.dtype.is_floating_point or dim.dtype.is_complex):
            dim = int(dim)  # a 0-d integer tensor, which PyTorch's argument parser takes as an int
        elif isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise dim_type_error(dim)
        dim = int(dim)  # a NumPy integer, which PyTorch's argument parser takes as an int
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim % bound


def normalize_dims(dim, ndim):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        if type(dim) is int and ndim:
            return (wrap_dim(dim, ndim),)
        dim = (dim,)
    elif isinstance(dim, numbers.Integral) or isinstance(dim, Tensor) and dim.ndim == 0:  # NumPy's int, 0-d tensor
        dim = (dim,)
    elif not isinstance(dim, (tuple, list, Tensor)):
        raise dim_type_error(dim, "tuple of ints")
    wrapped = [wrap_dim(d, ndim) for d in dim]
    axes = tuple(sorted(set(wrapped)))
    if len(axes) != len(wrapped):
        repeated = next(d for i, d in enumerate(wrapped) if d in wrapped[:i])
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return axes if ndim else ()


def broadcast_error(a_shape, b_shape):
    """PyTorch's error for shapes that do not broadcast, or None if they do."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if a_shape == b_shape or not a_shape or not b_shape:  # (equal shapes and a 0-d one broadcast at once)
        return None
    n = max(len(a_shape), len(b_shape))
    for i in range(1, n + 1):
        sa = a_shape[-i] if i <= len(a_shape) else 1
        sb = b_shape[-i] if i <= len(b_shape) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {n - i}"
            )
    return None


def raise_broadcast_error(exc: BaseException, *operands: object) -> NoReturn:
    """Raise PyTorch's error if ``operands`` (tensors, numbers or shapes) do not broadcast, from
    ``exc``, the error the backend raised computing them; re-raise ``exc`` if they do. Called only on
    the error path, so that an op checks nothing before it computes. Several operands are checked
    as PyTorch checks them: each against the broadcast shape of those before it."""
    shapes = [x if isinstance(x, tuple) else tuple(getattr(x, "shape", ())) for x in operands]
    so_far = shapes[0]
    for shape in shapes[1:]:
        error = broadcast_error(so_far, shape)
        if error is not None:
            raise error from exc
        n = max(len(so_far), len(shape))
        padded = [(1,) * (n - len(s)) + s for s in (so_far, shape)]
        so_far = tuple(a if b == 1 else b for a, b in zip(*padded))
    raise exc


_RENAMED: dict[tuple[int, str], Any] = {}  # (id(function), alias) -> the function under the alias


def renamed(func: _Op, name: str) -> _Op:
    """``func`` as a function of its own named ``name`` (the same code, its frames named ``name``, defaults and
    closure; one per pair,
    so that ``ember.arctan is ember.Tensor.arctan`` as ``ember.atan is ember.Tensor.atan``); anything but a
    plain function, or one already so named, as it is."""
    if not isinstance(func, types.FunctionType) or func.__name__ == name:
        return func
    key = (id(func), name)
    clone = _RENAMED.get(key)
    if clone is None and hasattr(func, "_ember_unguarded"):  # tensor_input's: its check around the body renamed
        clone = _guarded(renamed(func._ember_unguarded, name), func._ember_checked)  # (whose errors name it)
    elif clone is None:
        code = func.__code__.replace(co_name=name, co_qualname=name)  # its frames named as it (called_op's)
        clone = types.FunctionType(code, func.__globals__, name, func.__defaults__, func.__closure__)
        clone.__kwdefaults__ = None if func.__kwdefaults__ is None else dict(func.__kwdefaults__)
        clone.__dict__.update(func.__dict__)
        clone.__doc__, clone.__module__, clone.__qualname__ = func.__doc__, func.__module__, name
        clone.__annotations__ = func.__annotations__
    if key not in _RENAMED:
        _RENAMED[key] = clone
        _KEEP.append(func)  # the id stays the function's
    return cast("_Op", clone)


_KEEP: list[Any] = []
