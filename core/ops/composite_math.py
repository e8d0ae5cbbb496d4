"""Element-wise math composed from the backend primitives, so that every backend has it:
inverse hyperbolic functions, exp2, erfc, fmax/fmin, logaddexp/logaddexp2, hypot, logit,
xlogy, sinc, deg2rad/rad2deg, heaviside, copysign, signbit, sgn, fix, positive, rsub.

Each op follows PyTorch's definition, including its values and gradients at the edges
(``sinc(0) == 1`` with gradient 0, ``xlogy(0, y) == 0``, NaN handling of ``fmax``/``fmin``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_names import type_name
from ..unstrided import UnstridedTensor, by_layout
from . import complex_math
from .arithmetic import (  # noqa: A004
    _Binary,
    _Pointwise,
    _unary,
    abs,
    float32_via_float64,
    result_type,
    sign,
    sub,
    trunc,
    where,
)
from .comparison import _TORCH_NAMES
from .complex_views import complex_sgn
from .dtype_support import FLOAT8, not_implemented, refuse_limited
from .operands import (
    as_tensor_arg,
    is_scalar,
    named_node,
    promote,
    promote_floating,
    require_tensors,
    sum_to,
    tensor_input,
    tensor_input_checked,
)
from .out_argument import write_out
from .reduced_precision import opmath
from .result_layout import composite_in_operands_layout
from .special import _erfc, _in_float64

if TYPE_CHECKING:
    from ..types import Number

__all__ = [
    "acosh", "arccosh", "asinh", "arcsinh", "atanh", "arctanh", "exp2", "erfc", "fmax", "fmin",
    "logaddexp", "logaddexp2", "hypot", "logit", "xlogy", "sinc", "deg2rad", "rad2deg", "heaviside",
    "copysign", "signbit", "sgn", "fix", "positive", "rsub",
]  # fmt: skip

_LN2 = math.log(2.0)
_BIG = 2.0**28  # beyond it x*x + 1 == x*x in double precision: asinh(x) = log(2x)
_SQRT_PI = math.sqrt(math.pi)


def _asinh(b, x):
    xp = b.xp
    if x.dtype.kind == "c":
        return xp.asinh(x)
    a = xp.abs(x)
    small = xp.log1p(a + a * a / (1 + xp.sqrt(1 + a * a)))
    y = xp.where(a > _BIG, xp.log(a) + _LN2, small)
    return xp.where(x == 0, x, xp.where(x < 0, -y, y))  # -0.0 keeps its sign


def _acosh(b, x):
    xp = b.xp
    if x.dtype.kind == "c":
        return xp.acosh(x)
    t = x - 1
    value = xp.where(x > _BIG, xp.log(x) + _LN2, xp.log1p(t + xp.sqrt(t * (x + 1))))
    # below -1 the product under the root is positive too: NaN there by hand, as outside [-1, 1)
    return xp.where(x < -1, xp.full(x.shape, math.nan, dtype=x.dtype), value)


def _atanh(b, x):
    """``log1p(2a / (1 - a)) / 2`` of ``a = |x|``, the sign restored: for a negative ``x`` near -1 the
    quotient would be near -1, where log1p magnifies its rounding (``atanh(-1 + 1e-7)`` lost 5 digits)."""
    xp = b.xp
    if x.dtype.kind == "c":
        return xp.atanh(x)
    a = xp.abs(x)
    y = 0.5 * xp.log1p(xp.divide(2 * a, 1 - a))
    return xp.where(x == 0, x, xp.where(x < 0, -y, y))  # -0.0 keeps its sign


asinh = _unary("asinh", _asinh, lambda x, y: (x * x + 1).rsqrt())


def _acosh_derivative(x, y):
    """``1 / sqrt(x^2 - 1)``; for complex ``x`` as ``1 / (sqrt(x - 1) sqrt(x + 1))``, the branch of acosh's."""
    if x.dtype.is_complex:
        return (x - 1).rsqrt() * (x + 1).rsqrt()
    return ((x - 1) * (x + 1)).rsqrt()


