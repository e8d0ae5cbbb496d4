"""Element-wise operations: unary math, binary arithmetic with broadcasting, comparisons."""

from __future__ import annotations

import builtins
import cmath
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import numpy as np

from .. import dtypes
from ..amp.policy import cast_inputs, has_policy
from ..amp.state import state as _amp
from ..autograd.function import Function, saved_reader
from ..layout import contiguous_format
from ..tensor import Tensor, tensor
from ..unstrided import UnstridedTensor, by_layout, is_strided
from . import complex_math
from .comparison import _TORCH_NAMES
from .dtype_support import (
    C_NAMES,
    FLOAT8,
    FLOATING_AND_HALF,
    INTEGRAL,
    check_limited_support,
    not_implemented,
    refuse_limited,
)

if TYPE_CHECKING:
    from ..types import Number
from ..dim_errors import called_op
from ..type_names import type_name
from .operands import (
    array_operands,
    as_tensor_arg,
    broadcast_error,
    check_factor,
    check_scalar_fits,
    converted_factor,
    fill_value_for,
    invalid_combination,
    is_scalar,
    named_node,
    on_one_device,
    promote,
    promote_floating,
    python_scalar,
    raise_broadcast_error,
    renamed,
    require_tensors,
    sum_to,
    tensor_input,
    wrap_integer,
)
from .out_argument import FOUND_DTYPE_OUT, OUT_ARG, write_out
from .overloads import SIGNATURES
from .reduced_precision import CPU_DEVICE_TYPES, opmath
from .result_layout import binary_layout, in_operands_layout, laid_out

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "neg", "negative", "abs", "sign", "exp", "expm1", "log", "log1p",
    "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "trunc",
    "frac", "clamp", "clip", "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_not", "logical_xor", "isnan", "isinf", "isfinite",
    "lerp", "addcmul", "addcdiv",
]  # fmt: skip

_F = TypeVar("_F", bound=Callable[..., Any])


# -- docstrings of the generated ops (unary math, comparisons, logic, bitwise; also mathematical.py's) --
# name -> (summary, formula for out_i, operand values of the example, the example's output)
_GENERATED_DOCS = {
    "exp": (
        "The exponential of the elements of ``input``.",
        "e^{input_i}",
        "[0.0, 1.0, 2.0]",
        "tensor([1.0000, 2.7183, 7.3891])",
    ),
    "expm1": (
        "The exponential of the elements of ``input``, minus 1 (exact for small ``input``).",
        "e^{input_i} - 1",
        "[0.0, 0.5, 1.0]",
        "tensor([0.0000, 0.6487, 1.7183])",
    ),
    "exp2": (
        "The base-2 exponential of the elements of ``input``.",
        "2^{input_i}",
        "[0.0, 1.0, 3.0]",
        "tensor([1., 2., 8.])",
    ),
    "log": (
        "The natural logarithm of the elements of ``input``.",
        "log_e(input_i)",
        "[1.0, 2.0, 0.0]",
        "tensor([0.0000, 0.6931,   -inf])",
    ),
    "log1p": (
        "The natural logarithm of one plus the elements of ``input`` (exact for small ``input``).",
        "log_e(1 + input_i)",
        "[0.0, 0.5, 1.0]",
        "tensor([0.0000, 0.4055, 0.6931])",
    ),
    "log2": (
        "The base-2 logarithm of the elements of ``input``.",
        "log_2(input_i)",
        "[1.0, 2.0, 8.0]",
        "tensor([0., 1., 3.])",
    ),
    "log10": (
        "The base-10 logarithm of the elements of ``input``.",
        "log_{10}(input_i)",
        "[1.0, 10.0, 1000.0]",
        "tensor([0., 1., 3.])",
    ),
    "sqrt": (
        "The square root of the elements of ``input`` (NaN for negative elements).",
        "sqrt(input_i)",
        "[4.0, 2.0, -1.0]",
        "tensor([2.0000, 1.4142,    nan])",
    ),
    "rsqrt": (
        "The reciprocal of the square root of the elements of ``input``.",
        "1 / sqrt(input_i)",
        "[4.0, 0.25, 0.0]",
        "tensor([0.5000, 2.0000,    inf])",
    ),
    "sin": (
        "The sine of the elements of ``input`` (in radians).",
        "sin(input_i)",
        "[0.0, 0.5236, 1.5708]",
        "tensor([0.0000, 0.5000, 1.0000])",
    ),
    "cos": (
        "The cosine of the elements of ``input`` (in radians).",
        "cos(input_i)",
        "[0.0, 1.0472, 3.1416]",
        "tensor([ 1.0000,  0.5000, -1.0000])",
    ),
    "tan": (
        "The tangent of the elements of ``input`` (in radians).",
        "tan(input_i)",
        "[0.0, 0.7854, -0.7854]",
        "tensor([ 0.0000,  1.0000, -1.0000])",
    ),
    "asin": (
        "The arcsine of the elements of ``input`` (NaN outside ``[-1, 1]``).",
        "sin^{-1}(input_i)",
        "[0.0, 0.5, 1.0, 2.0]",
        "tensor([0.0000, 0.5236, 1.5708,    nan])",
    ),
    "acos": (
        "The arccosine of the elements of ``input`` (NaN outside ``[-1, 1]``).",
        "cos^{-1}(input_i)",
        "[1.0, 0.5, 0.0, -1.0]",
        "tensor([0.0000, 1.0472, 1.5708, 3.1416])",
    ),
    "atan": (
        "The arctangent of the elements of ``input``.",
        "tan^{-1}(input_i)",
        "[0.0, 1.0, -1.0]",
        "tensor([ 0.0000,  0.7854, -0.7854])",
    ),
    "sinh": (
        "The hyperbolic sine of the elements of ``input``.",
        "sinh(input_i)",
        "[0.0, 1.0, -1.0]",
        "tensor([ 0.0000,  1.1752, -1.1752])",
    ),
    "cosh": (
        "The hyperbolic cosine of the elements of ``input``.",
        "cosh(input_i)",
        "[0.0, 1.0, -1.0]",
        "tensor([1.0000, 1.5431, 1.5431])",
    ),
    "tanh": (
        "The hyperbolic tangent of the elements of ``input``.",
        "tanh(input_i)",
        "[0.0, 1.0, -2.0]",
        "tensor([ 0.0000,  0.7616, -0.9640])",
    ),
    "asinh": (
        "The inverse hyperbolic sine of the elements of ``input``.",
        "sinh^{-1}(input_i)",
        "[0.0, 1.0, -1.0]",
        "tensor([ 0.0000,  0.8814, -0.8814])",
    ),
    "acosh": (
        "The inverse hyperbolic cosine of the elements of ``input`` (NaN below 1).",
        "cosh^{-1}(input_i)",
        "[1.0, 2.0, 0.5]",
        "tensor([0.0000, 1.3170,    nan])",
    ),
    "atanh": (
        "The inverse hyperbolic tangent of the elements of ``input`` (infinite at +-1, NaN outside).",
        "tanh^{-1}(input_i)",
        "[0.0, 0.5, 1.0]",
        "tensor([0.0000, 0.5493,    inf])",
    ),
    "sigmoid": (
        "The logistic sigmoid of the elements of ``input``.",
        "1 / (1 + e^{-input_i})",
        "[0.0, 2.0, -2.0]",
        "tensor([0.5000, 0.8808, 0.1192])",
    ),
    "erf": (
        "The Gauss error function of the elements of ``input``.",
        "2 / sqrt(pi) * int_0^{input_i} e^{-t^2} dt",
        "[0.0, 0.5, -1.0]",
        "tensor([ 0.0000,  0.5205, -0.8427])",
    ),
    "erfc": (
        "The complementary error function of the elements of ``input``.",
        "1 - erf(input_i)",
        "[0.0, 0.5, -1.0]",
        "tensor([1.0000, 0.4795, 1.8427])",
    ),
    "reciprocal": (
        "The reciprocal of the elements of ``input``; integer inputs give floating-point results.",
        "1 / input_i",
        "[2.0, -0.5, 0.0]",
        "tensor([ 0.5000, -2.0000,     inf])",
    ),
    "floor": (
        "The largest integer not greater than each element of ``input`` (integer inputs are returned as they are).",
        "floor(input_i)",
        "[1.5, -1.5, 2.0]",
        "tensor([ 1., -2.,  2.])",
    ),
    "ceil": (
        "The smallest integer not less than each element of ``input`` (integer inputs are returned as they are).",
        "ceil(input_i)",
        "[1.5, -1.5, 2.0]",
        "tensor([ 2., -1.,  2.])",
    ),
    "trunc": (
        "The elements of ``input`` rounded toward zero to integers.",
        "trunc(input_i)",
        "[1.7, -1.7, 2.0]",
        "tensor([ 1., -1.,  2.])",
    ),
    "sign": (
        "The sign of each element of ``input``: -1, 0 or 1.",
        "sgn(input_i)",
        "[-2.5, 0.0, 3.0]",
        "tensor([-1.,  0.,  1.])",
    ),
    "eq": (
        "Element-wise ``input == other``, with broadcasting; returns a bool tensor.",
        "input_i == other_i",
        ("[1, 2, 3]", "[1, 0, 3]"),
        "tensor([ True, False,  True])",
    ),
    "ne": (
        "Element-wise ``input != other``, with broadcasting; returns a bool tensor.",
        "input_i != other_i",
        ("[1, 2, 3]", "[1, 0, 3]"),
        "tensor([False,  True, False])",
    ),
    "lt": (
        "Element-wise ``input < other``, with broadcasting; returns a bool tensor.",
        "input_i < other_i",
        ("[1, 2, 3]", "[2, 2, 2]"),
        "tensor([ True, False, False])",
    ),
    "le": (
        "Element-wise ``input <= other``, with broadcasting; returns a bool tensor.",
        "input_i <= other_i",
        ("[1, 2, 3]", "[2, 2, 2]"),
        "tensor([ True,  True, False])",
    ),
    "gt": (
        "Element-wise ``input > other``, with broadcasting; returns a bool tensor.",
        "input_i > other_i",
        ("[1, 2, 3]", "[2, 2, 2]"),
        "tensor([False, False,  True])",
    ),
    "ge": (
        "Element-wise ``input >= other``, with broadcasting; returns a bool tensor.",
        "input_i >= other_i",
        ("[1, 2, 3]", "[2, 2, 2]"),
        "tensor([False,  True,  True])",
    ),
    "logical_and": (
        "Element-wise logical AND of ``input`` and ``other`` (zero is ``False``); returns a bool tensor.",
        "input_i and other_i",
        ("[True, True, False]", "[1, 0, 0]"),
        "tensor([ True, False, False])",
    ),
    "logical_or": (
        "Element-wise logical OR of ``input`` and ``other`` (zero is ``False``); returns a bool tensor.",
        "input_i or other_i",
        ("[True, True, False]", "[1, 0, 0]"),
        "tensor([ True,  True, False])",
    ),
    "logical_xor": (
        "Element-wise logical XOR of ``input`` and ``other`` (zero is ``False``); returns a bool tensor.",
        "input_i xor other_i",
        ("[True, True, False]", "[1, 0, 0]"),
        "tensor([False,  True, False])",
    ),
    "bitwise_and": (
        "Element-wise bitwise AND of integer or bool tensors (logical AND for bool).",
        "input_i & other_i",
        ("[12, 10]", "[10, 6]"),
        "tensor([8, 2])",
    ),
    "bitwise_or": (
        "Element-wise bitwise OR of integer or bool tensors (logical OR for bool).",
        "input_i | other_i",
        ("[12, 10]", "[10, 6]"),
        "tensor([14, 14])",
    ),
    "bitwise_xor": (
        "Element-wise bitwise XOR of integer or bool tensors (logical XOR for bool).",
        "input_i ^ other_i",
        ("[12, 10]", "[10, 6]"),
        "tensor([ 6, 12])",
    ),
}


def _generated_doc(name, takes_out=False):
    """The PyTorch-form docstring of the generated op ``name`` (None for private helpers without an entry);
    ``takes_out``: the op has an ``out=`` argument."""
    if name not in _GENERATED_DOCS:
        return None
    summary, formula, operands, output = _GENERATED_DOCS[name]
    operands = (operands,) if isinstance(operands, str) else operands
    args = (
        "input (Tensor): the input tensor.",
        "other (Tensor or Number): the second operand, broadcast against ``input``.",
    )
    args = args[: len(operands)] + ((OUT_ARG,) if takes_out else ())
    call = ", ".join(f"ember.tensor({values})" for values in operands)
    return (
        f"{summary}\n\n.. math::\n    out_i = {formula}\n\nArgs:\n    "
        + "\n    ".join(args)
        + f"\n\nExample::\n\n    >>> ember.{name}({call})\n    {output}\n"
    )


# -- unary ---------------------------------------------------------------------------------
def _saved_operand(ctx):
    """The second operand a binary op's node saved: a tensor, or the Python number it took."""
    other = ctx.saved_tensors[1]
    return ctx.b_scalar if ctx.b_shape is None else other


