"""Element-wise tests of values and integer arithmetic composed from the primitives: ``isin``,
``isneginf``, ``isposinf``, ``isreal``; ``gcd``, ``lcm``, ``ldexp``, ``frexp``."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autograd.grad_mode import grad_state
from ..return_types import _return_type
from ..tensor import Tensor
from ..typeinfo import finfo
from ..unstrided import UnstridedTensor, by_layout
from .arithmetic import pow, where
from .comparison import _TORCH_NAMES
from .dtype_support import TORCH_NAMES, not_implemented
from .operands import as_tensor_arg, is_scalar, promote, require_tensors, tensor_input
from .out_argument import write_out
from .slicing_joining import searchsorted

__all__ = ["isin", "isneginf", "isposinf", "isreal", "gcd", "lcm", "ldexp", "frexp", "nextafter"]

frexp_result = _return_type("frexp", ("mantissa", "exponent"))
_EUCLID_STEPS = {1: 12, 2: 24, 4: 48, 8: 94}  # Euclid's worst case (Fibonacci pairs) per integer width


def isin(
    elements: Tensor | int | float,
    test_elements: Tensor | int | float,
    *,
    assume_unique: bool = False,
    invert: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements``.

    Args:
        elements (Tensor or Number): the values to look up.
        test_elements (Tensor or Number): the values to look for.
        assume_unique (bool): accepted for PyTorch compatibility. Default: ``False``.
        invert (bool): return the opposite (not in). Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.isin(ember.tensor([[1, 2], [3, 4]]), ember.tensor([2, 3]))
        tensor([[False,  True],
                [ True, False]])
    """
    if out is not None:
        return write_out(
            "isin", isin(elements, test_elements, assume_unique=assume_unique, invert=invert), out, exact_dtype=True
        )
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one argument must be a Tensor")
    a = elements if isinstance(elements, Tensor) else as_tensor_arg("isin", elements, test_elements)
    b = test_elements if isinstance(test_elements, Tensor) else as_tensor_arg("isin", test_elements, a)
    for value, t in ((elements, a), (test_elements, b)):  # complex numbers have no order to search
        if t.dtype is dtypes.bool or t.dtype.is_complex:  # (a complex number is PyTorch's complex128 scalar)
            name = "ComplexDouble" if t.dtype.is_complex and is_scalar(value) else TORCH_NAMES[t.dtype]
            raise RuntimeError(f"Unsupported input type encountered for isin(): {name}")
    # a number is a weak operand, cast (wrapping) to the tensor's type: isin(uint8 tensor, 300) looks for 44
    if is_scalar(elements) or is_scalar(test_elements):
        tensor_type, number_type = (b.dtype, a.dtype) if is_scalar(elements) else (a.dtype, b.dtype)
        common = dtypes.result_type([tensor_type], [], [number_type])
    else:
        common = dtypes.promote_types(a.dtype, b.dtype)
    values, pool = a.to(common), b.to(common).reshape(-1)
    if pool.numel() == 0:
        found = values.new_zeros(values.shape, dtype=dtypes.bool)
    else:
        ordered = pool.sort().values
        position = searchsorted(ordered, values.reshape(-1)).clamp_max(ordered.shape[0] - 1)
        found = (ordered[position] == values.reshape(-1)).reshape(values.shape)
    return ~found if invert else found


@tensor_input
def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Whether each element is negative infinity.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.isneginf(ember.tensor([-float('inf'), float('inf'), 1.0]))
        tensor([ True, False, False])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("isneginf", input)
    if out is not None:
        return write_out("isneginf", isneginf(input), out, exact_dtype=True)
    return _equals(input, -math.inf)


@tensor_input
def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Whether each element is positive infinity.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.isposinf(ember.tensor([-float('inf'), float('inf'), 1.0]))
        tensor([False,  True, False])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("isposinf", input)
    if out is not None:
        return write_out("isposinf", isposinf(input), out, exact_dtype=True)
    return _equals(input, math.inf)


def _equals(input: Tensor, infinity: float) -> Tensor:
    """``input == infinity``; all False for a dtype without infinities (no comparison made)."""
    if input.dtype.is_complex:  # an infinite complex number has no sign
        raise RuntimeError(f"{'isposinf' if infinity > 0 else 'isneginf'} does not support complex inputs.")
    if not input.dtype.is_floating_point:
        return input.new_zeros(input.shape, dtype=dtypes.bool)
    return input == infinity