acosh = _unary("acosh", _acosh, _acosh_derivative)
atanh = _unary("atanh", _atanh, lambda x, y: (1 - x * x).reciprocal())


def _exp2(b, x):
    """``2 ** x``; of a complex number ``exp(x ln 2)`` with both parts scaled by the real ``ln 2`` (a
    complex power or product would make ``exp2(inf + 0j)`` into ``inf + nan j``, PyTorch's ``inf + 0j``)."""
    if x.dtype.kind != "c":
        return b.xp.pow(2.0, x)
    parts = b.view_as_real(x, x.real.dtype) * _LN2
    return b.xp.exp(b.view_as_complex(parts, x.dtype))


exp2 = _unary("exp2", _exp2, lambda x, y: y * _LN2, saves="y")
erfc = _unary(
    "erfc",
    _in_float64(_erfc),  # float32's fraction from 1 and 1 - erf below were up to 16 ulps off
    lambda x, y: (-(x * x)).exp() * (-2.0 / _SQRT_PI),
    complex_error="\"erfc_vml_cpu\" not implemented for '{}'",
)
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _as_tensors(op, input, other):
    """Both operands as tensors on one device (a number becomes a 0-d tensor of its own type)."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(f"{op}(): expected at least one Tensor argument")
        input = as_tensor_arg(op, input, other)
    if not isinstance(other, Tensor):
        other = as_tensor_arg(op, other, input)
    return input, other


def _tensor_pair(op, input, other):
    """Both operands as tensors on one device, promoted to their common dtype."""
    a, b, _ = promote(op, *_as_tensors(op, input, other))
    return a, b


def fmax(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Element-wise maximum that ignores NaN: the other value where one of them is NaN.

    The gradient goes to ``input`` where ``input >= other`` (or ``other`` is NaN), else to ``other``.

    Example::

        >>> ember.fmax(ember.tensor([1.0, float("nan")]), ember.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    require_tensors("fmax", ("input", "other"), input, other)
    if out is not None:
        return write_out("fmax", fmax(input, other), out)
    a, b = _tensor_pair("fmax", input, other)
    if a.dtype.is_complex:
        raise RuntimeError("fmax not implemented for complex tensors.")
    return named_node(where((a >= b) | b.isnan(), a, b), "FmaxBackward0")


def fmin(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Element-wise minimum that ignores NaN (see :func:`fmax`).

    Example::

        >>> ember.fmin(ember.tensor([1.0, float("nan")]), ember.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    require_tensors("fmin", ("input", "other"), input, other)
    if out is not None:
        return write_out("fmin", fmin(input, other), out)
    a, b = _tensor_pair("fmin", input, other)
    if a.dtype.is_complex:
        raise RuntimeError("fmin not implemented for complex tensors.")
    return named_node(where((a <= b) | b.isnan(), a, b), "FminBackward0")


class _LogAddExp(_Binary):
    """``log(exp(a) + exp(b))`` without overflow; the gradients are the softmax weights."""

    _backward_name = "LogaddexpBackward0"

    saves = 2  # the operands, as PyTorch's LogaddexpBackward0 saves

    @classmethod
    def values(cls, backend, a, b):
        if a.dtype.kind == "c":
            return complex_math.log_add_exp(backend, a, b)
        return cls.compute(backend.xp, a, b)

    @staticmethod
    def compute(xp, a, b):
        big = xp.maximum(a, b)
        # equal operands (infinities included) give a + log 2 without an inf - inf
        return xp.where(a == b, xp.add(a, _LN2), xp.add(big, xp.log1p(xp.exp(-xp.abs(xp.subtract(a, b))))))

    @staticmethod
    def gradients(ctx, g):
        a, b, _ = ctx.saved_tensors
        # PyTorch's formulas, g / (1 + exp(b - a)) (conjugated for complex): exact where
        # a - z rounds to 0 (|a| ~ 1e20) and 1 beside an infinite operand, where exp(a - z) is NaN
        if g.dtype.is_complex:
            return g / (1 + (b - a).exp()).conj(), g / (1 + (a - b).exp()).conj()
        return g / (1 + (b - a).exp()), g / (1 + (a - b).exp())


def _floating_pair(op, input, other):
    """Both operands as tensors on one device, promoted to their common floating-point dtype."""
    a, b, _ = promote_floating(op, *_as_tensors(op, input, other))
    if a.dtype.is_complex:
        not_implemented(f"{op}_cpu", a.dtype)
    return a, b


def _floating_only(op, input, other, complex_kernel=False):
    a, b = _tensor_pair(op, input, other)
    if not (a.dtype.is_floating_point or complex_kernel and a.dtype.is_complex):
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{_TORCH_NAMES[a.dtype.name]}'")
    return a, b


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log(exp(input) + exp(other))``, computed without overflow.

    Example::

        >>> ember.logaddexp(ember.tensor([0.0, 1000.0]), ember.tensor([0.0, 1000.0]))
        tensor([6.9315e-01, 1.0007e+03])
    """
    require_tensors("logaddexp", ("input", "other"), input, other)
    if out is not None:
        return write_out("logaddexp", logaddexp(input, other), out)
    return _LogAddExp.apply(*_floating_only("logaddexp", input, other, complex_kernel=True))


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log2(2**input + 2**other)``, computed without overflow.

    Example::

        >>> ember.logaddexp2(ember.tensor([1.0]), ember.tensor([1.0]))
        tensor([2.])
    """
    require_tensors("logaddexp2", ("input", "other"), input, other)
    if out is not None:
        return write_out("logaddexp2", logaddexp2(input, other), out)
    a, b = _floating_only("logaddexp2", input, other)
    return named_node(_LogAddExp.apply(a * _LN2, b * _LN2) / _LN2, "Logaddexp2Backward0")


class _Hypot(_Binary):
    saves = 3
    keeps = staticmethod(lambda needs: needs[:2])  # each operand for its own gradient, as PyTorch saves them

    @classmethod
    def values(cls, backend, a, b):
        return float32_via_float64(backend, cls.compute, a, b)

    @staticmethod
    def compute(xp, a, b):
        big = xp.maximum(xp.abs(a), xp.abs(b))
        small = xp.minimum(xp.abs(a), xp.abs(b))
        a_inf, b_inf = xp.isinf(a), xp.isinf(b)  # an infinite operand gives inf, beside NaN or inf too (C's hypot)
        ratio = small / xp.where((big == 0) | a_inf | b_inf, 1, big)
        value = big * xp.sqrt(1 + ratio * ratio)  # no overflow where a*a + b*b would
        return xp.where(a_inf | b_inf, xp.abs(xp.where(a_inf, a, b)), value)

    @staticmethod
    def gradients(ctx, g):
        # PyTorch's grad * operand / result: NaN at hypot(0, 0) (0 / 0) and beside an infinite operand
        a, b, z = ctx.saved_tensors
        return tuple(None if v is None else g * v / z for v in (a, b))


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``sqrt(input**2 + other**2)`` element-wise, without intermediate overflow.

    Example::

        >>> ember.hypot(ember.tensor([3.0]), ember.tensor([4.0]))
        tensor([5.])
    """
    require_tensors("hypot", ("input", "other"), input, other)
    if out is not None:
        return write_out("hypot", hypot(input, other), out)
    a, b = _tensor_pair("hypot", input, other)
    if not a.dtype.is_floating_point:
        not_implemented("hypot_cpu", a.dtype)
    return _Hypot.apply(a, b)