class _Unary(Function):
    """An element-wise function ``y = f(x)`` whose derivative is ``derivative(x, y)``."""

    compute = None  # (backend, x) -> native array
    derivative = None  # (x, y) -> Tensor; None means the function is piecewise constant
    floating = True  # integer inputs are computed in the default float type
    saves = "x"  # which of x and y the derivative reads (only those are saved, as in PyTorch)
    fused_backward = None  # a kernel-table method (grad, y) -> grad * derivative, without create_graph
    divides = False  # derivative(x, y) is the divisor of grad (PyTorch's formula divides), not a factor
    fused_in_float32 = dtypes.narrow_float  # the 16-bit types fused_backward computes in float32, rounding once
    arithmetic = False  # the derivative uses only operators, so it also runs on native arrays
    #: (grad, x, y) -> the real gradient as tensor operations, rounded as ``fused_backward`` rounds (None:
    #: ``grad * derivative(x, y)``)
    gradient: Any = None

    @classmethod
    def forward(cls, ctx, x):
        data, backend = x._data, x._backend
        if data.dtype.itemsize == 2:  # perhaps float16/bfloat16: computed as opmath says
            native = opmath(x, lambda native: cls.compute(backend, native), data)
        else:  # the per-op path: no closure
            native = cls.compute(backend, data)
        if not backend.is_contiguous(data) and 1 in data.shape:  # PyTorch keeps a dense x's strides exactly
            native = in_operands_layout(backend, native, (data,))
        y = x._make(native)
        if cls.derivative is not None:
            saves = cls.saves
            ctx.save_for_backward(x if "x" in saves else None, y if "y" in saves else None)
        return y

    @classmethod
    def backward(cls, ctx, grad):
        if cls.derivative is None:  # piecewise constant: exactly zero, whatever grad holds (as PyTorch)
            return grad.new_zeros(grad.shape)
        x, y = ctx.saved_tensors
        if cls.divides:  # PyTorch's grad / d: one rounding, where grad * (1 / d) has two
            d = cls.derivative(x, y)
            return grad / (d.conj() if grad.dtype.is_complex else d)
        if grad.dtype.is_complex:  # holomorphic: the conjugate Wirtinger gradient, grad * conj(f'(x))
            return grad * cls.derivative(x, y).conj()
        if cls.gradient is not None:
            return cls.gradient(grad, x, y)
        return grad * cls.derivative(x, y)

    @classmethod
    def _native_backward(cls, ctx, grad):
        # the derivative as one kernel (``fused_backward``) or one native expression (``arithmetic``), laid
        # out as PyTorch's grad * f'(x); the other cases (a piecewise constant or dividing formula, complex
        # types) go to backward
        if cls.derivative is None or cls.divides or not (cls.fused_backward or cls.arithmetic):
            return NotImplemented
        if grad.dtype.is_complex:
            return NotImplemented
        x, y = ctx.saved_tensors
        backend, data = grad._backend, grad._data
        if cls.fused_backward is not None:
            kernel = getattr(backend.kernels, cls.fused_backward)
            native = (
                opmath(grad, kernel, data, y._data) if grad.dtype in cls.fused_in_float32 else kernel(data, y._data)
            )
            factor = y._data
        else:
            factor = cls.derivative(None if x is None else x._data, None if y is None else y._data)
            native = data * factor
        if not backend.is_contiguous(data) or (1 in data.shape and not backend.is_contiguous(factor)):
            native = in_operands_layout(backend, native, (data, factor))
        return (native,)


class _Pointwise(Function):
    """An element-wise function with PyTorch's own backward formula: ``value(x)`` runs without a graph, and
    ``gradient(x, grad)`` (differentiable tensor ops) multiplies ``grad`` once by the derivative or selects
    it, as PyTorch's kernel does, so an inf/NaN ``grad`` lands where PyTorch's lands."""

    value: Any = None
    gradient: Any = None
    #: a float16/bfloat16 gradient computed in float32 and rounded once (PyTorch's backward kernel),
    #: not step by step in the 16-bit type (PyTorch's formula of tensor operations)
    gradient_in_float32 = True

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        if x.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch (opmath)
            return cls.value(x.float()).to(x.dtype)
        return cls.value(x)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        if cls.gradient_in_float32 and x.dtype in dtypes.narrow_float:  # PyTorch's backward kernels' opmath
            return cls.gradient(x.float(), grad.float()).to(x.dtype)
        return cls.gradient(x, grad)


def _unary(
    name: str,
    compute: Callable[..., Any],
    derivative: Callable[..., Any] | None,
    floating: bool = True,
    saves: str = "x",
    arithmetic: bool = False,
    fused_backward: str | None = None,
    complex_error: str | None = None,
    divides: bool = False,
    fused_in_float32: tuple[dtypes.dtype, ...] = dtypes.narrow_float,
    kernel_dtypes: frozenset[dtypes.dtype] | None = None,
    node: str | None = None,
    gradient: Callable[..., Any] | None = None,
) -> Callable[[Tensor], Tensor]:
    """The op ``name`` computing ``compute(backend, x)`` (its node named ``node``, by default after ``name``); ``complex_error``: PyTorch's message for a
    complex input where it has no complex kernel (None: complex inputs are computed as they are);
    ``divides``: the gradient is ``grad / derivative(x, y)``, PyTorch's rounding for its formulas
    that divide; ``fused_in_float32``: the 16-bit types whose ``fused_backward`` reads float32 and
    rounds once (the others compute in their own type); ``kernel_dtypes``: the types PyTorch's
    ``{name}_cpu`` kernel is compiled for, after integers are promoted (None: every type), another one
    raising its ``NotImplementedError``; ``gradient``: the real gradient ``(grad, x, y) ->`` as tensor
    operations in ``fused_backward``'s order of roundings (None: ``grad * derivative(x, y)``)."""
    saved = {"_saved_self": saved_reader(0)} if "x" in saves else {}
    if "y" in saves:
        saved["_saved_result"] = saved_reader(1)
    attributes = {
        "saves": saves,
        "arithmetic": arithmetic,
        "fused_backward": fused_backward,
        "divides": divides,
        "fused_in_float32": fused_in_float32,
        "gradient": None if gradient is None else staticmethod(gradient),
        "_saved_attributes": saved if derivative is not None else {},
    }
    if node is not None:  # PyTorch's torch.special ops: "SpecialI0EBackward0"
        attributes["_backward_name"] = node
    # named as PyTorch's node: "log1p" -> Log1PBackward0, "expm1" -> Expm1Backward0
    cls: Any = type(name.title().replace("_", ""), (_Unary,), attributes)
    cls.compute = staticmethod(compute)
    cls.derivative = staticmethod(derivative) if derivative is not None else None
    autocast = has_policy(name)  # exp, log, ... run in float32 under autocast on cuda
    # PyTorch's vectorised rounding kernels carry a "_vml" in their names
    bool_kernel = f"{name}_vml_cpu" if name in ("floor", "ceil", "trunc", "round") else f"{name}_cpu"

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(
                name, op(input), out, exact_dtype=not floating, inputs=(input,)
            )  # floor, sign, ...: out's dtype
        if type(input) is not Tensor and not is_strided(input):
            if isinstance(input, UnstridedTensor):  # a sparse or nested input: its layout's op
                return by_layout(name, input)
            require_tensors(called_op(1) or name, ("input",), input)
        if autocast and _amp.active:
            (input,) = cast_inputs(name, input)
        if input.dtype is dtypes.bool and not floating:  # PyTorch has no bool kernel but sign's
            if name == "sign":
                return input.clone()
            not_implemented(bool_kernel, dtypes.bool)
        if floating and not input.dtype.is_floating_point:
            if not input.dtype.is_complex:
                input = input.to(dtypes.get_default_dtype())
            elif complex_error is not None:
                raise NotImplementedError(complex_error.format(_TORCH_NAMES[input.dtype.name]))
        elif complex_error is not None and input.dtype.is_complex:
            raise NotImplementedError(complex_error.format(_TORCH_NAMES[input.dtype.name]))
        if kernel_dtypes is not None and input.dtype not in kernel_dtypes:
            not_implemented(f"{name}_cpu", input.dtype)
        if input.dtype in dtypes.limited_dtypes and (floating or input.dtype in dtypes.float8_dtypes or name == "sign"):
            check_limited_support(name, input.dtype)  # an unsigned integer's floor, round, ... is itself
        return cls.apply(input)

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = _generated_doc(name, takes_out=True)
    return op


def _sigmoid(b, x):
    xp = b.xp
    if x.dtype.kind == "c":  # no overflow-safe split by sign: complex numbers have none
        return 1 / (1 + xp.exp(-x))
    e = xp.exp(-xp.abs(x))
    denominator = 1 + e
    return xp.where(x >= 0, 1 / denominator, e / denominator)


_LN2 = math.log(2.0)
_NO_COMPLEX_ROUNDING = "%s is not supported for complex inputs"
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

exp = _unary("exp", lambda b, x: b.xp.exp(x), lambda x, y: y, saves="y", arithmetic=True)
expm1 = _unary("expm1", lambda b, x: b.xp.expm1(x), lambda x, y: y + 1, saves="y", arithmetic=True)
log = _unary("log", lambda b, x: b.xp.log(x), lambda x, y: x, divides=True)
log1p = _unary(
    "log1p",
    lambda b, x: complex_math.log1p(b, x) if x.dtype.kind == "c" else b.xp.log1p(x),
    lambda x, y: x + 1,
    divides=True,
)


def _log_base(ln_base):
    """``log(x) / ln_base``; a complex logarithm's parts are divided one by one (a complex division
    would make ``log(0) = -inf + 0j`` into ``-inf + nan j``). The parts are read back through
    their own view: the logarithm of a 0-d array is a scalar that the parts' view does not alias."""

    def compute(b, x):
        y = b.xp.log(x)
        if y.dtype.kind != "c":
            return y / ln_base
        parts = b.view_as_real(y, y.real.dtype)
        parts /= ln_base
        return b.view_as_complex(parts, y.dtype)

    return compute


log2 = _unary("log2", _log_base(_LN2), lambda x, y: x * _LN2, divides=True)
log10 = _unary("log10", _log_base(_LN10), lambda x, y: x * _LN10, divides=True)
sqrt = _unary("sqrt", lambda b, x: b.xp.sqrt(x), lambda x, y: y * 2, saves="y", divides=True)
rsqrt = _unary("rsqrt", lambda b, x: b.xp.divide(1, b.xp.sqrt(x)), lambda x, y: y.pow(3) * -0.5, saves="y")
sin = _unary("sin", lambda b, x: b.xp.sin(x), lambda x, y: x.cos())
cos = _unary("cos", lambda b, x: b.xp.cos(x), lambda x, y: -x.sin())
tan = _unary("tan", lambda b, x: b.xp.tan(x), lambda x, y: y * y + 1, saves="y", arithmetic=True)
asin = _unary("asin", lambda b, x: b.xp.asin(x), lambda x, y: (1 - x * x).rsqrt())
acos = _unary("acos", lambda b, x: b.xp.acos(x), lambda x, y: -(1 - x * x).rsqrt())
atan = _unary("atan", lambda b, x: b.xp.atan(x), lambda x, y: x * x + 1, divides=True)
sinh = _unary("sinh", lambda b, x: b.xp.sinh(x), lambda x, y: x.cosh())
cosh = _unary("cosh", lambda b, x: b.xp.cosh(x), lambda x, y: x.sinh())
tanh = _unary("tanh", lambda b, x: b.xp.tanh(x), lambda x, y: 1 - y * y, saves="y", fused_backward="tanh_backward")
sigmoid = _unary(
    "sigmoid",
    _sigmoid,
    lambda x, y: y * (1 - y),
    saves="y",
    fused_backward="sigmoid_backward",
    fused_in_float32=(dtypes.bfloat16,),  # PyTorch's float16 sigmoid_backward rounds each step
    gradient=lambda grad, x, y: grad * (1 - y) * y,  # sigmoid_backward's order
)
erf = _unary(
    "erf",
    lambda b, x: b.erf(x),
    lambda x, y: (-(x * x)).exp() * _TWO_OVER_SQRT_PI,
    complex_error="\"erf_vml_cpu\" not implemented for '{}'",
)
reciprocal = _unary("reciprocal", lambda b, x: b.xp.divide(1, x), lambda x, y: -(y * y), saves="y", arithmetic=True)
floor = _unary("floor", lambda b, x: b.xp.floor(x), None, floating=False, complex_error=_NO_COMPLEX_ROUNDING % "floor")
ceil = _unary("ceil", lambda b, x: b.xp.ceil(x), None, floating=False, complex_error=_NO_COMPLEX_ROUNDING % "ceil")
trunc = _unary("trunc", lambda b, x: b.xp.trunc(x), None, floating=False, complex_error=_NO_COMPLEX_ROUNDING % "trunc")


def _sign(b, x):
    """``(x > 0) - (x < 0)``: 0 for NaN and for either zero, as PyTorch (``xp.sign`` gives NaN for NaN)."""
    xp = b.xp
    return xp.astype(x > 0, x.dtype) - xp.astype(x < 0, x.dtype)


sign = _unary(
    "sign",
    _sign,
    None,
    floating=False,
    complex_error="Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.",
)
_frac = _unary("frac", lambda b, x: x - b.xp.trunc(x), lambda x, y: x.new_ones(()))  # the identity's slope
_round_half_even = _unary(
    "round",
    lambda b, x: b.xp.round(x),
    None,
    floating=False,
    complex_error="\"round_vml_cpu\" not implemented for '{}'",
)


class _Neg(Function):
    @staticmethod
    def native_result(backend, data):
        """``-data`` laid out as PyTorch lays it out (a dense ``data``'s strides exactly)."""
        if not backend.is_contiguous(data) and 1 in data.shape:
            return in_operands_layout(backend, -data, (data,))
        return -data

    @staticmethod
    def forward(ctx, x):
        return x._make(_Neg.native_result(x._backend, x._data))

    @staticmethod
    def backward(ctx, grad):
        return -grad


