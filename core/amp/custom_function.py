"""``amp.custom_fwd``/``amp.custom_bwd``: autocast-aware ``forward``/``backward`` of custom
:class:`~ember.autograd.Function` subclasses."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import dtypes
from ..tensor import Tensor
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled

__all__ = ["custom_fwd", "custom_bwd"]


def _cast(value: Any, device_type: str, dtype: dtypes.dtype) -> Any:
    """``value`` with its floating tensors on ``device_type`` (float64 excepted) cast to ``dtype``,
    through mappings and iterables."""
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type and value.dtype is not dtypes.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)) or type(value).__module__ == "numpy":
        return value
    if isinstance(value, Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, Iterable):
        items = (_cast(v, device_type, dtype) for v in value)
        return type(value)(items) if isinstance(value, (list, tuple)) else items
    return value


def _check_device_type(device_type: Any) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def custom_fwd(
    fwd: Callable[..., Any] | None = None, *, device_type: str, cast_inputs: dtypes.dtype | None = None
) -> Any:
    r"""Decorator for a custom Function's ``forward``, as PyTorch's.

    Without ``cast_inputs`` the forward runs in the caller's autocast state and the state is
    recorded for :func:`custom_bwd`. With ``cast_inputs``, inside an autocast region for
    ``device_type`` the forward runs with autocast off and its floating inputs on that device
    type cast to ``cast_inputs``; outside one it runs as is.

    Args:
        fwd: the forward (the decorator may be used with arguments only).
        device_type (str): the autocast device type (``'cpu'``, ``'cuda'``, ...).
        cast_inputs (dtype, optional): the dtype to run the forward in.

    Example::

        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     @ember.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> with ember.autocast("cpu"):
        ...     y = Square.apply(ember.ones(2, dtype=ember.bfloat16))
        >>> y.dtype
        ember.float32
    """
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    function = fwd

    @functools.wraps(function)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        enabled = is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = enabled
            return function(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not enabled:
            return function(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return function(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str) -> Any:
    r"""Decorator for a custom Function's ``backward``: it runs in the autocast state its
    forward (decorated with :func:`custom_fwd`) ran in.

    Args:
        bwd: the backward (the decorator may be used with arguments only).
        device_type (str): the autocast device type.

    Example::

        >>> @ember.amp.custom_bwd(device_type="cpu")
        ... def backward(ctx, grad):
        ...     return grad
    """
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    function = bwd

    @functools.wraps(function)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return function(*args, **kwargs)

    return decorate_bwd
