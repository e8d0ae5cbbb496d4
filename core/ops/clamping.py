"""More element-wise ops: nan_to_num, clamp_min, clamp_max, float_power, bitwise_not."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import dtypes
from ..tensor import Tensor
from ..type_names import type_name
from ..typeinfo import finfo
from ..unstrided import UnstridedTensor, by_layout, is_strided
from .arithmetic import (  # noqa: A004
    _ClampMax,
    _ClampMaxTensor,
    _ClampMin,
    _ClampMinTensor,
    clamp_with_nodes,
    pow,
    where,
)
from .complex_views import complex as complex_from_parts
from .dtype_support import FLOAT8, UNSIGNED_WIDE, not_implemented, refuse_limited
from .movement import laid_out_like
from .operands import invalid_combination, named_node, tensor_input
from .out_argument import write_out

if TYPE_CHECKING:
    from ..types import Number

__all__ = ["nan_to_num", "clamp_min", "clamp_max", "float_power", "bitwise_not"]


def nan_to_num(
    input: Tensor,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the dtype's extremes).

    Args:
        input (Tensor): the input.
        nan (float, optional): the value for NaNs. Default: 0.0
        posinf (float, optional): the value for +inf. Default: the largest finite value.
        neginf (float, optional): the value for -inf. Default: the most negative finite value.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.nan_to_num(ember.tensor([float("nan"), 1.0]))
        tensor([0., 1.])
    """
    refuse_limited("nan_to_num", input, among=FLOAT8)
    if out is not None:
        return write_out("nan_to_num", nan_to_num(input, nan, posinf, neginf), out, exact_dtype=True)
    if not is_strided(input):
        if isinstance(input, UnstridedTensor):  # a sparse or nested tensor: its layout's op
            return by_layout("nan_to_num", input, nan, posinf, neginf)
        raise TypeError(f"nan_to_num(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if input.dtype.is_complex:  # the real and imaginary parts, each on its own
        parts = (nan_to_num(part, nan, posinf, neginf) for part in (input.real, input.imag))
        return complex_from_parts(*parts)
    if not input.dtype.is_floating_point:
        return input.clone()
    info = finfo(input.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    nan, posinf, neginf = (_cast_to(value, info) for value in (nan, posinf, neginf))
    x = input.detach()
    out = where(x.isnan(), x.new_full((), nan), input)
    out = where(x == float("inf"), x.new_full((), posinf), out)
    out = where(x == float("-inf"), x.new_full((), neginf), out)
    if 0 in input.shape:  # PyTorch's result is empty_like(input), whose strides an empty input's layout keeps
        out = laid_out_like(out, input)
    return named_node(out, "NanToNumBackward0")


def _cast_to(value: float, info: Any) -> float:
    """``value`` as a cast to the floating type of ``info`` (its finfo) makes it, as PyTorch casts nan_to_num's
    replacements, unchecked: past the largest finite value infinite (once it would not round down to it)."""
    v = float(value)
    if not math.isfinite(v) or abs(v) <= info.max:
        return v
    threshold = info.max + info.max / (2 - info.eps) * info.eps / 2  # halfway to the next power of two
    return math.copysign(math.inf if abs(v) >= threshold else info.max, v)


def _refuse_non_tensor(op: str, input: Any, name: str, bound: Any) -> None:
    """PyTorch's TypeError for ``clamp_min``/``clamp_max`` (``op``) of an ``input`` that is no tensor
    (``clamp_min(2, x)``): none of its overloads, which ``name`` their ``bound``, takes one."""
    if not isinstance(input, Tensor):
        signatures = tuple(f"Tensor input, {kind} {name}, *, Tensor out = None" for kind in ("Tensor", "Number"))
        raise invalid_combination(op, (input, bound), {}, signatures)


def clamp_min(input: Tensor, min: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``max(input, min)`` element-wise (:func:`clamp` with only a lower bound).

    .. math::
        out_i = max(input_i, min)

    Args:
        input (Tensor): the input tensor.
        min (Number or Tensor): the lower bound.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.clamp_min(ember.tensor([-2.0, 0.5, 3.0]), 0.0)
        tensor([0.0000, 0.5000, 3.0000])
    """
    if out is not None:
        return write_out("clamp_min", clamp_min(input, min), out, exact_dtype=True)
    if isinstance(min, Tensor) and isinstance(input, Tensor) and input.dtype.is_complex:
        not_implemented("maximum_cpu", input.dtype)  # PyTorch's kernel of a tensor bound
    _refuse_non_tensor("clamp_min", input, "min", min)
    return clamp_with_nodes(input, min, None, _ClampMin, _ClampMinTensor)


def clamp_max(input: Tensor, max: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``min(input, max)`` element-wise (:func:`clamp` with only an upper bound).

    .. math::
        out_i = min(input_i, max)

    Args:
        input (Tensor): the input tensor.
        max (Number or Tensor): the upper bound.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.clamp_max(ember.tensor([-2.0, 0.5, 3.0]), 1.0)
        tensor([-2.0000,  0.5000,  1.0000])
    """
    if out is not None:
        return write_out("clamp_max", clamp_max(input, max), out, exact_dtype=True)
    if isinstance(max, Tensor) and isinstance(input, Tensor) and input.dtype.is_complex:
        not_implemented("minimum_cpu", input.dtype)  # PyTorch's kernel of a tensor bound
    _refuse_non_tensor("clamp_max", input, "max", max)
    return clamp_with_nodes(input, None, max, _ClampMax, _ClampMaxTensor)


def float_power(
    input: Tensor | Number | complex, exponent: Tensor | Number | complex, *, out: Tensor | None = None
) -> Tensor:
    """``input ** exponent`` computed in float64 (both operands are cast to double), or in complex128
    where either operand is complex.

    Example::

        >>> ember.float_power(ember.tensor([2]), 2)
        tensor([4.], dtype=ember.float64)
        >>> ember.float_power(ember.tensor([2]), 1j).dtype
        ember.complex128
    """
    if out is not None:
        return write_out("float_power", float_power(input, exponent), out, exact_dtype=True)

    operands = (input, exponent)
    complex_ = any(isinstance(v, complex) or isinstance(v, Tensor) and v.dtype.is_complex for v in operands)
    wide = dtypes.complex128 if complex_ else dtypes.float64
    number: Any = complex if complex_ else float
    if isinstance(input, Tensor):
        return pow(input.to(wide), exponent.to(wide) if isinstance(exponent, Tensor) else number(exponent))
    if not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected a Tensor as input or exponent")
    return pow(number(input), exponent.to(wide))


@tensor_input
def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Bitwise NOT of an integer tensor; logical NOT of a bool tensor.

    .. math::
        out_i = ~input_i

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.bitwise_not(ember.tensor([0, 5, -3]))
        tensor([-1, -6,  2])
        >>> ember.bitwise_not(ember.tensor([True, False]))
        tensor([False,  True])
    """
    refuse_limited("bitwise_not_cpu", input, among=UNSIGNED_WIDE)
    if out is not None:
        return write_out("bitwise_not", bitwise_not(input), out, exact_dtype=True)
    if input.dtype is dtypes.bool:
        return input.logical_not()
    if input.dtype.is_floating_point or input.dtype.is_complex:
        not_implemented("bitwise_not_cpu", input.dtype)
    return input._make(~input._data)