class _Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp, data = x._backend.xp, x._data
        if x.dtype in FLOAT8:  # PyTorch's float8 abs is x < 0 ? -x : x, which keeps -0.0 and the NaNs' signs
            return x._make(xp.where(xp.less(data, 0), xp.negative(data), data))
        return x._make(xp.abs(data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.sgn() if x.dtype.is_complex else x.sign())


@tensor_input
def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The negative of every element of ``input``.

    .. math::
        out_i = -input_i

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.neg(ember.tensor([1.5, -2.0, 0.0]))
        tensor([-1.5000,  2.0000, -0.0000])
    """
    if input.dtype is dtypes.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if input.dtype in dtypes.limited_dtypes:
        check_limited_support("neg", input.dtype)
    if out is not None:
        return write_out("neg", _Neg.apply(input), out, exact_dtype=True, inputs=(input,))
    return _Neg.apply(input)


@tensor_input
def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """The absolute value of every element of ``input``.

    .. math::
        out_i = |input_i|

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.abs(ember.tensor([-1, -2, 3]))
        tensor([1, 2, 3])
    """
    if input.dtype is dtypes.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    if input.dtype in dtypes.unsigned_dtypes or input.dtype is dtypes.float8_e8m0fnu:  # float8's abs is a kernel
        check_limited_support("abs", input.dtype)
    if out is not None:
        # a real input's out has its dtype; a complex input's real magnitudes go to any floating or complex out
        return write_out(
            "abs", _Abs.apply(input), out, exact_dtype=False if input.dtype.is_complex else FOUND_DTYPE_OUT
        )
    return _Abs.apply(input)


@tensor_input
def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The fractional part of every element of a floating-point ``input``.

    .. math::
        out_i = input_i - trunc(input_i)

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.frac(ember.tensor([1.5, -2.25, 3.0]))
        tensor([ 0.5000, -0.2500,  0.0000])
    """
    if out is not None:
        return write_out("frac", frac(input), out, exact_dtype=True)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    return _frac(input)


@tensor_input
def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The square of every element of ``input`` (a bool input squares to int64, as in PyTorch).

    .. math::
        out_i = input_i ^ 2

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.square(ember.tensor([-2.0, 0.5, 3.0]))
        tensor([4.0000, 0.2500, 9.0000])
    """
    refuse_limited("pow", input)
    if out is not None:
        return write_out("square", square(input), out)
    if input.dtype is dtypes.bool:
        input = input.to(dtypes.int64)
    return named_node(mul(input, input), "PowBackward0")  # PyTorch's square is pow(input, 2)


def round(input: Tensor, decimals: int | None = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Rounds every element of ``input`` to the nearest integer, ties to even, or to ``decimals`` decimal places.

    Args:
        input (Tensor): the input tensor.
        decimals (int, optional): the number of decimal places to round to; a negative number rounds to the left of
            the decimal point. Given (even as 0), ``input`` must be floating point, as in PyTorch. Default: ``None``
            (round to integers, any dtype).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.round(ember.tensor([0.5, 1.5, 2.5, -0.7]))
        tensor([ 0.,  2.,  2., -1.])
        >>> ember.round(ember.tensor([1.2345, 12.5]), decimals=2)
        tensor([ 1.2300, 12.5000])
    """
    if out is not None:
        return write_out("round", round(input, decimals), out, exact_dtype=True)
    if decimals is None:
        return _round_half_even(input)
    if isinstance(input, Tensor) and input.dtype not in FLOATING_AND_HALF:
        not_implemented("round_vml_cpu" if decimals == 0 else "round_cpu", input.dtype)
    if decimals == 0:
        return named_node(_round_half_even(input), "RoundBackward1")
    if input.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch
        return named_node(round(input.float(), decimals).to(input.dtype), "RoundBackward1")
    # PyTorch's: times 10**decimals, rounded, divided back; for negative decimals divided by 10**-decimals first
    # (times 0.001 is not divided by 1000: 2411 rounds to 1999.9999 in float32), an infinite power past float64's
    power = -decimals if decimals < 0 else decimals
    scale = 10.0**power if power <= 308 else math.inf
    if decimals < 0:
        return named_node(_round_half_even(input / scale) * scale, "RoundBackward1")
    return named_node(_round_half_even(input * scale) / scale, "RoundBackward1")


# -- binary --------------------------------------------------------------------------------
class _Binary(Function):
    """``z = f(a, b)`` with broadcasting; ``b`` may be a Python scalar."""

    name: Any = None
    keeps: Any = None  # needs_input_grad -> (keep a, keep b); None keeps both
    keeps_result: Any = None  # with saves == 3: needs_input_grad -> keep z; None keeps it
    # whether a float16/bfloat16 op reads a Python-number operand unrounded (PyTorch's mul and div
    # kernels do; add, sub, pow, remainder, ... first round it to the tensor's type)
    exact_number = False
    # whether PyTorch runs the op with a Python-number ``b`` as a unary op (pow(Tensor, Scalar)): its
    # result's layout then follows ``a`` alone, not TensorIterator's order over ``a`` and a wrapped number
    unary_with_number = False

    @classmethod
    def values(cls, backend, a, b):
        """The result's native array from the native operands (``b`` may be a Python scalar)."""
        return cls.compute(backend.xp, a, b)

    @classmethod
    def narrow_values(cls, a, data, other):
        """:meth:`values` for an operand ``a`` of a 16- or 8-bit floating type: computed in float32 and
        rounded once (:func:`opmath`), as PyTorch's kernels compute."""
        return opmath(a, lambda x, y: cls.values(a._backend, x, y), data, other, round_numbers=not cls.exact_number)

    @classmethod
    def result_layout(cls, backend, native, data, other, scalar):
        """The result ``native`` of ``data`` and ``other`` (a Python number where ``scalar``) in PyTorch's
        layout (TensorIterator's) where NumPy's may differ: the first operand's may win, and a size-1
        dimension's stride counts unless every operand is row-major (of one shape, or exactly)."""
        shape = data.shape
        if scalar:
            if cls.unary_with_number:
                if not backend.is_contiguous(data) and 1 in shape:
                    return in_operands_layout(backend, native, (data,))
            elif (1 in shape or not native.size) and not backend.is_row_major(data):  # (NumPy zeroes empty strides)
                return laid_out(backend, native, (data, other))
        elif (
            not backend.is_contiguous(data)
            or (1 in native.shape and not (shape == other.shape and backend.is_contiguous(other)))
            or not native.size  # (NumPy zeroes the strides of an array without elements)
        ):
            return in_operands_layout(backend, native, (data, other))
        return native

    @classmethod
    def native_result(cls, backend, data, other, scalar=False):
        """What the op gives for the native array ``data`` and ``other`` (a native array of ``data``'s
        type, or a Python number where ``scalar``), for a real type of at least 32 bits, laid out as its
        forward lays it out: the backward formulas on native arrays
        (:attr:`~ember.autograd.Function._native_backward`) compute with it."""
        return cls.result_layout(backend, cls.values(backend, data, other), data, other, scalar)

    @staticmethod
    def native_shapes(ctx, grad):
        """Whether a backward formula on native arrays takes ``grad`` of ``ctx``'s op: a real type of at least
        32 bits (the 16- and 8-bit types compute in float32 and round once, complex types conjugate), and
        operands of the result's shape (no broadcast gradient to sum)."""
        data = grad._data
        dtype = data.dtype
        shape = data.shape
        return (
            dtype.kind == "f"
            and dtype.itemsize >= 4
            and shape == ctx.a_shape
            and (ctx.b_shape is None or ctx.b_shape == shape)
        )

    @classmethod
    def forward(cls, ctx, a, b):
        scalar = not isinstance(b, Tensor)
        data, other, backend = a._data, b if scalar else b._data, a._backend
        dtype, shape = data.dtype, data.shape
        try:
            if dtype.itemsize <= 2 and dtype.kind not in "biu":  # float16/bfloat16, float8
                native = cls.narrow_values(a, data, other)
            else:  # the per-op path: no closure
                native = cls.values(backend, data, other)
        except Exception as exc:  # the backend's own error for shapes that do not broadcast
            raise_broadcast_error(exc, a, b)
        z = a._make(cls.result_layout(backend, native, data, other, scalar))
        ctx.a_shape = shape
        ctx.b_shape = None if scalar else other.shape
        if cls.saves:
            # keep only what the needed gradients read, so that unrelated in-place changes
            # of an operand do not invalidate the graph (PyTorch saves the same way)
            needs = ctx.needs_input_grad
            keep_a, keep_b = cls.keeps(needs) if cls.keeps is not None else (True, True)
            keep_z = cls.saves == 3 and (cls.keeps_result is None or cls.keeps_result(needs))
            ctx.save_for_backward(a if keep_a else None, None if scalar or not keep_b else b, z if keep_z else None)
            ctx.b_scalar = b if scalar else None
        return z

    @classmethod
    def backward(cls, ctx, grad):
        ga, gb = cls.gradients(ctx, grad)
        if ga is not None and ctx.needs_input_grad[0]:
            ga = sum_to(ga, ctx.a_shape)
        else:
            ga = None
        if gb is not None and ctx.b_shape is not None and ctx.needs_input_grad[1]:
            gb = sum_to(gb, ctx.b_shape)
        else:
            gb = None
        return ga, gb


def _conj(value):
    """The complex conjugate of a saved operand: a tensor, a Python number or None (not saved)."""
    if value is None:
        return None
    return value.conj() if isinstance(value, Tensor) else value.conjugate()


#: the edge of a Python-number operand of add, sub, mul and div, which PyTorch takes as a tensor
#: (``(x * 2).grad_fn.next_functions`` ends with ``(None, 0)``)
_WRAPPED_NUMBER = (None, 0)


class _Add(_Binary):
    _non_tensor_edge = _WRAPPED_NUMBER
    saves = 0
    compute = staticmethod(lambda xp, a, b: xp.add(a, b))
    gradients = staticmethod(lambda ctx, g: (g, g))

    @staticmethod
    def _native_backward(ctx, g):
        if not _Binary.native_shapes(ctx, g):
            return NotImplemented
        needs = ctx.needs_input_grad
        return (g if needs[0] else None), (g if ctx.b_shape is not None and needs[1] else None)


class _Sub(_Binary):
    _non_tensor_edge = _WRAPPED_NUMBER
    saves = 0
    compute = staticmethod(lambda xp, a, b: xp.subtract(a, b))
    gradients = staticmethod(lambda ctx, g: (g, -g))

    @staticmethod
    def _native_backward(ctx, g):
        if not _Binary.native_shapes(ctx, g):
            return NotImplemented
        needs = ctx.needs_input_grad
        gb = _Neg.native_result(g._backend, g._data) if ctx.b_shape is not None and needs[1] else None
        return (g if needs[0] else None), gb


class _AddScaled(Function):
    """``a + alpha * b`` as one fused multiply-add, rounded once (PyTorch's cpu ``add`` with ``alpha``;
    two roundings, of the product and of the sum, differ from it in a unit of 15-20% of the elements)."""

    _backward_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        backend, data, other = a._backend, a._data, b._data
        try:
            native = backend.kernels.fused_multiply_add(other, alpha, data)
        except ValueError as exc:  # shapes that do not broadcast
            raise_broadcast_error(exc, a, b)
        if not (backend.is_contiguous(data) and backend.is_contiguous(other)) or (
            1 in native.shape and data.shape != other.shape
        ):  # the first operand's layout may win; a size-1 dimension's stride may count
            native = in_operands_layout(backend, native, (data, other))
        ctx.alpha, ctx.a_shape, ctx.b_shape = alpha, data.shape, other.shape
        return a._make(native)

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        ga = sum_to(grad, ctx.a_shape) if needs[0] else None
        return ga, sum_to(grad * ctx.alpha, ctx.b_shape) if needs[1] else None, None


class _SubScaled(_AddScaled):
    """``a - alpha * b``: :class:`_AddScaled` of ``-alpha``."""

    _backward_name = "SubBackward0"


def _fused_operands(
    input: Tensor | Number, other: Tensor | Number, result: dtypes.dtype
) -> tuple[Tensor, Tensor] | None:
    """The operands of ``add``/``sub`` with ``alpha`` as one fused multiply-add in ``result`` (float32 or
    float64): two real tensors on one device, each cast to ``result`` first, as PyTorch's TensorIterator
    does before its one ``fmadd`` (``float64 + alpha * bfloat16`` rounds once in float64); else None."""
    if not (is_strided(input) and is_strided(other)) or (
        input._device is not other._device and input._device != other._device
    ):
        return None
    if not (result is dtypes.float32 or result is dtypes.float64):
        return None
    if (input.dtype is not result or other.dtype is not result) and (input.is_complex() or other.is_complex()):
        return None
    return (input if input.dtype is result else input.to(result)), (
        other if other.dtype is result else other.to(result)
    )


def _fuses(input: Tensor | Number, other: Tensor | Number, result: dtypes.dtype) -> bool:
    """Whether ``add``/``sub`` with ``alpha`` runs as one fused multiply-add: two float32 or float64
    tensors of the result's type on one device (the other cases keep their roundings)."""
    return (
        isinstance(input, Tensor)
        and isinstance(other, Tensor)
        and (result is dtypes.float32 or result is dtypes.float64)
        and input.dtype is result
        and other.dtype is result
        and input._device == other._device
    )


class _RSub(_Binary):
    """``b - a`` for a Python scalar ``b``: the scalar stays a scalar down to the backend."""

    _backward_name = "RsubBackward1"

    saves = 0
    compute = staticmethod(lambda xp, a, b: b - a)
    gradients = staticmethod(lambda ctx, g: (-g, None))


class _Mul(_Binary):
    _non_tensor_edge = _WRAPPED_NUMBER
    exact_number = True
    saves = 2
    _saved_attributes = {"_saved_self": saved_reader(0), "_saved_other": _saved_operand}

    compute = staticmethod(lambda xp, a, b: xp.multiply(a, b))
    keeps = staticmethod(lambda needs: (needs[1], needs[0]))

    @staticmethod
    def gradients(ctx, g):
        a, b, _ = ctx.saved_tensors
        other = ctx.b_scalar if ctx.b_shape is None else b
        if g.dtype.is_complex:  # conjugate Wirtinger gradients: g * conj(d out / d operand)
            other, a = _conj(other), _conj(a)
        return (g * other if ctx.needs_input_grad[0] else None), (
            g * a if ctx.b_shape is not None and ctx.needs_input_grad[1] else None
        )

    @staticmethod
    def _native_backward(ctx, g):
        if not _Binary.native_shapes(ctx, g):
            return NotImplemented
        a, b, _ = ctx.saved_tensors
        backend, data = g._backend, g._data
        needs, scalar = ctx.needs_input_grad, ctx.b_shape is None
        gradients = []
        for needed, factor in ((needs[0], ctx.b_scalar if scalar else b), (not scalar and needs[1], a)):
            if not needed:
                gradients.append(None)
            elif type(factor) is Tensor and factor._data.dtype == data.dtype:
                gradients.append(_Mul.native_result(backend, data, factor._data))
            elif scalar and type(factor) in (int, float):  # g * b for a Python number b
                gradients.append(_Mul.native_result(backend, data, factor, True))
            else:  # a tensor subclass or another operand: the tensor operations of gradients
                return NotImplemented
        return tuple(gradients)


class _Div(_Binary):
    _non_tensor_edge = _WRAPPED_NUMBER
    exact_number = True
    saves = 2
    _saved_attributes = {"_saved_self": saved_reader(0), "_saved_other": _saved_operand}
    compute = staticmethod(lambda xp, a, b: xp.divide(a, b))
    keeps = staticmethod(lambda needs: (needs[1], True))

    @staticmethod
    def gradients(ctx, g):
        a, b, _ = ctx.saved_tensors
        if ctx.b_shape is None:
            return g / ctx.b_scalar.conjugate(), None
        if g.dtype.is_complex:  # conjugate Wirtinger gradients: g * conj(d out / d operand)
            a, b = _conj(a), b.conj()
        ga = g / b if ctx.needs_input_grad[0] else None
        # PyTorch's div_tensor_other_backward: a / b / b, not a / b^2 (a unit apart in 46% of float32 elements)
        gb = -g * (a / b / b) if ctx.needs_input_grad[1] else None
        return ga, gb


def _pow(xp, a, b):
    """``a ** b`` of real operands; for signed integer exponents PyTorch's rule below 0 (1 for a base of 1,
    ±1 for -1, else 0), where NumPy refuses the whole array (complex operands: :func:`_complex_pow`)."""
    base_kind = getattr(getattr(a, "dtype", None), "kind", "f" if isinstance(a, float) else "i")
    if getattr(getattr(b, "dtype", None), "kind", None) != "i" or base_kind not in "iu":
        return xp.pow(a, b)
    negative = b < 0
    z = xp.pow(a, b * xp.astype(xp.logical_not(negative), b.dtype))
    odd = xp.astype(xp.remainder(b, 2) != 0, z.dtype)
    below = xp.astype(a == 1, z.dtype) + xp.astype(a == -1, z.dtype) * (1 - 2 * odd)
    return xp.where(negative, below, z)


def _complex_pow(backend, a, b):
    """``exp(b * log(a))``, as C's ``cpow`` that PyTorch's complex pow calls, with C's product
    (:func:`complex_math.multiply`): ``0 ** b`` is 0 where ``Re b > 0``, ``inf+nanj`` where ``Re b < 0``
    and NaN for ``b == 0`` (NumPy's power gives 1, as it squares its way to integer powers); ``a`` may
    be a Python number (PyTorch's ``pow(Scalar, Tensor)``), ``b`` too (``pow(Tensor, Scalar)``)."""
    xp = backend.xp
    dtype = b.dtype if hasattr(b, "dtype") else a.dtype
    log_a = xp.log(xp.asarray(a, dtype=dtype))
    return xp.exp(complex_math.multiply(backend, xp.asarray(b, dtype=dtype), log_a))


#: Python-number exponents that PyTorch computes with multiplications, divisions and a square root
#: (its pow kernel's fast paths; ``x ** 3`` is ``x * x * x``, rounded twice) instead of ``pow``
_POW_BY_ARITHMETIC: dict[float, Callable[[Any, Any], Any]] = {
    # through the namespace's functions, which keep NumPy's floating-point warnings quiet (0 ** -1 is inf)
    2: lambda xp, a: xp.multiply(a, a),
    3: lambda xp, a: xp.multiply(xp.multiply(a, a), a),
    -0.5: lambda xp, a: xp.divide(1, xp.sqrt(a)),
    -1: lambda xp, a: xp.divide(1, a),
    -2: lambda xp, a: xp.divide(1, xp.multiply(a, a)),
}

#: PyTorch's further shortcuts for a complex base (a complex exponent with no imaginary part
#: counts as real): ``x ** 0`` is 1 even for NaN, ``x ** 1`` is ``x``, ``x ** 0.5`` is ``sqrt(x)``
_COMPLEX_POW_BY_ARITHMETIC: dict[float, Callable[[Any, Any], Any]] = {
    **_POW_BY_ARITHMETIC,
    0: lambda xp, a: xp.ones(a.shape, dtype=a.dtype),
    1: lambda xp, a: xp.asarray(a, copy=True),
    0.5: lambda xp, a: xp.sqrt(a),
}


class _Pow(_Binary):
    saves = 3
    unary_with_number = True
    keeps_result = staticmethod(lambda needs: needs[1])  # z is read for the exponent's gradient only
    _saved_attributes = {"_saved_self": saved_reader(0), "_saved_exponent": _saved_operand}
    compute = staticmethod(_pow)

    @classmethod
    def values(cls, backend, a, b):
        if a.dtype.kind == "c":  # (b is complex too, or a Python number)
            by_arithmetic = _COMPLEX_POW_BY_ARITHMETIC.get(b) if isinstance(b, (int, float, complex)) else None
            return by_arithmetic(backend.xp, a) if by_arithmetic is not None else _complex_pow(backend, a, b)
        by_arithmetic = _POW_BY_ARITHMETIC.get(b) if isinstance(b, (int, float)) and a.dtype.kind == "f" else None
        return by_arithmetic(backend.xp, a) if by_arithmetic is not None else _pow(backend.xp, a, b)

    @classmethod
    def narrow_values(cls, a, data, other):
        # PyTorch's bfloat16 fast paths multiply and divide in bfloat16, each step rounded
        # (x ** 3 is round(round(x * x) * x)); its float16 ones compute in float32
        if a.dtype is dtypes.bfloat16 and isinstance(other, (int, float)) and other in (3, -2):
            return _POW_BY_ARITHMETIC[other](a._backend.xp, data)
        return super().narrow_values(a, data, other)

    @staticmethod
    def gradients(ctx, g):
        a, b, z = ctx.saved_tensors
        if g.dtype.is_complex:
            return _complex_pow_gradients(ctx, g, a, b, z)
        if b is None:
            e = ctx.b_scalar
            if e == 0:
                return g.new_zeros(a.shape), None
            # PyTorch's pow_backward: g * (e * a^(e-1)), in that order (x ** 3: a unit apart otherwise)
            return g * (e * a.pow(e - 1)), None
        ga = None
        if ctx.needs_input_grad[0]:  # PyTorch's pow_backward_self: 0 where the exponent is 0
            ga = where(b == 0, g.new_zeros(()), g * (b * a.pow(b - 1)))
        gb = None
        if ctx.needs_input_grad[1]:
            # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's rule)
            safe = where((a == 0) & (b >= 0), a * 0 + 1, a)
            gb = g * (z * safe.log())
        return ga, gb


class _PowTensors(_Pow):
    """``input ** exponent`` for a tensor exponent (PyTorch's ``pow.Tensor_Tensor``)."""

    _backward_name = "PowBackward1"
    _saved_attributes = {**_Pow._saved_attributes, "_saved_result": saved_reader(2)}


def _complex_pow_gradients(ctx, g, a, b, z):
    """:class:`_Pow`'s gradients for complex operands: ``g * conj(b a^(b-1))`` and ``g * conj(z log a)``
    (0 where ``a`` is 0, as PyTorch's ``pow_backward_exponent``)."""
    if b is None:
        e = ctx.b_scalar
        if e == 0:
            return g.new_zeros(a.shape), None
        return g * (a.pow(e - 1) * e).conj(), None
    ga = None
    if ctx.needs_input_grad[0]:  # PyTorch's pow_backward_self: 0 where the exponent is 0
        ga = where(b == 0, g.new_zeros(()), g * (b * a.pow(b - 1)).conj())
    gb = None
    if ctx.needs_input_grad[1]:  # PyTorch's pow_backward_exponent: 0 where a is 0 and b real and >= 0
        zero = (a == 0) & _real_nonnegative(b)
        gb = g * where(zero, g.new_zeros(()), (z * where(zero, a.new_ones(()), a).log()).conj())
    return ga, gb


def _real_nonnegative(exponent):
    """Where ``exponent`` is a real number >= 0, the exponents whose ``0 ** exponent`` has no gradient."""
    if exponent.dtype.is_complex:
        return (exponent.real >= 0) & (exponent.imag == 0)
    return exponent >= 0


class _RPow(Function):
    """``base ** x`` for a Python scalar ``base``."""

    _backward_name = "PowBackward2"

    @staticmethod
    def forward(ctx, x, base):
        xp, data = x._backend.xp, x._data
        if isinstance(base, int) and data.dtype.kind in "iu":  # integer powers: PyTorch's rule below 0 (_pow)
            z = x._make(_pow(xp, xp.asarray(wrap_integer(base, x.dtype), dtype=data.dtype), data))
        elif data.dtype.kind == "c":  # PyTorch's pow(Scalar, Tensor): ones for a base of 1, else cpow
            z = x._make(xp.ones(data.shape, dtype=data.dtype) if base == 1 else _complex_pow(x._backend, base, data))
        else:
            z = x._make(xp.pow(base, data))
        z = z.contiguous()  # row-major whatever the exponent's layout, as PyTorch's pow(Scalar, Tensor)
        ctx.save_for_backward(z, x if base == 0 else None)
        ctx.base = base
        return z

    @staticmethod
    def backward(ctx, grad):
        z, exponent = ctx.saved_tensors
        base = ctx.base
        if grad.dtype.is_complex:  # PyTorch's pow_backward_exponent: grad * conj(z * log(base))
            factor = (z * (cmath.log(base) if base != 0 else -math.inf)).conj()
        else:
            factor = z * (math.log(base) if base > 0 else -math.inf if base == 0 else math.nan)
        if base == 0:  # ... with 0 for the factor where the exponent is real and >= 0
            factor = where(_real_nonnegative(exponent), factor.new_zeros(()), factor)
        return grad * factor, None


class _Extremum(_Binary):
    """maximum/minimum; ties share the gradient equally, as in PyTorch."""

    saves = 2

    @classmethod
    def gradients(cls, ctx, g):
        a, b, _ = ctx.saved_tensors
        half = g * 0.5
        zero = g.new_zeros(())  # selected, not multiplied: an inf/NaN grad stays with the winner only
        # a NaN operand wins nothing and loses nothing: both get the gradient (PyTorch's masked_fill rule)
        ga = where(a == b, half, where(cls.wins(b, a), zero, g))
        gb = where(a == b, half, where(cls.wins(a, b), zero, g))
        return ga, gb


class _Maximum(_Extremum):
    compute = staticmethod(lambda xp, a, b: xp.maximum(a, b))
    wins = staticmethod(lambda a, b: a > b)


class _Minimum(_Extremum):
    compute = staticmethod(lambda xp, a, b: xp.minimum(a, b))
    wins = staticmethod(lambda a, b: a < b)


def float32_via_float64(backend, compute, a, b):
    """``compute(xp, a, b)`` of float32 operands carried out in float64 and rounded once, where the
    backend has float64: PyTorch's float32 atan2 and hypot are correctly rounded, NumPy's float32 ones
    a unit off in a third of the elements (other types: ``compute`` itself)."""
    xp = backend.xp
    if a.dtype != backend.native_dtype(dtypes.float32) or not backend.supports_float64:
        return compute(xp, a, b)
    wide = backend.native_dtype(dtypes.float64)
    other = xp.astype(b, wide) if hasattr(b, "dtype") else b
    return xp.astype(compute(xp, xp.astype(a, wide), other), a.dtype)


class _Atan2(_Binary):
    saves = 2
    compute = staticmethod(lambda xp, a, b: xp.atan2(a, b))

    @classmethod
    def values(cls, backend, a, b):
        return float32_via_float64(backend, cls.compute, a, b)

    @staticmethod
    def gradients(ctx, g):
        # PyTorch's atan2_backward: times the reciprocal (not divided: a unit apart in a quarter of
        # float32 elements), which is 0 where a^2 + b^2 is 0 (the origin's gradient is 0, not NaN)
        a, b, _ = ctx.saved_tensors
        denom = a * a + b * b
        recip = denom.reciprocal().masked_fill(denom == 0, 0)
        return g * b * recip, g * -a * recip


class _KernelBinary(_Binary):
    """A binary op whose floating values come from the backend's kernel table (``kernel``)."""

    kernel: Any = None

    @classmethod
    def values(cls, backend, a, b):
        return getattr(backend.kernels, cls.kernel)(a, b)


#: both operands read for the divisor's gradient only (the dividend's is the gradient itself)
_FOR_DIVISOR_GRADIENT = staticmethod(lambda needs: (needs[1], needs[1]))


class _Remainder(_KernelBinary):
    saves = 2
    keeps = _FOR_DIVISOR_GRADIENT
    kernel = "remainder"

    @staticmethod
    def gradients(ctx, g):
        a, b, _ = ctx.saved_tensors
        # PyTorch's -g * div(a, b, rounding_mode="floor"): the floor quotient, which is below floor(a / b)
        # where a / b rounds up to an integer (3 / 0.1 = 30.000000000000004, floor quotient 29)
        gb = None if b is None else -g * a.div(b, rounding_mode="floor")
        return g, gb


class _Fmod(_KernelBinary):
    saves = 2
    keeps = _FOR_DIVISOR_GRADIENT
    kernel = "fmod"

    @staticmethod
    def gradients(ctx, g):
        a, b, _ = ctx.saved_tensors
        gb = None if b is None else -g * (a / b).trunc()
        return g, gb


class _RemainderTensor(_Remainder):
    """``remainder(Tensor, Tensor)``: PyTorch's RemainderBackward1 (a number divisor's is RemainderBackward0)."""

    _backward_name = "RemainderBackward1"


class _FmodTensor(_Fmod):
    _backward_name = "FmodBackward1"


#: the node of a divisor that is a tensor, where PyTorch's overload for it names its node apart
_TENSOR_DIVISOR_NODE = {_Remainder: _RemainderTensor, _Fmod: _FmodTensor}


class _RoundedDiv(_Binary):
    """Division rounded to an integer: piecewise constant, so both gradients are zero (as in PyTorch)."""

    exact_number = True

    saves = 0
    gradients = staticmethod(
        lambda ctx, g: (g.new_zeros(ctx.a_shape), None if ctx.b_shape is None else g.new_zeros(ctx.b_shape))
    )


class _FloorDiv(_RoundedDiv):
    _backward_name = "DivBackward2"  # div(..., rounding_mode=...), PyTorch's div.Tensor_mode/Scalar_mode

    @classmethod
    def values(cls, backend, a, b):
        return backend.kernels.floor_divide(a, b)


class _TruncDiv(_RoundedDiv):
    _backward_name = "DivBackward2"

    compute = staticmethod(lambda xp, a, b: xp.trunc(xp.divide(a, b)))


class _IntTruncDiv(_RoundedDiv):
    _backward_name = "DivBackward2"

    # the floor quotient is one below the truncated one where the division is inexact and the signs differ
    compute = staticmethod(
        lambda xp, a, b: xp.floor_divide(a, b) + xp.astype((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)), a.dtype)
    )


