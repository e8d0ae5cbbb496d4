"""The ``out=`` argument: PyTorch's rules for writing an op's result into a tensor the caller gives.

``out`` keeps its identity, dtype and device: the result is cast to its dtype (a floating-point
result cannot go into an integer tensor, nor a non-bool one into a bool tensor), must be on its
device, and ``out`` is resized to the result's shape where it differs (with PyTorch's deprecation
warning where ``out`` had elements, except for the factory functions, which resize quietly).
Functions with ``out=`` do not record autograd: an argument that requires grad is an error.
"""

from __future__ import annotations

import warnings

from .. import dtypes
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, writable_data
from .dtype_support import TORCH_NAMES
from .overlap import check_no_internal_overlap

__all__ = ["factory_dtype", "write_out"]


def _check_out(op: str, out: object) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    return out


def factory_dtype(op: str, dtype: dtypes.dtype | None, out: Tensor) -> dtypes.dtype:
    """The dtype a factory function (``zeros``, ``arange``, ...) makes with ``out=``: ``out``'s, which an
    explicit ``dtype`` must equal."""
    _check_out(op, out)
    if dtype is not None and dtype is not out.dtype:
        raise RuntimeError(
            f"dtype {TORCH_NAMES[dtype]} does not match dtype of out parameter ({TORCH_NAMES[out.dtype]})"
        )
    return out.dtype


def write_out(op: str, result: Tensor, out: Tensor, *, factory: bool = False) -> Tensor:
    """Write ``result`` into ``out`` as PyTorch's ``out=`` does, and return ``out``.

    Args:
        op (str): the op's name, for the messages.
        result (Tensor): what the op computed.
        out (Tensor): the tensor to write into.
        factory (bool): ``result`` comes from a factory function, which resizes ``out`` without a
            warning. Default: ``False``.

    Example::

        >>> from ember.ops.out_argument import write_out
        >>> out = ember.empty(2, dtype=ember.float64)
        >>> write_out("add", ember.tensor([1, 2]) + 1, out) is out
        True
        >>> out
        tensor([2., 3.], dtype=ember.float64)
    """
    _check_out(op, out)
    if grad_state.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    if out._device != result._device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got {out.device} instead")
    if result.dtype._category > out.dtype._category:
        raise RuntimeError(
            f"result type {TORCH_NAMES[result.dtype]} can't be cast to the desired output type {TORCH_NAMES[out.dtype]}"
        )
    if out.shape != result.shape:
        if out._base is not None:
            raise RuntimeError(
                f"{op}(): the view given as out has shape {list(out.shape)}, not the result's {list(result.shape)}, "
                "and a view cannot be resized"
            )
        if out.numel() and not factory:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, which does "
                f"not match the required output shape {list(result.shape)}. This behavior is deprecated, and in a "
                "future PyTorch release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        xp = out._backend.xp
        with out._backend.device_context(out._device.index):
            out._data = xp.empty(result._data.shape, dtype=out._data.dtype)
    check_no_internal_overlap(out)
    data = result._data
    if data.dtype != out._data.dtype:
        data = out._backend.xp.astype(data, out._data.dtype)
    writable_data(out)[...] = data
    out._version.value += 1
    return out