@tensor_input
def isreal(input: Tensor) -> Tensor:
    """Whether each element is real: its imaginary part is 0 (every element of a real tensor is).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.isreal(ember.tensor([1.0, 2.0]))
        tensor([True, True])
        >>> ember.isreal(ember.tensor([1 + 0j, 2j]))
        tensor([ True, False])
    """
    if input.dtype.is_complex:
        return input.imag == 0
    return input.new_ones(input.shape, dtype=dtypes.bool)


def _integer_pair(op: str, input: Tensor | int, other: Tensor | int) -> tuple[Tensor, Tensor]:
    if not isinstance(input, Tensor):
        input = as_tensor_arg(op, input, other)
    a, b, common = promote(op, input, other)
    if common._category >= 2 or common is dtypes.bool:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{_TORCH_NAMES[common.name]}'")
    if not isinstance(b, Tensor):
        b = a.new_full((), b)
    return a, b


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The greatest common divisor of each pair of integers (non-negative; ``gcd(0, 0) = 0``).

    Args:
        input (Tensor): an integer tensor.
        other (Tensor): an integer tensor, broadcast against ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.gcd(ember.tensor([0, -4, 6]), ember.tensor([0, 6, -9]))
        tensor([0, 2, 3])
    """
    require_tensors("gcd", ("input", "other"), input, other)
    if out is not None:
        return write_out("gcd", gcd(input, other), out)
    a, b = _integer_pair("gcd", input, other)
    a, b = a.abs(), b.abs()
    for _ in range(_EUCLID_STEPS[a.dtype.itemsize]):  # fixed count: no host synchronisation
        zero = b == 0
        a, b = where(zero, a, b), where(zero, b, a % where(zero, b.new_ones(()), b))
    return a


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The least common multiple of each pair of integers (non-negative; 0 if either is 0).

    Args:
        input (Tensor): an integer tensor.
        other (Tensor): an integer tensor, broadcast against ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.lcm(ember.tensor([0, -4, 6]), ember.tensor([0, 6, -9]))
        tensor([ 0, 12, 18])
    """
    require_tensors("lcm", ("input", "other"), input, other)
    if out is not None:
        return write_out("lcm", lcm(input, other), out)
    a, b = _integer_pair("lcm", input, other)
    g = gcd(a, b)
    result = a.dtype
    if result.itemsize < 4:  # C++ computes a narrow type's |a / g * b| in int, wrapped once after the abs
        a, b, g = a.to(dtypes.int32), b.to(dtypes.int32), g.to(dtypes.int32)
    return where(g == 0, g, (a // where(g == 0, g.new_ones(()), g) * b).abs()).to(result)


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input * 2 ** other``: in ``input``'s type for a floating ``input`` and integer exponents (exactly, as
    C's ``ldexp``), else the product with ``2 ** other`` under type promotion (the default floating type
    for two integer tensors).

    Args:
        input (Tensor): the mantissas.
        other (Tensor): the exponents, broadcast against ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.ldexp(ember.tensor([1.0, 3.0]), ember.tensor([3, -1]))
        tensor([8.0000, 1.5000])
    """
    require_tensors("ldexp", ("input", "other"), input, other)
    if out is not None:
        return write_out("ldexp", ldexp(input, other), out)
    integral_exponent = not (other.dtype.is_floating_point or other.dtype.is_complex)
    if integral_exponent and input.dtype.is_floating_point:  # PyTorch's kernel: C's ldexp in input's type
        if other.dtype is dtypes.bool:
            not_implemented("ldexp_cpu_exp", dtypes.bool)
        exponent = other.to(dtypes.float64)
        half = (exponent / 2).floor()  # two exact steps reach exponents beyond float64's 2 ** 1023
        return (input.to(dtypes.float64) * half.exp2() * (exponent - half).exp2()).to(input.dtype)
    # PyTorch's _pow2: 2 ** other as a Python number against integral and float32 inputs, as a 0-d tensor
    # of the input's type (so promoting with other) against the others
    narrow_or_wide = input.dtype.is_floating_point and input.dtype is not dtypes.float32 or input.dtype.is_complex
    base = input.new_full((), 2.0) if narrow_or_wide else 2.0
    return input * pow(base, other)


def _scale_down(value: Tensor, exponent: Tensor) -> Tensor:
    """``value / 2 ** exponent`` in two exact steps, so that neither power overflows or goes subnormal."""
    half = (exponent / 2).floor()
    return value / half.exp2() / (exponent - half).exp2()


@tensor_input
def frexp(input: Tensor, *, out: Any = None) -> tuple[Tensor, Tensor]:
    """Each element as ``mantissa * 2 ** exponent`` with ``0.5 <= |mantissa| < 1`` (0 and non-finite
    values keep their value, exponent 0).

    Args:
        input (Tensor): a floating tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.frexp(ember.tensor([8.0, -3.0, 0.0]))
        ember.return_types.frexp(
        mantissa=tensor([ 0.5000, -0.7500,  0.0000]),
        exponent=tensor([4, 2, 0], dtype=ember.int32))
    """
    if out is not None:
        return write_out("frexp", frexp(input), out, exact_dtype=True)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"torch.frexp() only supports floating-point dtypes, but got {_TORCH_NAMES[input.dtype.name]}"
        )
    magnitude = input.abs()
    regular = (magnitude > 0) & magnitude.isfinite()
    safe = where(regular, magnitude, magnitude.new_ones(()))
    exponent = safe.log2().floor() + 1
    mantissa = _scale_down(safe, exponent)
    exponent = exponent + where(mantissa >= 1, 1, where(mantissa < 0.5, -1, 0))  # log2's rounding, in input's type
    mantissa = _scale_down(safe, exponent)
    mantissa = where(regular, mantissa * input.sign(), input)
    exponent = where(regular, exponent, exponent.new_zeros(()))
    return frexp_result(mantissa, exponent.to(dtypes.int32))


# significand bits and the exponent of the smallest subnormal, per floating dtype
_FLOAT_BITS = {"float64": (53, -1074), "float32": (24, -149), "float16": (11, -24), "bfloat16": (8, -133)}


def nextafter(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The floating-point number next to ``input`` in the direction of ``other``, element-wise.

    Args:
        input (Tensor): a floating tensor.
        other (Tensor): the direction, broadcast against ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([1.0, 1.0], dtype=ember.float64)
        >>> (ember.nextafter(x, ember.tensor([2.0, 0.0], dtype=ember.float64)) - x).tolist()
        [2.220446049250313e-16, -1.1102230246251565e-16]
    """
    require_tensors("nextafter", ("input", "other"), input, other)
    if out is not None:
        return write_out("nextafter", nextafter(input, other), out)
    if not isinstance(input, Tensor):
        input = as_tensor_arg("nextafter", input, other)
    a, b, common = promote("nextafter", input, other)
    if not common.is_floating_point:
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{_TORCH_NAMES[common.name]}'")
    b = b if isinstance(b, Tensor) else a.new_full((), b)
    digits, lowest = _FLOAT_BITS[common.name]
    mantissa, exponent = frexp(a)
    up = b > a
    away = (a > 0) == up  # moving away from zero: the spacing above |a|
    step = exponent.to(common) - digits
    step = where(~away & (mantissa.abs() == 0.5), step - 1, step)  # below a power of two the spacing halves
    ulp = step.clamp_min(lowest).exp2()
    moved = a + where(up, ulp, -ulp)
    tiny = a.new_full((), 2.0**lowest)
    moved = where(a == 0, where(up, tiny, -tiny), moved)
    largest = a.new_full((), float(finfo(common).max))
    moved = where(a.isinf(), a.sign() * largest, moved)
    # PyTorch's gradients: ``input``'s where it moves or is NaN, zeros for ``other`` (its value taken where the two
    # are equal is not differentiated)
    result = where((a == b) | a.isnan() | b.isnan(), where(a.isnan(), a, b.detach()), moved)
    if b.requires_grad and grad_state.enabled:  # other's gradient: zeros, not None
        result = where(b.new_ones((), dtype=dtypes.bool), result, b)
    return result