def _exact_binary(fn_cls, op, input, other, kernel=None):
    """An integer-valued division op: exact in integer arithmetic, raising on an integer zero divisor
    (``kernel``: PyTorch's name for it, by default ``<op>_cpu``)."""
    a, b, result = promote(op, input, other, refuse_limited=False)
    if result in dtypes.limited_dtypes:  # PyTorch rounds no quotient of uint16/32/64 nor float8
        # a float8 tensor and a number: div_floor_cpu_reduced_float, ...
        reduced = kernel is not None and result.is_floating_point and (not isinstance(b, Tensor) or b.ndim == 0)
        not_implemented(f"{kernel}_reduced_float" if reduced else kernel or f"{op}_cpu", result)
    if isinstance(b, Tensor):
        fn_cls = _TENSOR_DIVISOR_NODE.get(fn_cls, fn_cls)
    if result.is_floating_point:
        return fn_cls.apply(a, b)
    if result is dtypes.bool or result.is_complex:
        not_implemented(kernel or f"{op}_cpu", result)
    empty = a.numel() == 0 or (isinstance(b, Tensor) and b.numel() == 0)
    # a meta divisor has no values: it is no zero
    zero = (b == 0) if not isinstance(b, Tensor) else not b.is_meta and bool((b == 0).any())
    if zero and not empty:
        raise RuntimeError("ZeroDivisionError")
    return (_IntTruncDiv if fn_cls is _TruncDiv else fn_cls).apply(a, b)


