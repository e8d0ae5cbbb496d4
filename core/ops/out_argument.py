"""PyTorch's ``out=`` argument: the checks it makes and the write of a result into the given tensor."""

from __future__ import annotations

import warnings

from ..autograd.grad_mode import grad_state
from ..dtypes import dtype
from ..tensor import Tensor
from .dtype_support import TORCH_NAMES, check_castable
from .operands import check_same_device

__all__ = ["write_out", "out_dtype"]


def _check_out(op: str, out: object) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    return out


def out_dtype(op: str, dt: dtype | None, out: Tensor | None) -> dtype | None:
    """The dtype a factory (``zeros``, ``arange``, ...) makes when given ``dtype=dt`` and ``out=out``:
    ``out``'s dtype when ``dt`` is None; a ``dt`` other than ``out``'s is PyTorch's RuntimeError."""
    if out is None:
        return dt
    out = _check_out(op, out)
    if dt is not None and dt is not out.dtype:
        raise RuntimeError(
            f"dtype {TORCH_NAMES.get(dt, dt.name)} does not match dtype of out parameter "
            f"({TORCH_NAMES.get(out.dtype, out.dtype.name)})"
        )
    return out.dtype


def write_out(op: str, result: Tensor, out: Tensor | None, *, warn_resize: bool = True) -> Tensor:
    """``result`` written into ``out`` (and ``out`` returned), as PyTorch's ``out=`` does; ``result``
    itself when ``out`` is None.

    PyTorch's rules: no autograd through ``out=`` (an operand or ``out`` that requires grad is a
    RuntimeError while grad mode is on), ``out`` on the result's device, a dtype the result may be
    cast to (floating into integer is a RuntimeError), and an ``out`` of another shape resized to
    the result's, with a deprecation warning if it had elements (``warn_resize``; factories resize
    silently).

    Args:
        op (str): the op's name, for the messages.
        result (Tensor): the computed result.
        out (Tensor, optional): the tensor to write into.
        warn_resize (bool): warn when an ``out`` with elements is resized. Default: ``True``
    """
    if out is None:
        return result
    out = _check_out(op, out)
    if grad_state.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    check_same_device(op, result, out)
    check_castable(result.dtype, out.dtype)
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        if warn_resize and out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, which "
                f"does not match the required output shape {list(shape)}. This behavior is deprecated, and in a "
                "future PyTorch release outputs will not be resized unless they have zero elements.",
                UserWarning,
                stacklevel=3,
            )
        out._data = out._backend.xp.empty(shape, dtype=out._data.dtype)
    return out.copy_(result)