@tensor_input
def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``.

    Example::

        >>> ember.logit(ember.tensor([0.5, 0.75]))
        tensor([0.0000, 1.0986])
    """
    if out is not None:
        return write_out("logit", logit(input, eps), out)

    if input.dtype.is_complex:
        not_implemented("logit_cpu", input.dtype)
    x = input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())
    if eps is not None:
        x = x.clamp(eps, 1 - eps)  # the gradient 0 outside [eps, 1 - eps], as PyTorch's
    return _Logit.apply(x)


class _Logit(_Pointwise):
    gradient_in_float32 = False  # PyTorch's logit_backward rounds x * (1 - x) to the 16-bit type

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return cls.value(x)  # in float16 too the ratio is rounded to the input's type, as PyTorch's kernel

    @staticmethod
    def value(x):
        return (x / (1 - x)).log()

    @staticmethod
    def gradient(x, grad):
        # PyTorch's logit_backward without eps: NaN outside [0, 1], where the value is NaN; the NaN divides
        # grad (not replaces it), so that forward mode's tangent (the derivative in grad) is NaN there too
        return grad / where((x < 0) | (x > 1), math.nan, x * (1 - x))


def xlogy(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, taken as 0 where ``input == 0`` (NaN where ``other`` is NaN).

    Example::

        >>> ember.xlogy(ember.tensor([0.0, 2.0]), ember.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    if out is not None:
        return write_out("xlogy", xlogy(input, other), out)
    return xlogy_nodes(_XLOGY_NODES, input, other).apply(*_floating_pair("xlogy", input, other))


def xlogy_nodes(nodes: tuple[Any, Any, Any], input: Any, other: Any) -> Any:
    """The node of ``xlogy``/``xlog1py`` PyTorch's overload names: ``nodes[0]`` for two tensors, ``nodes[1]``
    for a number ``input``, ``nodes[2]`` for a number ``other``."""
    return nodes[1] if not isinstance(input, Tensor) else nodes[0] if isinstance(other, Tensor) else nodes[2]


class _XLogY(_Binary):
    """``a * log(b)`` (``log1p`` in the subclass), 0 where ``a == 0`` and NaN where ``b`` is; PyTorch's
    gradients: ``xlogy(g, b)``, zeroed where ``a == 0`` and ``b`` is outside the log's domain, and
    ``g * a / b`` (NaN at ``a == b == 0``)."""

    _backward_name = "XlogyBackward0"
    saves = 2
    log, edge = "log", 0  # the function of b, and the end of its domain

    @classmethod
    def compute(cls, xp, a, b):
        return cls._combine(xp, a, b, cls._log(xp, a, b))

    @classmethod
    def _log(cls, xp, a, b):
        return getattr(xp, cls.log)(xp.where(a == 0, 1 - cls.edge, b))  # (b where a is 0 is not read)

    @staticmethod
    def _combine(xp, a, b, log_b):
        value = xp.where(a == 0, 0, a * log_b)  # a +0.0 for -0.0
        return xp.where(xp.isnan(b), b, value)

    @classmethod
    def narrow_values(cls, a, data, other):
        """A 16-bit operand: PyTorch's kernel takes ``log(b)`` in the 16-bit type (c10's log of a reduced
        floating type returns that type), then the product in float32, rounded again: ``xlogy(3, 2.5)`` in
        float16 is 2.75, not 2.748 (3 log 2.5 rounded once)."""
        xp = a._backend.xp
        log_b = opmath(a, lambda x, y: cls._log(xp, x, y), data, other, round_numbers=True)
        return opmath(a, lambda x, y, lb: cls._combine(xp, x, y, lb), data, other, log_b, round_numbers=True)

    @classmethod
    def gradients(cls, ctx, g):
        a, b, _ = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = cls.apply(g, b).masked_fill((a == 0) & (b <= cls.edge), 0)
        if ctx.needs_input_grad[1]:
            gb = g * a / (b - cls.edge)
        return ga, gb


class _XLogYScalarSelf(_XLogY):
    _backward_name = "XlogyBackward1"


class _XLogYScalarOther(_XLogY):
    _backward_name = "XlogyBackward2"


_XLOGY_NODES = (_XLogY, _XLogYScalarSelf, _XLogYScalarOther)


@tensor_input
def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalised sinc, ``sin(pi x) / (pi x)``, with ``sinc(0) = 1``.

    Example::

        >>> ember.sinc(ember.tensor([0.0, 0.5]))
        tensor([1.0000, 0.6366])
    """
    if out is not None:
        return write_out("sinc", sinc(input), out)
    x = input if input.dtype._category >= 2 else input.to(dtypes.get_default_dtype())
    return _Sinc.apply(x)