def _binary(fn_cls, op, input, other, floating=False):
    a, b, _ = (promote_floating if floating else promote)(op, input, other)
    return fn_cls.apply(a, b)


def _numbers_as_tensor(input, other):
    """``input`` as a 0-d CPU tensor of its own type where both operands are Python numbers (PyTorch's
    add, sub, mul and div take two: ``torch.add(2, 3.5)`` is ``tensor(5.5)``); else ``input`` as it is."""
    if is_scalar(input) and is_scalar(other):
        return tensor(input, dtype=dtypes.scalar_dtype(input))
    return input


def full_like_scalar(like, value):
    """A 0-d tensor on ``like``'s device holding the Python scalar ``value``, of the type the
    scalar takes against ``like`` (a Python number is a weak operand: ``1 - int32`` is int32);
    a NumPy array operand keeps its shape and dtype."""
    if not isinstance(like, Tensor):
        raise TypeError(f"expected a Tensor operand, got {type(like).__name__} and {type(value).__name__}")
    operands = array_operands(like, value)
    if operands is not None:
        return operands[1]
    _, value, result = promote("scalar", like, value)
    return tensor(value, dtype=result, device=like._device)


def add(input: Tensor | Number, other: Tensor | Number, *, alpha: Number = 1, out: Tensor | None = None) -> Tensor:
    """Adds ``other``, scaled by ``alpha``, to ``input``, with broadcasting and type promotion.

    .. math::
        out_i = input_i + alpha * other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the tensor or number to add to ``input``.
        alpha (Number): the multiplier for ``other``. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([1.0, 2.0, 3.0])
        >>> ember.add(a, 10)
        tensor([11., 12., 13.])
        >>> ember.add(a, ember.tensor([1.0, 1.0, 1.0]), alpha=2)
        tensor([3., 4., 5.])
    """
    if out is not None:
        return write_out("add", add(input, other, alpha=alpha), out, inputs=(input, other))
    if type(input) is not Tensor:  # (one identity test on the tensor path)
        input = _numbers_as_tensor(input, other)
        if not isinstance(input, Tensor) or isinstance(input, UnstridedTensor):
            if getattr(input, "is_sparse", False):  # sparse + dense: the sparse add raises as PyTorch's does
                return input.add(other, alpha=alpha)  # type: ignore[union-attr]  # a SparseCOOTensor
            input = full_like_scalar(other, input)
    if alpha != 1 or alpha is True:
        result = _alpha_result_type(input, other, alpha)
        if result is dtypes.bool:
            other = other if alpha else other * False  # alpha is True or False in a bool result
        elif result in dtypes.narrow_float and is_strided(input) and is_strided(other):
            # both operands in the 16-bit type first, then one rounding of input + alpha * other, as PyTorch
            a, b = input.to(result).float(), other.to(result).float()
            return add(a, b, alpha=_rounded_to(alpha, result)).to(result)
        elif _narrow_with_number(input, other, result):  # the number and alpha as the 16-bit type holds them
            d = cast(Tensor, input).dtype
            return add(cast(Tensor, input).float(), _rounded_to(other, d) * _rounded_to(alpha, d)).to(d)
        elif not isinstance(alpha, Tensor) and (fused := _fused_operands(input, other, result)) is not None:
            return _AddScaled.apply(*fused, alpha)
        else:
            other = _scaled(other, alpha, result)
    return _binary(_Add, "add", input, other)


def sub(input: Tensor | Number, other: Tensor | Number, *, alpha: Number = 1, out: Tensor | None = None) -> Tensor:
    """Subtracts ``other``, scaled by ``alpha``, from ``input``.

    .. math::
        out_i = input_i - alpha * other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the tensor or number to subtract from ``input``.
        alpha (Number): the multiplier for ``other``. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([1.0, 2.0, 3.0])
        >>> ember.sub(a, ember.tensor([0.5, 0.5, 0.5]), alpha=2)
        tensor([0., 1., 2.])
    """
    if out is not None:
        return write_out("sub", sub(input, other, alpha=alpha), out, inputs=(input, other))
    if type(input) is not Tensor:  # (one identity test on the tensor path)
        input = _numbers_as_tensor(input, other)
    input_bool = isinstance(input, bool) or isinstance(input, Tensor) and input.dtype is dtypes.bool
    other_bool = isinstance(other, bool) or isinstance(other, Tensor) and other.dtype is dtypes.bool
    if not isinstance(input, Tensor):
        if (
            alpha == 1
            and (type(input) is float or type(input) is int)
            and isinstance(other, Tensor)
            and other.dtype.is_floating_point
        ):
            return _binary(_RSub, "sub", other, input)
        input = full_like_scalar(other, input)
    if input_bool and other_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if input_bool or other_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha != 1 or alpha is True:
        result = _alpha_result_type(input, other, alpha)
        if result is dtypes.bool:
            other = other if alpha else other * False  # alpha is True or False in a bool result
        elif result in dtypes.narrow_float and is_strided(input) and is_strided(other):
            # both operands in the 16-bit type first, then one rounding of input - alpha * other, as PyTorch
            a, b = input.to(result).float(), other.to(result).float()
            return sub(a, b, alpha=_rounded_to(alpha, result)).to(result)
        elif _narrow_with_number(input, other, result):  # the number and alpha as the 16-bit type holds them
            d = cast(Tensor, input).dtype
            return sub(cast(Tensor, input).float(), _rounded_to(other, d) * _rounded_to(alpha, d)).to(d)
        elif not isinstance(alpha, Tensor) and (fused := _fused_operands(input, other, result)) is not None:
            return _SubScaled.apply(*fused, -alpha)
        else:
            other = _scaled(other, alpha, result)
    return _binary(_Sub, "sub", input, other)


def _scaled(other: Tensor | Number, alpha: Number, result: dtypes.dtype) -> Tensor | Number:
    """``alpha * other`` for ``add``/``sub``, in the result's dtype: a tensor ``other`` of another type is cast
    to it first, as PyTorch's operands are, so that ``float32 + alpha * bfloat16`` does not round the product
    to bfloat16 and ``uint8 + alpha * bool`` stays uint8."""
    if is_strided(other) and other.dtype is not result:
        other = other.to(result)
    return other * alpha


def _alpha_result_type(input: Tensor | Number, other: Tensor | Number, alpha: Number) -> dtypes.dtype:
    """The result dtype of ``add``/``sub``, once ``alpha`` passed PyTorch's checks against it."""
    if is_strided(input) and not (is_strided(other) or is_scalar(other)):
        result = dtypes.promote_types(input.dtype, cast(Any, other).dtype)  # a sparse operand: its values' type
    else:
        result = result_type(input, other)
    check_factor("alpha", alpha, result)
    return result


