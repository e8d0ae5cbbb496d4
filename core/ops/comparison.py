"""Closeness and equality tests: ``isclose``, ``allclose``, ``equal``."""

from __future__ import annotations

from .. import dtypes
from ..meta_errors import refuse_meta
from ..tensor import Tensor
from .dtype_support import FLOAT8, TORCH_NAMES, refuse_limited
from .operands import broadcast_error, check_same_device, require_tensors
from .result_layout import in_operands_layout

__all__ = ["isclose", "allclose", "equal"]

#: dtype name -> PyTorch's ScalarType name
_TORCH_NAMES = {d.name: name for d, name in TORCH_NAMES.items()}


def _check_pair(op, input, other):
    require_tensors(op, ("input", "other"), input, other)
    check_same_device(op, input, other)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    r"""Element-wise test :math:`|input - other| \leq atol + rtol \times |other|`.

    Equal elements (infinities included) are close; NaNs are close to each other only
    when ``equal_nan`` is True.

    Args:
        input (Tensor): first tensor to compare.
        other (Tensor): second tensor to compare (broadcast against ``input``).
        rtol (float, optional): relative tolerance. Default: 1e-05
        atol (float, optional): absolute tolerance. Default: 1e-08
        equal_nan (bool, optional): treat two NaNs as equal. Default: ``False``

    Returns:
        a bool tensor of the broadcast shape.

    Example::

        >>> ember.isclose(ember.tensor([10000.0, 1e-07]), ember.tensor([10000.1, 1e-08]))
        tensor([ True, False])
    """
    refuse_limited("mul_cpu_reduced_float", input, among=FLOAT8)
    _check_pair("isclose", input, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_TORCH_NAMES[input.dtype.name]} did not match {_TORCH_NAMES[other.dtype.name]}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    err = broadcast_error(input.shape, other.shape)
    if err is not None:
        raise err
    xp = input._backend.xp
    a, b = input.detach(), other.detach()
    close = xp.equal(a._data, b._data)
    inexact = a.dtype.is_floating_point or a.dtype.is_complex
    if equal_nan and inexact:
        close = xp.logical_or(close, xp.logical_and(xp.isnan(a._data), xp.isnan(b._data)))
    if rtol != 0 or atol != 0:
        if not inexact:
            a, b = a.to(dtypes.get_default_dtype()), b.to(dtypes.get_default_dtype())
        x, y = a._data, b._data
        within = xp.less_equal(xp.abs(xp.subtract(x, y)), atol + rtol * xp.abs(y))
        within = xp.logical_and(within, xp.isfinite(y))
        close = xp.logical_or(close, within)
    if not input._backend.is_contiguous(input._data):  # ``input``'s layout may win, as in one element-wise op
        close = in_operands_layout(input._backend, close, (input._data, other._data))
    return input._make(close)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if every pair of elements is close in the sense of :func:`isclose`.

    Args:
        input (Tensor), other (Tensor): tensors to compare (they broadcast).
        rtol (float, optional): relative tolerance. Default: 1e-05
        atol (float, optional): absolute tolerance. Default: 1e-08
        equal_nan (bool, optional): treat two NaNs as equal. Default: ``False``

    Returns:
        a Python bool.

    Example::

        >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-9]))
        True
    """
    refuse_limited("mul_cpu_reduced_float", input, among=FLOAT8)
    close = isclose(input, other, rtol, atol, equal_nan)
    return bool(close.all().item())


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and the same values (dtypes are promoted).

    Example::

        >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2]))
        True
    """
    _check_pair("equal", input, other)
    refuse_meta("equal", input, other)
    if tuple(input.shape) != tuple(other.shape):
        return False
    same = input.detach().eq(other.detach())
    return bool(same.all().item())
