"""Bitwise shifts of integer tensors (``bitwise_left_shift``, ``bitwise_right_shift``, ``<<``, ``>>``).

Built from the backend's integer products, floor divisions and gathers (the backend contract has no
shift primitive), with PyTorch's results everywhere: the bits shifted out of the type are lost
(wrap-around), a right shift of a signed value fills with its sign, and a shift by a negative amount
or by the bit width or more gives 0 (left, and right of an unsigned value) or the sign fill (right of
a signed value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tensor import Tensor, tensor
from .arithmetic import floor_divide, full_like_scalar, where
from .comparison import _TORCH_NAMES
from .operands import promote
from .out_argument import write_out

if TYPE_CHECKING:
    from ..types import Number, _dtype

__all__ = ["bitwise_left_shift", "bitwise_right_shift"]


def _operands(name: str, kernel: str, input: Tensor | Number, other: Tensor | Number) -> tuple[Tensor, Tensor, _dtype]:
    """``input`` and ``other`` promoted to their common integer type, both as tensors."""
    if not isinstance(input, Tensor):
        input = full_like_scalar(other, input)
    a, b, result = promote(name, input, other)
    if result.is_floating_point or result.is_complex or result.name == "bool":
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{_TORCH_NAMES[result.name]}'")
    if not isinstance(b, Tensor):
        b = tensor(b, dtype=result, device=a.device)
    return a, b, result


def _powers(dtype: _dtype, exponents: Tensor) -> Tensor:
    """``2 ** exponents`` in ``dtype`` (wrapped as the type holds it) for exponents in ``[0, bits)``."""
    bits = 8 * dtype.itemsize
    top = 1 << (bits - 1)
    table = [1 << k for k in range(bits - 1)] + [-top if dtype.is_signed else top]
    return tensor(table, dtype=dtype, device=exponents.device)[exponents.long()]


def bitwise_left_shift(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """Shifts the bits of the integer ``input`` left by ``other``, with broadcasting and type promotion.

    .. math::
        out_i = input_i \\ll other_i

    Bits shifted past the type's width are lost; a shift by a negative amount or by the bit width
    or more gives 0, as in PyTorch. Floating-point and bool operands raise ``NotImplementedError``.

    Args:
        input (Tensor or Number): the integer tensor to shift.
        other (Tensor or Number): the shift amounts.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.bitwise_left_shift(ember.tensor([-1, -7, 5], dtype=ember.int8), ember.tensor([1, 0, 5], dtype=ember.int8))
        tensor([ -2,  -7, -96], dtype=ember.int8)
    """
    if out is not None:
        return write_out("bitwise_left_shift", bitwise_left_shift(input, other), out)
    a, b, result = _operands("bitwise_left_shift", "lshift", input, other)
    bits = 8 * result.itemsize
    inside = (b < bits) & (b >= 0) if result.is_signed else b < bits
    return where(inside, a * _powers(result, where(inside, b, 0)), 0)


def bitwise_right_shift(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    """Shifts the bits of the integer ``input`` right by ``other`` (arithmetic shift: a signed value
    keeps its sign), with broadcasting and type promotion.

    .. math::
        out_i = input_i \\gg other_i

    A shift by a negative amount or by the bit width or more gives the sign fill (-1 for a negative
    signed value, else 0), as in PyTorch. Floating-point and bool operands raise ``NotImplementedError``.

    Args:
        input (Tensor or Number): the integer tensor to shift.
        other (Tensor or Number): the shift amounts.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.bitwise_right_shift(ember.tensor([-1, -7, 100], dtype=ember.int8), ember.tensor([1, 1, 2], dtype=ember.int8))
        tensor([-1, -4, 25], dtype=ember.int8)
    """
    if out is not None:
        return write_out("bitwise_right_shift", bitwise_right_shift(input, other), out)
    a, b, result = _operands("bitwise_right_shift", "rshift", input, other)
    bits = 8 * result.itemsize
    if result.is_signed:  # x >> (bits - 1) is the sign fill that a shift out of range gives
        amount = where((b < bits) & (b >= 0), b, bits - 1)
    else:
        inside = b < bits
        amount = where(inside, b, 0)
    half = floor_divide(amount, 2)  # two divisions by powers below 2 ** (bits - 1), which the type holds
    shifted = floor_divide(floor_divide(a, _powers(result, half)), _powers(result, amount - half))
    return shifted if result.is_signed else where(inside, shifted, 0)