class _Sinc(_Pointwise):
    gradient_in_float32 = False  # PyTorch's sinc_backward is a formula of 16-bit tensor operations

    @staticmethod
    def value(x):
        zero = x == 0
        scaled = where(zero, x * 0 + 1, x) * math.pi
        return where(zero, x * 0 + 1, scaled.sin() / scaled)

    @staticmethod
    def gradient(x, grad):
        # PyTorch's sinc_backward: grad times the derivative, and exactly 0 where pi x^2 is 0
        scaled = x * math.pi
        square = x * x * math.pi
        out = grad * ((scaled * scaled.cos() - scaled.sin()) / square).conj()
        return where(square == 0, grad.new_zeros(()), out)


def _angle_units(op: str, input: Tensor) -> Tensor:
    """``input`` as the floating tensor ``deg2rad``/``rad2deg`` scale; PyTorch's error for complex ones."""
    if input.dtype.is_complex:
        raise RuntimeError(f"{op} is not supported for complex tensors.")
    return input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())


@tensor_input
def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Degrees to radians.

    Example::

        >>> ember.deg2rad(ember.tensor([180.0]))
        tensor([3.1416])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("deg2rad", input)
    if out is not None:
        return write_out("deg2rad", deg2rad(input), out)
    return named_node(_angle_units("deg2rad", input) * (math.pi / 180.0), "Deg2RadBackward0")