def mul(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """Multiplies ``input`` by ``other``, with broadcasting and type promotion.

    .. math::
        out_i = input_i * other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the tensor or number to multiply by.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.mul(a, ember.tensor([10.0, 100.0]))
        tensor([[ 10., 200.],
                [ 30., 400.]])
        >>> ember.mul(a, 0.5)
        tensor([[0.5000, 1.0000],
                [1.5000, 2.0000]])
    """
    if out is not None:
        return write_out("mul", mul(input, other), out, inputs=(input, other))
    if type(input) is not Tensor:  # (one identity test on the tensor path)
        input = _numbers_as_tensor(input, other)
    if type(other) is not Tensor and isinstance(other, UnstridedTensor):
        return other.mul(input)  # x * sparse: sparse, as in PyTorch
    if type(input) is not Tensor and (not isinstance(input, Tensor) or isinstance(input, UnstridedTensor)):
        if isinstance(input, UnstridedTensor):
            return input.mul(other)  # a sparse tensor: a sparse product
        return _binary(_Mul, "mul", other, input)
    if input._data.dtype.itemsize == 2:  # perhaps float16/bfloat16 (a 0-d first operand is cast, as PyTorch's)
        other = _cpu_scalar_value(input, other)
    return _binary(_Mul, "mul", input, other)


def _cpu_scalar_value(input: Tensor, other: Any) -> Any:
    """``other``, the second operand, as PyTorch's float16/bfloat16 mul and div kernels read it beside
    the 16-bit ``input``: a 0-d CPU tensor of another real type (and no gradient) is a number, its
    value unrounded, as a Python number is (``half_x * tensor(0.1, dtype=float64)`` multiplies by 0.1, not by 0.0999756);
    anything else as it is."""
    if (
        isinstance(other, Tensor)
        and other.ndim == 0
        and input.dtype in dtypes.narrow_float
        and other.dtype is not input.dtype
        and not other.dtype.is_complex
        and not other.requires_grad
        and other.device.type in CPU_DEVICE_TYPES
    ):
        return other.item()
    return other


def div(
    input: Tensor | Number, other: Tensor | Number, *, rounding_mode: str | None = None, out: Tensor | None = None
) -> Tensor:
    """Divides ``input`` by ``other``; true division by default, so integer inputs give a floating-point result.

    .. math::
        out_i = input_i / other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the divisor.
        rounding_mode (str, optional): ``None`` for true division, ``'trunc'`` to round the quotient toward zero,
            ``'floor'`` to round it down.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([7.0, -7.0])
        >>> ember.div(a, 2)
        tensor([ 3.5000, -3.5000])
        >>> ember.div(a, 2, rounding_mode='trunc')
        tensor([ 3., -3.])
        >>> ember.div(a, 2, rounding_mode='floor')
        tensor([ 3., -4.])
    """
    if out is not None:
        return write_out("div", div(input, other, rounding_mode=rounding_mode), out, inputs=(input, other))
    if type(input) is not Tensor:  # (one identity test on the tensor path)
        input = _numbers_as_tensor(input, other)
    if not isinstance(input, Tensor):
        if (
            rounding_mode is None
            and is_scalar(input)
            and isinstance(other, Tensor)
            and not other.dtype.is_floating_point
        ):
            input = float(input)  # true division: -3 / uint8 is -3.0 / float, not 253 / float
        input = full_like_scalar(other, input)
    if rounding_mode is None:
        if cast(Tensor, input)._data.dtype.itemsize == 2:  # a tensor by now
            other = _cpu_scalar_value(cast(Tensor, input), other)
        return _binary(_Div, "div", input, other, floating=True)
    if rounding_mode == "floor":
        return _exact_binary(_FloorDiv, "div", input, other, "div_floor_cpu")
    if rounding_mode == "trunc":
        return _exact_binary(_TruncDiv, "div", input, other, "div_trunc_cpu")
    if not isinstance(rounding_mode, str):  # PyTorch's argument parser takes a str only
        raise TypeError(f"div(): argument 'rounding_mode' must be str, not {type_name(rounding_mode)}")
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def floor_divide(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """Divides ``input`` by ``other`` and rounds the quotient down, as ``div(..., rounding_mode='floor')``.

    .. math::
        out_i = floor(input_i / other_i)

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the divisor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.floor_divide(ember.tensor([7, -7]), 2)
        tensor([ 3, -4])
    """
    if out is not None:
        return write_out("floor_divide", floor_divide(input, other), out)
    return div(input, other, rounding_mode="floor")


def remainder(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """The Python-style modulus of ``input`` by ``other``: the result has the sign of ``other``.

    .. math::
        out_i = input_i - floor(input_i / other_i) * other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the divisor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.remainder(ember.tensor([-3.0, -1.0, 2.0, 3.0]), 2)
        tensor([1., 1., 0., 1.])
        >>> ember.remainder(ember.tensor([5, 6]), -4)
        tensor([-3, -2])
    """
    if out is not None:
        return write_out("remainder", remainder(input, other), out)
    if not isinstance(input, Tensor):
        input = full_like_scalar(other, input)
    return _exact_binary(_Remainder, "remainder", input, other)


def fmod(input: Tensor, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """The C-style modulus of ``input`` by ``other``: the result has the sign of ``input``.

    .. math::
        out_i = input_i - trunc(input_i / other_i) * other_i

    Args:
        input (Tensor): the input tensor.
        other (Tensor or Number): the divisor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fmod(ember.tensor([-3.0, -2.0, 2.0, 3.0]), 2)
        tensor([-1., -0.,  0.,  1.])
    """
    require_tensors("fmod", ("input",), input)
    if out is not None:
        return write_out("fmod", fmod(input, other), out)
    return _exact_binary(_Fmod, "fmod", input, other)


#: the base types into which pow converts a Python exponent with a range check (float32 and float64
#: take it as a double)
_EXPONENT_CHECKED = INTEGRAL | {dtypes.float16, dtypes.bfloat16}


#: PyTorch's overloads of ``pow``, as its argument parser lists them
_POW_SIGNATURES = (
    "Tensor input, Tensor exponent, *, Tensor out = None",
    "Number self, Tensor exponent, *, Tensor out = None",
    "Tensor input, Number exponent, *, Tensor out = None",
)


@overload
def pow(input: Tensor, exponent: Tensor | Number) -> Tensor: ...  # noqa: A001
@overload
def pow(input: Number, exponent: Tensor) -> Tensor: ...  # noqa: A001
def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Raises ``input`` to the power ``exponent``, element by element; either may be a Python number.

    .. math::
        out_i = input_i ^ {exponent_i}

    Args:
        input (Tensor or Number): the base.
        exponent (Tensor or Number): the exponent.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.pow(ember.tensor([1.0, 2.0, 3.0]), 2)
        tensor([1., 4., 9.])
        >>> ember.pow(2, ember.tensor([0, 1, 4]))
        tensor([ 1,  2, 16])
    """
    if out is not None:
        return write_out("pow", pow(input, exponent), out, inputs=(input, exponent))
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        input, exponent = cast_inputs("pow", input, exponent)
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):  # no overload takes two numbers
            raise invalid_combination("pow", (input, exponent), {}, _POW_SIGNATURES)
        if not is_scalar(input):
            raise TypeError(f"pow(): unsupported base type {type(input).__name__}")
        input = python_scalar(input)
        if exponent.dtype is dtypes.bool:  # an int base raises a bool exponent to int64, a bool base has no kernel
            if isinstance(input, bool):
                not_implemented("pow", dtypes.bool)
            if isinstance(input, int):
                exponent = exponent.to(dtypes.int64)
        integral = isinstance(input, int) and exponent.dtype._category == 1
        x = exponent if exponent.dtype._category >= 2 or integral else exponent.to(dtypes.get_default_dtype())
        if isinstance(input, complex) and not x.dtype.is_complex:  # a complex base makes the result complex
            x = x.to(x.dtype.to_complex())
        return _RPow.apply(x, input)
    if type(exponent) is not float and type(exponent) is not int and not isinstance(exponent, Tensor):
        exponent = python_scalar(exponent)
    if input.dtype is dtypes.bool and isinstance(exponent, bool):  # x ** True is x, x ** False is True
        return input.clone() if exponent else input.new_ones(input.shape)
    if input.dtype is dtypes.bool and isinstance(exponent, Tensor) and exponent.dtype is dtypes.bool:
        not_implemented("pow", dtypes.bool)
    floating = input.dtype.is_floating_point or input.dtype.is_complex
    if is_scalar(exponent) and not floating and not isinstance(exponent, (int, complex)):
        input = input.to(dtypes.get_default_dtype())
    if isinstance(exponent, int) and not isinstance(exponent, bool) and exponent < 0:
        if not floating:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if (type(exponent) is int or type(exponent) is float) and input.dtype in _EXPONENT_CHECKED:
        # PyTorch converts the exponent to the base's type, checked: int8 ** 300 is an error, not int8 ** 44
        check_scalar_fits(exponent, input.dtype)
    return _binary(_PowTensors if isinstance(exponent, Tensor) else _Pow, "pow", input, exponent)


def _ordered(op, input, other):
    """``(input, other)``, checked to be real: complex numbers have no order (PyTorch's error)."""
    if any(isinstance(t, Tensor) and t.dtype.is_complex for t in (input, other)):
        raise RuntimeError(f"{op} not implemented for complex tensors.")
    return input, other


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The element-wise maximum of ``input`` and ``other`` (NaN propagates).

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the second input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.maximum(ember.tensor([1.0, 5.0, 3.0]), ember.tensor([4.0, 2.0, 3.0]))
        tensor([4., 5., 3.])
    """
    require_tensors("maximum", ("input", "other"), input, other)
    if out is not None:
        return write_out("maximum", maximum(input, other), out, inputs=(input, other))
    return _binary(_Maximum, "maximum", *_ordered("maximum", input, other))


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The element-wise minimum of ``input`` and ``other`` (NaN propagates).

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the second input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.minimum(ember.tensor([1.0, 5.0, 3.0]), ember.tensor([4.0, 2.0, 3.0]))
        tensor([1., 2., 3.])
    """
    require_tensors("minimum", ("input", "other"), input, other)
    if out is not None:
        return write_out("minimum", minimum(input, other), out, inputs=(input, other))
    return _binary(_Minimum, "minimum", *_ordered("minimum", input, other))


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The element-wise arctangent of ``input / other``, taking the quadrant from the signs of both.

    .. math::
        out_i = atan2(input_i, other_i)

    Args:
        input (Tensor): the first input tensor (the y coordinates).
        other (Tensor): the second input tensor (the x coordinates).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.atan2(ember.tensor([1.0, 1.0, -1.0]), ember.tensor([1.0, -1.0, -1.0]))
        tensor([ 0.7854,  2.3562, -2.3562])
    """
    require_tensors("atan2", ("input", "other"), input, other)
    if out is not None:
        return write_out("atan2", atan2(input, other), out)

    for t in (input, other):
        if isinstance(t, Tensor) and t.dtype.is_complex:
            not_implemented("atan2_cpu", t.dtype)
    return _binary(_Atan2, "atan2", input, other, floating=True)


# -- clamp, where, lerp --------------------------------------------------------------------
class _Clamp(Function):
    """``clamp`` with number bounds (PyTorch's ``clamp``; tensor bounds are ``clamp.Tensor``, below)."""

    _backward_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, low, high):
        xp = x._backend.xp
        data = x._data
        if low is not None:
            # the bound first: on a tie (-0.0 against 0.0) the array API's maximum returns its second
            # operand, and PyTorch's clamp keeps x
            data = xp.maximum(low if is_scalar(low) else low._data, data)
        if high is not None:
            data = xp.minimum(high if is_scalar(high) else high._data, data)
        bounds = tuple(bound._data for bound in (low, high) if isinstance(bound, Tensor))
        if bounds and not x._backend.is_contiguous(x._data):  # ``x``'s layout may win over the bounds'
            data = in_operands_layout(x._backend, data, (x._data, *bounds))
        ctx.save_for_backward(x, low if isinstance(low, Tensor) else None, high if isinstance(high, Tensor) else None)
        ctx.low, ctx.high = low, high
        return x._make(data)

    @staticmethod
    def backward(ctx, grad):
        x, low_t, high_t = ctx.saved_tensors
        low = low_t if low_t is not None else ctx.low
        high = high_t if high_t is not None else ctx.high
        mask = None
        if low is not None:
            mask = x >= low
        if high is not None:
            upper = x <= high
            # in place, as PyTorch's ``(x >= min).logical_and_(x <= max)``: the mask keeps its layout
            mask = upper if mask is None else mask.logical_and_(upper)
        zero = grad.new_zeros(())  # selected, not multiplied: an inf/NaN grad does not leak past a bound
        g = sum_to(where(mask, grad, zero) if mask is not None else grad, x.shape)
        glow = ghigh = None
        # with both bounds, a crossed pair (min > max) gives everything to max (PyTorch's rule)
        if low_t is not None and ctx.needs_input_grad[1]:
            takes = x < low_t if high is None else (x < low_t) & (low_t < high)
            glow = sum_to(where(takes, grad, zero), low_t.shape)
        if high_t is not None and ctx.needs_input_grad[2]:
            takes = x > high_t if low is None else (x > high_t) | (high_t < low)
            ghigh = sum_to(where(takes, grad, zero), high_t.shape)
        return g, glow, ghigh


class _ClampTensors(_Clamp):
    _backward_name = "ClampBackward0"


class _ClampMin(_Clamp):
    _backward_name = "ClampMinBackward0"


class _ClampMinTensor(_Clamp):
    _backward_name = "ClampMinBackward1"


class _ClampMax(_Clamp):
    _backward_name = "ClampMaxBackward0"


class _ClampMaxTensor(_Clamp):
    _backward_name = "ClampMaxBackward1"


def _bool_clamp_kernel(low, high):
    """The PyTorch kernel that refuses clamping a bool tensor to these bounds; None where one takes them."""
    if isinstance(low, Tensor) and isinstance(high, Tensor):
        return "clamp_cpu" if low.dtype is dtypes.bool and high.dtype is dtypes.bool else None
    if isinstance(low, bool) and isinstance(high, bool):
        return "clamp_scalar_cpu"
    if high is None and isinstance(low, bool):
        return "clamp_min_scalar_cpu"
    if low is None and isinstance(high, bool):
        return "clamp_max_scalar_cpu"
    return None


#: the float8 types whose isfinite PyTorch refuses (it computes float8_e8m0fnu's, which has no infinity)
_ISFINITE_REFUSED = FLOAT8 - {dtypes.float8_e8m0fnu}


def _clamp_kernel(low, high):
    """The name of PyTorch's kernel that clamps to these bounds (tensors or numbers; one may be None)."""
    if isinstance(low, Tensor) or isinstance(high, Tensor):
        return "maximum_cpu" if high is None else "minimum_cpu" if low is None else "clamp_cpu"
    return "clamp_min_scalar_cpu" if high is None else "clamp_max_scalar_cpu" if low is None else "clamp_scalar_cpu"


def clamp(  # noqa: A002
    input: Tensor, min: Tensor | Number | None = None, max: Tensor | Number | None = None, *, out: Tensor | None = None
) -> Tensor:
    """Clamps every element of ``input`` into the range ``[min, max]``; either bound may be omitted, and either may be
    a tensor.

    .. math::
        out_i = min(max(input_i, min_i), max_i)

    Args:
        input (Tensor): the input tensor.
        min (Number or Tensor, optional): the lower bound.
        max (Number or Tensor, optional): the upper bound.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([-2.0, 0.5, 3.0])
        >>> ember.clamp(a, min=-1.0, max=1.0)
        tensor([-1.0000,  0.5000,  1.0000])
        >>> ember.clamp(a, min=0.0)
        tensor([0.0000, 0.5000, 3.0000])
    """
    if out is not None:
        return write_out("clamp", clamp(input, min, max), out, exact_dtype=True, inputs=(input, min, max))
    return clamp_with_nodes(input, min, max, _Clamp, _ClampTensors)


def clamp_with_nodes(input: Tensor, min: Any, max: Any, node: Any, tensor_node: Any) -> Tensor:  # noqa: A002
    """:func:`clamp` computed by ``node`` (number bounds) or ``tensor_node`` (a tensor bound): PyTorch names
    the nodes of ``clamp_min``/``clamp_max`` apart from ``clamp``'s."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for bound in (min, max):
        if bound is not None and not is_scalar(bound):
            if not isinstance(bound, Tensor):
                raise TypeError(f"clamp(): bounds must be numbers or tensors, got {type(bound).__name__}")
    if isinstance(min, Tensor) is not isinstance(max, Tensor) and min is not None and max is not None:
        # PyTorch's overloads take two numbers or two tensors: beside a number, a 0-d tensor is read as
        # a number (a host read), any other tensor refused
        tensor_bound = min if isinstance(min, Tensor) else max
        if isinstance(tensor_bound, Tensor) and tensor_bound.ndim:
            raise TypeError(
                "clamp() received an invalid combination of arguments - got (Tensor, "
                f"{type(min).__name__}, {type(max).__name__}): min and max must be both numbers or both tensors"
            )
        min, max = (b.item() if isinstance(b, Tensor) else b for b in (min, max))  # noqa: A001
    if input.dtype is dtypes.bool and (kernel := _bool_clamp_kernel(min, max)) is not None:
        not_implemented(kernel, dtypes.bool)
    if input.dtype in dtypes.limited_dtypes:
        not_implemented(_clamp_kernel(min, max), input.dtype)
    if input.dtype.is_complex:
        raise NotImplementedError("clamp is not supported for complex types")
    if isinstance(min, Tensor):
        input, min = on_one_device("clamp", input, min)  # noqa: A001
    if isinstance(max, Tensor):
        input, max = on_one_device("clamp", input, max)  # noqa: A001
    # one result type over the input and both bounds (a 0-d or scalar bound does not widen its category)
    groups: tuple[list[dtypes.dtype], list[dtypes.dtype], list[dtypes.dtype]] = ([], [], [])
    for value in (input, min, max):
        if isinstance(value, Tensor):
            groups[0 if value.ndim else 1].append(value.dtype)
        elif value is not None:
            groups[2].append(dtypes.scalar_dtype(value))
    result = dtypes.result_type(*groups)
    if result.is_complex:  # a complex bound of a real input: PyTorch's errors, not a complex result
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            not_implemented("maximum_cpu" if min is not None else "minimum_cpu", result)
        if node is _Clamp and input.dtype.is_floating_point:  # clamp's number overload reads the bounds as doubles
            raise RuntimeError("value cannot be converted to type double without overflow")
        raise NotImplementedError("clamp is not supported for complex types")
    if input.dtype is not result:
        input = input.to(result)
    min, max = (  # noqa: A001
        value.to(result) if isinstance(value, Tensor) and value.dtype is not result else value for value in (min, max)
    )
    if result.is_floating_point:  # a number bound must fit the type (float32 takes no 1e39, float16 no 70000)
        for bound in (min, max):
            if is_scalar(bound) and not -65504.0 <= bound <= 65504.0:  # within every floating type's range
                check_scalar_fits(bound, result)
        min = float(min) if is_scalar(min) else min  # noqa: A001
        max = float(max) if is_scalar(max) else max  # noqa: A001
    else:  # a number bound is converted as a fill value (-1 is 255 for uint8, 300 raises)
        min = fill_value_for(min, result) if is_scalar(min) else min  # noqa: A001
        max = fill_value_for(max, result) if is_scalar(max) else max  # noqa: A001
    return (tensor_node if isinstance(min, Tensor) or isinstance(max, Tensor) else node).apply(input, min, max)


clip = renamed(clamp, "clip")


class _Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        xp = condition._backend.xp
        ctx.save_for_backward(condition)
        ctx.shapes = (a.shape, b.shape)
        operands = (condition._data, a._data, b._data)
        native = xp.where(*operands)
        backend = condition._backend
        # NumPy's order differs from PyTorch's only where an earlier operand than the last is not row-major,
        # or a size-1 dimension's stride counts (operands not all of one shape and row-major)
        first, second, third = operands
        if (
            not (backend.is_contiguous(first) and backend.is_contiguous(second))
            or (1 in native.shape and not (first.shape == second.shape == third.shape and backend.is_contiguous(third)))
            or not native.size  # (NumPy zeroes the strides of an array without elements)
        ):
            native = in_operands_layout(backend, native, operands)
        return condition._make(native)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = grad.new_zeros(())  # selected, not multiplied: an inf/NaN grad reaches only the chosen side
        ga = sum_to(where(condition, grad, zero), ctx.shapes[0]) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(condition, zero, grad), ctx.shapes[1]) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class _MaskedFill(_Where):
    """``masked_fill(input, mask, number)``: :class:`_Where` of ``(mask, value, input)``, PyTorch's
    MaskedFillBackward0 (a tensor value's node is MaskedFillBackward1)."""

    _backward_name = "MaskedFillBackward0"

    @staticmethod
    def backward(ctx, grad):
        none, ga, gb = _Where.backward(ctx, grad)
        # PyTorch's ``grad.masked_fill(mask, 0)`` fills a row-major copy (masked_fill)
        if gb is not None and not gb._backend.is_row_major(gb._data):
            gb = gb.clone(memory_format=contiguous_format)
        return none, ga, gb


class _MaskedFillTensor(_MaskedFill):
    _backward_name = "MaskedFillBackward1"


def where_with_node(node: Any, condition: Tensor, input: Tensor, other: Tensor) -> Tensor:
    """:func:`where` of three tensors of one dtype, computed by ``node`` (a :class:`_Where`): an op that is
    a selection in PyTorch's name (``masked_fill``) has its own node name."""
    condition, input, other = on_one_device("where", condition, input, other)
    error = broadcast_error(condition.shape, input.shape) or broadcast_error(condition.shape, other.shape)
    error = error or broadcast_error(input.shape, other.shape)
    if error is not None:
        raise error
    return node.apply(condition, input, other)


def one_operand_error(args: tuple, kwargs: dict) -> TypeError:
    """PyTorch's TypeError for a ``where`` call (``args``, ``kwargs``, as given) with one of ``input`` and
    ``other``: its argument parser refuses the call before any handler of a tensor subclass sees it."""
    return invalid_combination("where", args, kwargs, SIGNATURES["where"])


def _one_operand_refused(where_: _F) -> _F:
    """``where_`` refusing a call with one of ``input`` and ``other`` in PyTorch's words, which list the
    arguments as the call gave them (``where(c, input=x)``: "got (Tensor, input=Tensor)")."""

    @functools.wraps(where_)
    def where(*args: Any, **kwargs: Any) -> Any:
        given = {**dict(zip(("condition", "input", "other"), args)), **kwargs}
        if (given.get("input") is None) != (given.get("other") is None):
            raise one_operand_error(args, kwargs)
        return where_(*args, **kwargs)

    return cast(_F, where)


@overload
def where(condition: Tensor, /) -> tuple[Tensor, ...]: ...
@overload
def where(condition: Tensor, input: Tensor | Number, other: Tensor | Number) -> Tensor: ...
@tensor_input
@_one_operand_refused
def where(
    condition: Tensor,
    input: Tensor | Number | None = None,
    other: Tensor | Number | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """Elements of ``input`` where ``condition`` holds and of ``other`` elsewhere; the three are broadcast together.

    .. math::
        out_i = input_i if condition_i else other_i

    With only ``condition``, the same as ``condition.nonzero(as_tuple=True)``.

    Args:
        condition (Tensor): a bool tensor choosing between ``input`` and ``other``.
        input (Tensor or Number): the values where ``condition`` is ``True``.
        other (Tensor or Number): the values where ``condition`` is ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([-1.0, 2.0, -3.0])
        >>> ember.where(x > 0, x, 0.0)
        tensor([0., 2., 0.])
        >>> ember.where(x > 0)
        (tensor([1]),)
    """
    if out is not None:
        computed = where(condition, input, other)  # type: ignore[arg-type]
        return write_out("where", computed, out, exact_dtype=True, inputs=(condition, input, other))
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition.dtype is not dtypes.bool:
        if condition.dtype is dtypes.uint8:
            condition = condition.to(dtypes.bool)
        else:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype {_TORCH_NAMES[condition.dtype.name]}"
            )
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        like = condition
    a = as_tensor_arg("where", input, like)
    b = as_tensor_arg("where", other, like)
    condition, a, b = on_one_device("where", condition, a, b)
    error = broadcast_error(condition.shape, a.shape) or broadcast_error(condition.shape, b.shape)
    error = error or broadcast_error(a.shape, b.shape)
    if error is not None:
        raise error
    groups: tuple[list[dtypes.dtype], list[dtypes.dtype], list[dtypes.dtype]] = ([], [], [])
    for value, t in ((input, a), (other, b)):
        groups[2 if is_scalar(value) else (0 if t.ndim else 1)].append(t.dtype)
    result = dtypes.result_type(*groups)
    if result._category == 1:  # an integer type takes a number in its range only (uint8: 300 raises, -1 is 255)
        for value in (input, other):
            if is_scalar(value):
                fill_value_for(value, result)
    a = a if a.dtype is result else a.to(result)
    b = b if b.dtype is result else b.to(result)
    return _Where.apply(condition, a, b)


def lerp(input: Tensor, end: Tensor, weight: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """Linear interpolation between ``input`` and ``end``, by ``weight``.

    .. math::
        out_i = input_i + weight_i * (end_i - input_i)

    Args:
        input (Tensor): the tensor of start points.
        end (Tensor): the tensor of end points.
        weight (float or Tensor): the interpolation weight.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.lerp(ember.tensor([0.0, 1.0]), ember.tensor([10.0, 3.0]), 0.5)
        tensor([5., 2.])
    """
    require_tensors("lerp", ("input", "end"), input, end)
    if out is not None:
        return write_out("lerp", lerp(input, end, weight), out, inputs=(input, end, weight))
    if isinstance(weight, Tensor) and weight.ndim == 0 and weight.dtype is not input.dtype and end.dtype is input.dtype:
        # a 0-d weight of another dtype takes part in the promotion as PyTorch's 0-d operands do (float32 ends
        # with a float64 weight stay float32, a complex weight makes them complex, int64 ends with a float one float)
        result = dtypes.result_type([input.dtype, end.dtype], [weight.dtype], [])
        input, end, weight = input.to(result), end.to(result), weight.to(result)
    for name, operand in (("end", end), ("weight", weight)):
        if isinstance(operand, Tensor) and operand.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {C_NAMES[input.dtype]} for `{name}` but got dtype {C_NAMES[operand.dtype]}"
            )
    if input.dtype not in FLOATING_AND_HALF and not input.dtype.is_complex:
        not_implemented("lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar", input.dtype)
    if isinstance(weight, complex) and not input.dtype.is_complex:  # PyTorch's conversion error, or its real part
        weight = converted_factor(weight, input.dtype)
    if isinstance(weight, Tensor):  # a 0-d CPU weight joins the others' device, as PyTorch's scalars do
        input, end, weight = on_one_device("lerp", input, end, weight)
    return (_LerpTensor if isinstance(weight, Tensor) else _Lerp).apply(input, end, weight)


def _lerp_fused(input: Tensor, end: Tensor, diff: Tensor, weight: Tensor | Number) -> Tensor:
    """The lerp of real operands as PyTorch's kernels compute it: one fused multiply-add
    ``fma(coeff, diff, base)`` (``weight`` and ``input`` below 0.5, ``weight - 1`` and ``end`` above),
    rounded once."""
    if isinstance(weight, Tensor):
        small = weight.abs() < 0.5
        coeff, base = where(small, weight, weight - 1), where(small, input, end)
        scale: Any = coeff._data
    else:
        w = dtypes.held_by(weight, input.dtype)
        scale, base = (w, input) if builtins.abs(w) < 0.5 else (dtypes.held_by(w - 1, input.dtype), end)
    return diff._make(diff._backend.kernels.fused_multiply_add(diff._data, scale, base._data))


class _Lerp(Function):
    """``input + weight * (end - input)``; PyTorch's backward multiplies ``grad`` once per operand (by
    ``1 - weight``, ``weight`` and ``end - input``), where the composite's chain would add ``inf - inf``."""

    @staticmethod
    def forward(ctx, input, end, weight):
        # the ends are read for the weight's gradient only: saved where it is wanted, as PyTorch's (so that an
        # end written in place afterwards does not stop the other gradients)
        ctx.shapes = (input.shape, end.shape)
        if isinstance(weight, Tensor):
            ctx.save_for_backward(*((input, end) if ctx.needs_input_grad[2] else (None, None)), weight)
        ctx.weight = weight
        narrow = input.dtype if input.dtype in dtypes.narrow_float else None
        if narrow is not None:  # computed in float32 and rounded once, as PyTorch (opmath)
            input, end = input.float(), end.float()
            weight = weight.float() if isinstance(weight, Tensor) and weight.dtype is narrow else weight
        # PyTorch's formula: from the nearer end, so that weight 1 gives ``end`` exactly
        diff = end - input
        if not input.dtype.is_complex:
            out = _lerp_fused(input, end, diff, weight)
        elif isinstance(weight, Tensor):
            out = where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
        else:
            out = input + weight * diff if builtins.abs(weight) < 0.5 else end - diff * (1 - weight)
        operands = (input._data, end._data) + ((weight._data,) if isinstance(weight, Tensor) else ())
        if not all(input._backend.is_contiguous(x) for x in operands[:2]):  # ``input``'s layout may win
            out = out._make(in_operands_layout(input._backend, out._data, operands))
        return out if narrow is None else out.to(narrow)

    @staticmethod
    def backward(ctx, grad):
        weight = ctx.weight
        input = end = None
        if isinstance(weight, Tensor):
            input, end, weight = ctx.saved_tensors
        input_shape, end_shape = ctx.shapes
        if grad.dtype.is_complex:  # conjugate Wirtinger gradients: grad times the conjugate slopes
            weight = _conj(weight)
            if input is not None:
                input, end = input.conj(), end.conj()
        needs = ctx.needs_input_grad
        gi = sum_to(grad * (1 - weight), input_shape) if needs[0] else None
        ge = sum_to(grad * weight, end_shape) if needs[1] else None
        gw = sum_to(grad * (end - input), weight.shape) if input is not None and needs[2] else None
        return gi, ge, gw


class _LerpTensor(_Lerp):
    """``lerp`` with a tensor weight: PyTorch's LerpBackward1 (a number weight's is LerpBackward0)."""

    _backward_name = "LerpBackward1"


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1, out: Tensor | None = None) -> Tensor:
    """Multiplies ``tensor1`` by ``tensor2``, scales the product by ``value`` and adds it to ``input``.

    .. math::
        out_i = input_i + value * tensor1_i * tensor2_i

    Args:
        input (Tensor): the input tensor.
        tensor1 (Tensor): the first factor.
        tensor2 (Tensor): the second factor.
        value (Number): the multiplier of the product. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.addcmul(ember.tensor([1.0, 1.0]), ember.tensor([2.0, 3.0]), ember.tensor([4.0, 5.0]), value=0.5)
        tensor([5.0000, 8.5000])
    """
    if out is not None:
        return write_out(
            "addcmul", addcmul(input, tensor1, tensor2, value=value), out, inputs=(input, tensor1, tensor2)
        )
    if all(isinstance(t, Tensor) and t.dtype is dtypes.bool for t in (input, tensor1, tensor2)):
        not_implemented("addcmul_cpu_out", dtypes.bool)
    result = _result_type(input, tensor1, tensor2)
    if result in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch (opmath)
        return addcmul(input.float(), tensor1.float(), tensor2.float(), value=value).to(result)
    value = converted_factor(value, result)
    if value != 1 and not _floating_result(input, tensor1, tensor2):
        value = int(value)  # an integral addcmul truncates value to its type, as PyTorch
    if (
        all(isinstance(t, Tensor) for t in (tensor1, tensor2))
        and (first := _fused_operands(input, tensor1, result)) is not None
        and (second := _fused_operands(input, tensor2, result)) is not None
    ):  # mixed real types cast to the result's first, as PyTorch's TensorIterator before its fma
        return _Addcmul.apply(first[0], first[1], second[1], value)
    tensor1, tensor2 = _in_result_type(result, tensor1, tensor2)
    return input + value * tensor1 * tensor2  # PyTorch's order of the products


class _Addcmul(Function):
    """``input + (value * tensor1) * tensor2``, the product by ``tensor2`` and the sum one fused
    multiply-add, as PyTorch's cpu kernel computes it; its gradients are PyTorch's
    (``grad * (tensor2 * value)`` for ``tensor1``)."""

    @staticmethod
    def forward(ctx, input, tensor1, tensor2, value):
        backend = input._backend
        xp, data, first, second = backend.xp, input._data, tensor1._data, tensor2._data
        try:
            scaled = xp.multiply(first, xp.asarray(value, dtype=first.dtype))
            native = backend.kernels.fused_multiply_add(scaled, second, data)
        except ValueError as exc:  # shapes that do not broadcast
            raise_broadcast_error(exc, input, tensor1, tensor2)
        operands = (data, first, second)
        if not all(backend.is_contiguous(x) for x in operands):  # ``input``'s layout may win
            native = in_operands_layout(backend, native, operands)
        needs = ctx.needs_input_grad
        ctx.save_for_backward(tensor1 if needs[2] else None, tensor2 if needs[1] else None)
        ctx.value, ctx.shapes = value, (data.shape, first.shape, second.shape)
        return input._make(native)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        needs, value, (input_shape, first_shape, second_shape) = ctx.needs_input_grad, ctx.value, ctx.shapes
        return (
            sum_to(grad, input_shape) if needs[0] else None,
            sum_to(grad * (tensor2 * value), first_shape) if needs[1] else None,
            sum_to(grad * (tensor1 * value), second_shape) if needs[2] else None,
            None,
        )


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1, out: Tensor | None = None) -> Tensor:
    """Divides ``tensor1`` by ``tensor2``, scales the quotient by ``value`` and adds it to ``input``.

    .. math::
        out_i = input_i + value * tensor1_i / tensor2_i

    Args:
        input (Tensor): the input tensor.
        tensor1 (Tensor): the numerator.
        tensor2 (Tensor): the denominator.
        value (Number): the multiplier of the quotient. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.addcdiv(ember.tensor([1.0, 1.0]), ember.tensor([2.0, 3.0]), ember.tensor([4.0, 5.0]), value=2)
        tensor([2.0000, 2.2000])
    """
    if out is not None:
        return write_out(
            "addcdiv", addcdiv(input, tensor1, tensor2, value=value), out, inputs=(input, tensor1, tensor2)
        )
    if all(isinstance(t, Tensor) and t.dtype._category < 2 for t in (tensor1, tensor2)):
        raise RuntimeError(_ADDCDIV_INTEGERS)
    result = _result_type(input, tensor1, tensor2)
    if result in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch (opmath)
        quotient = addcdiv(input.float(), tensor1.float(), tensor2.float(), value=value).to(result)
        return named_node(quotient, "AddcdivBackward0")
    value = converted_factor(value, result)
    tensor1, tensor2 = _in_result_type(result, tensor1, tensor2)
    return named_node(input + value * tensor1 / tensor2, "AddcdivBackward0")  # PyTorch's order of the operations


def _in_result_type(result: dtypes.dtype, *tensors: Tensor) -> tuple[Tensor, ...]:
    """``tensors`` cast (differentiably) to ``result``, the type addcmul and addcdiv compute in: a
    bfloat16 ``tensor1`` beside float32 ones is not rounded to bfloat16 by ``value * tensor1``."""
    return tuple(t if t.dtype is result else t.to(result) for t in tensors)


def _rounded_to(number, dtype):
    """The Python ``number`` as the 16-bit float ``dtype`` holds it (PyTorch rounds ``alpha`` so)."""
    return tensor(number, dtype=dtype).item()


def _result_type(*tensors: Tensor) -> dtypes.dtype:
    """The type ``tensors`` promote to."""
    return functools.reduce(dtypes.promote_types, (t.dtype for t in tensors))


def _floating_result(*tensors: Tensor) -> bool:
    """Whether the type ``tensors`` promote to is a floating or complex one."""
    common = _result_type(*tensors)
    return common.is_floating_point or common.is_complex


def _narrow_with_number(input, other, result):
    """Whether ``input`` is a float16/bfloat16 tensor that a real number ``other`` leaves in its type
    (PyTorch then computes ``input + alpha * other`` in float32 from both numbers rounded to that type)."""
    return (
        isinstance(input, Tensor)
        and input.dtype in dtypes.narrow_float
        and result is input.dtype
        and isinstance(other, (int, float))
        and not isinstance(other, bool)
    )


def _narrow_result(*tensors):
    """The float16/bfloat16 type all of ``tensors`` have, else None."""
    first = tensors[0].dtype if isinstance(tensors[0], Tensor) else None
    if first in dtypes.narrow_float and all(isinstance(t, Tensor) and t.dtype is first for t in tensors):
        return first
    return None


_ADDCDIV_INTEGERS = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes."
)


# -- comparisons and logic (no gradient) ---------------------------------------------------
def _compare(
    name: str, compute: Callable[..., Any], ordered: bool = False
) -> Callable[[Tensor, Tensor | Number], Tensor]:
    """The comparison ``name``; ``ordered`` ones (``<``, ...) refuse complex numbers, which have no order."""

    def op(input: Tensor, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(name, op(input, other), out, inputs=(input, other))
        if not isinstance(input, Tensor):
            require_tensors(called_op(1) or name, ("input",), input)
        if other is None and name in ("eq", "ne"):
            return name == "ne"
        a, b, result = promote(name, input, other)
        if ordered and result.is_complex:
            not_implemented(f"{name}_cpu", result)
        other_data = b._data if isinstance(b, Tensor) else b
        if result in FLOAT8 and not isinstance(b, Tensor):  # the number rounded into float8 as PyTorch rounds
            xp = a._backend.xp
            other_data = xp.astype(xp.asarray(b, dtype=a._backend.native_dtype(dtypes.float32)), a._data.dtype)
        try:
            data = compute(a._backend.xp, a._data, other_data)
        except Exception as exc:
            raise_broadcast_error(exc, a, b)
        backend, first = a._backend, a._data
        if isinstance(b, Tensor):  # the first operand's layout may win; a size-1 dimension's stride may count
            if not backend.is_contiguous(first) or 1 in data.shape:
                data = binary_layout(backend, data, first, other_data)
        elif (1 in data.shape or not data.size) and not backend.is_row_major(first):  # a number: the ordered path
            data = laid_out(backend, data, (first, other_data))
        return input._make(data)

    op.__name__ = op.__qualname__ = name  # what Python names in its own errors
    op.__doc__ = _generated_doc(name, takes_out=True)
    return op


eq = _compare("eq", lambda xp, a, b: xp.equal(a, b))
ne = _compare("ne", lambda xp, a, b: xp.not_equal(a, b))
lt = _compare("lt", lambda xp, a, b: xp.less(a, b), ordered=True)
le = _compare("le", lambda xp, a, b: xp.less_equal(a, b), ordered=True)
gt = _compare("gt", lambda xp, a, b: xp.greater(a, b), ordered=True)
ge = _compare("ge", lambda xp, a, b: xp.greater_equal(a, b), ordered=True)


def _logical(name: str, compute: Callable[..., Any]) -> Callable[[Tensor, Tensor], Tensor]:
    def op(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(name, op(input, other), out, inputs=(input, other))
        require_tensors(name, ("input", "other"), input, other)
        refuse_limited(f"{name}_cpu", input)
        refuse_limited(f"{name}_cpu", other)
        input, other = on_one_device(name, input, other)
        a = input.to(dtypes.bool)._data
        b = other.to(dtypes.bool)._data
        try:
            data = compute(input._backend.xp, a, b)
        except Exception as exc:
            raise_broadcast_error(exc, input, other)
        return input._make(binary_layout(input._backend, data, a, b))  # ``input``'s layout may win

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _generated_doc(name, takes_out=True)
    return op


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))


@tensor_input
def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The element-wise logical NOT of ``input`` (zero is ``False``); returns a bool tensor.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.logical_not(ember.tensor([0, 1, -2]))
        tensor([ True, False, False])
    """
    refuse_limited("logical_not_cpu", input)
    if out is not None:
        return write_out("logical_not", logical_not(input), out)
    return input._make(input._backend.xp.logical_not(input.to(dtypes.bool)._data))


@tensor_input
def isnan(input: Tensor) -> Tensor:
    """A bool tensor that is ``True`` where the element of ``input`` is NaN.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.isnan(ember.tensor([1.0, float('nan'), float('inf')]))
        tensor([False,  True, False])
    """
    return input._make(input._backend.xp.isnan(input._data))


@tensor_input
def isinf(input: Tensor) -> Tensor:
    """A bool tensor that is ``True`` where the element of ``input`` is positive or negative infinity.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.isinf(ember.tensor([1.0, float('-inf'), float('inf'), float('nan')]))
        tensor([False,  True,  True, False])
    """
    refuse_limited("isinf", input, among=FLOAT8)
    return input._make(input._backend.xp.isinf(input._data))


@tensor_input
def isfinite(input: Tensor) -> Tensor:
    """A bool tensor that is ``True`` where the element of ``input`` is neither infinite nor NaN.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.isfinite(ember.tensor([1.0, float('-inf'), float('nan')]))
        tensor([ True, False, False])
    """
    refuse_limited("isfinite", input, among=_ISFINITE_REFUSED)
    return input._make(input._backend.xp.isfinite(input._data))


def _bitwise(
    name: str, logical: Callable[[Tensor, Tensor], Tensor], integer: Callable[..., Any]
) -> Callable[[Tensor | Number, Tensor | Number], Tensor]:
    def op(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(name, op(input, other), out, inputs=(input, other))
        # a number first (torch.bitwise_and(2, t)) is a 0-d operand
        first = input if isinstance(input, Tensor) else full_like_scalar(other, input)
        if first.dtype is dtypes.bool and (
            isinstance(other, bool) or isinstance(other, Tensor) and other.dtype is dtypes.bool
        ):
            return logical(first, other if isinstance(other, Tensor) else full_like_scalar(first, other))
        if not (isinstance(other, Tensor) or is_scalar(other) or hasattr(other, "__array__")):
            promote(name, first, other)  # its TypeError for an operand it does not take, before the dtypes' checks
        for t in (first, other):
            if isinstance(t, Tensor) and t.dtype._category >= 2:
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_TORCH_NAMES[t.dtype.name]}'")
        a, b, result = promote(name, first, other)
        if result._category >= 2:  # an integer tensor with a float or complex number
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_TORCH_NAMES[result.name]}'")
        other_data = b._data if isinstance(b, Tensor) else b
        try:
            native = integer(a._data, other_data)
        except Exception as exc:
            raise_broadcast_error(exc, a, b)
        return first._make(binary_layout(a._backend, native, a._data, other_data))  # as PyTorch's TensorIterator

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _generated_doc(name, takes_out=True)
    return op


bitwise_and = _bitwise("bitwise_and", logical_and, lambda a, b: a & b)
bitwise_or = _bitwise("bitwise_or", logical_or, lambda a, b: a | b)
bitwise_xor = _bitwise("bitwise_xor", logical_xor, lambda a, b: a ^ b)

subtract = renamed(sub, "subtract")
multiply = renamed(mul, "multiply")
divide = renamed(div, "divide")
negative = renamed(neg, "negative")


def true_divide(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """``input / other``, always true division: :func:`div` without ``rounding_mode`` (which this alias
    of it refuses, as PyTorch's does).

    Args:
        input (Tensor or Number): the dividend.
        other (Tensor or Number): the divisor.
        out (Tensor, optional): the output tensor. Default: ``None``.

    Example::

        >>> ember.true_divide(ember.tensor([1, 3]), 2)
        tensor([0.5000, 1.5000])
    """
    return div(input, other, out=out)


def _comparable(other):
    """Whether ``==``/``!=`` compare elementwise: a tensor, a number or a NumPy array, as in PyTorch."""
    return isinstance(other, (Tensor, np.ndarray)) or is_scalar(other)


def result_type(tensor1: Tensor | Number, tensor2: Tensor | Number) -> dtypes.dtype:
    """The dtype an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or numbers) returns, by PyTorch's type
    promotion rules.

    Args:
        tensor1 (Tensor or Number): the first operand.
        tensor2 (Tensor or Number): the second operand.

    Example::

        >>> ember.result_type(ember.tensor([1, 2], dtype=ember.int32), 1.0)
        ember.float32
        >>> ember.result_type(ember.tensor([1, 2], dtype=ember.int32), ember.tensor([1], dtype=ember.int64))
        ember.int64
    """
    if type(tensor1) is Tensor and type(tensor2) is Tensor and tensor1._data.dtype is tensor2._data.dtype:
        return tensor1._backend._ember[tensor1._data.dtype]  # one type: no groups to weigh
    groups: tuple[list[dtypes.dtype], list[dtypes.dtype], list[dtypes.dtype]] = ([], [], [])
    for value in (tensor1, tensor2):
        if isinstance(value, Tensor):
            groups[0 if value.ndim else 1].append(value.dtype)
        elif is_scalar(value):
            groups[2].append(dtypes.scalar_dtype(value))
        else:
            raise TypeError(f"result_type(): expected a Tensor or a number, got {type(value).__name__}")
    return dtypes.result_type(*groups)


__all__.append("result_type")  # a function only, not a Tensor method (as in PyTorch)