@tensor_input
def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Radians to degrees.

    Example::

        >>> ember.rad2deg(ember.tensor([math.pi]))
        tensor([180.])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("rad2deg", input)
    if out is not None:
        return write_out("rad2deg", rad2deg(input), out)
    return named_node(_angle_units("rad2deg", input) * (180.0 / math.pi), "Rad2DegBackward0")


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Heaviside step: 0 where ``input < 0``, ``values`` where ``input == 0``, 1 where ``input > 0``.

    Example::

        >>> ember.heaviside(ember.tensor([-1.0, 0.0, 2.0]), ember.tensor([0.5]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    if out is not None:
        return write_out("heaviside", heaviside(input, values), out, exact_dtype=True)
    require_tensors("heaviside", ("input", "values"), input, values)
    if input.dtype.is_complex or values.dtype.is_complex:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    x = input.detach()
    return where(x == 0, values.detach(), (x > 0).to(input.dtype))


@tensor_input
def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0).

    Example::

        >>> ember.signbit(ember.tensor([-1.0, -0.0, 0.0, 2.0]))
        tensor([ True,  True, False, False])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("signbit", input)
    if out is not None:
        return write_out("signbit", signbit(input), out, exact_dtype=True)
    x = input.detach()
    refuse_limited("signbit_cpu", x, among=FLOAT8)
    if not x.dtype.is_floating_point:  # an unsigned type has no sign bit (and uint16/32/64 no order): all False
        return x < 0 if x.dtype.is_signed else x != x
    return (x < 0) | ((x == 0) & (x.reciprocal() < 0))


def copysign(input: Tensor, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """``|input|`` with the sign of ``other`` (its sign bit, so -0.0 counts as negative).

    Example::

        >>> ember.copysign(ember.tensor([1.0, 2.0]), ember.tensor([-0.0, 3.0]))
        tensor([-1.,  2.])
    """
    require_tensors("copysign", ("input",), input)
    if out is not None:
        return write_out("copysign", copysign(input, other), out)
    if isinstance(other, complex) or input.dtype.is_complex or isinstance(other, Tensor) and other.dtype.is_complex:
        not_implemented("copysign_cpu", result_type(input, other))
    a, b = _floating_pair("copysign", input, other) if not is_scalar(other) else (input, other)
    if is_scalar(b):
        if not a.dtype.is_floating_point:
            a = a.to(dtypes.get_default_dtype())
        negative = math.copysign(1.0, b) < 0
        # PyTorch wraps the number: TensorIterator's ordered layout over ``a`` and a 0-d operand
        return named_node(composite_in_operands_layout(-abs(a) if negative else abs(a), a, b), "CopysignBackward1")
    x, y = a.detach(), b.detach()  # type: ignore[union-attr]
    result = composite_in_operands_layout(where(signbit(y), -abs(x), abs(x)), x, y)
    return _Copysign.apply(a, b, result._data)


class _Copysign(Function):
    """The node of ``copysign(a, b)`` (its values computed already: the native array ``values``): PyTorch's
    gradients, ``z / a`` (0 where ``a`` is 0; NaN where it is infinite or NaN) for ``a``, zeros for ``b``."""

    _backward_name = "CopysignBackward0"

    @staticmethod
    def forward(ctx, a, b, values):
        z = a._make(values)
        ctx.save_for_backward(a, z)
        ctx.save_for_forward(a, z)
        ctx.b_shape = tuple(b.shape)
        return z

    @staticmethod
    def jvp(ctx, da, db, _):
        a, z = ctx.saved_tensors
        return da * where(a == 0, a.new_zeros(()), z / a)

    @staticmethod
    def backward(ctx, g):
        a, z = ctx.saved_tensors
        ratio = where(a == 0, a.new_zeros(()), z / a)
        return sum_to(g * ratio, tuple(a.shape)), g.new_zeros(ctx.b_shape), None


@tensor_input
def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The sign of each element: :func:`sign` for real tensors, ``input / |input|`` (0 at 0) for
    complex ones.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.sgn(ember.tensor([-2.5, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
        >>> ember.sgn(ember.tensor([3 + 4j, 0j]))
        tensor([0.6000+0.8000j, 0.0000+0.0000j])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("sgn", input)
    if out is not None:
        return write_out("sgn", sgn(input), out, exact_dtype=True)

    if input.dtype.is_complex:
        return named_node(complex_sgn(input), "SgnBackward0")
    return named_node(sign(input), "SgnBackward0")


def fix(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Rounds every element of ``input`` toward zero: an alias of :func:`trunc`.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fix(ember.tensor([1.7, -1.7, 2.0]))
        tensor([ 1., -1.,  2.])
    """
    if out is not None:
        return write_out("fix", fix(input), out, exact_dtype=True)
    return trunc(input)


@tensor_input_checked
def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+input``); an error for bool tensors, as in PyTorch.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([-1.0, 2.0])
        >>> ember.positive(x) is x
        True
    """
    if input.dtype is dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def rsub(input: Tensor, other: Tensor | Number, *, alpha: Number = 1) -> Tensor:
    """``other - alpha * input`` (subtraction with the operands reversed).

    Example::

        >>> ember.rsub(ember.tensor([1.0, 2.0]), 5.0)
        tensor([4., 3.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rsub(): argument 'input' must be Tensor, not {type_name(input)}")
    if is_scalar(other):  # a weak operand, as in ``other - input``: ``rsub(int32, 0)`` is int32
        return sub(other, input, alpha=alpha)
    return named_node(sub(as_tensor_arg("rsub", other, input), input, alpha=alpha), "RsubBackward0")
