"""``ember.cuda.amp``: PyTorch's deprecated CUDA spellings of :class:`ember.autocast`,
:class:`ember.amp.GradScaler` and :func:`ember.amp.custom_fwd`/:func:`~ember.amp.custom_bwd`; each warns
with a FutureWarning naming the current spelling."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..amp import custom_function as _custom_function
from ..amp.autocast_mode import autocast as _autocast
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


def _deprecated(name: str, replacement: str) -> None:
    warnings.warn(
        f"`ember.cuda.amp.{name}(args...)` is deprecated. Please use `{replacement}` instead.",
        FutureWarning,
        stacklevel=3,
    )


class autocast(_autocast):  # noqa: N801 - the public name mirrors torch.cuda.amp.autocast
    r"""``ember.autocast("cuda", ...)`` (deprecated; warns with a FutureWarning).

    Without CUDA it warns and leaves autocast off, as PyTorch does.

    Args:
        enabled (bool): whether autocast is on in the region. Default: ``True``
        dtype (ember.dtype): the lower-precision type. Default: ``ember.float16``
        cache_enabled (bool): accepted for PyTorch compatibility. Default: ``True``

    Examples::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     region = ember.cuda.amp.autocast()
        >>> region.device, region.fast_dtype
        ('cuda', ember.float16)
    """

    def __init__(self, enabled: bool = True, dtype: dtypes.dtype = dtypes.float16, cache_enabled: bool = True) -> None:
        _deprecated("autocast", "ember.amp.autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    r"""``ember.amp.GradScaler("cuda", ...)`` (deprecated; warns with a FutureWarning).

    Without CUDA it warns and disables itself, as PyTorch does.

    Examples::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     scaler = ember.cuda.amp.GradScaler(init_scale=1024.0)
        >>> scaler.is_enabled() == ember.cuda.is_available()
        True
    """

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _deprecated("GradScaler", "ember.amp.GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def custom_fwd(fwd: Callable[..., Any] | None = None, *, cast_inputs: dtypes.dtype | None = None) -> Any:
    """``ember.amp.custom_fwd(fwd, device_type="cuda", cast_inputs=...)`` (deprecated; warns with a FutureWarning).

    Args:
        fwd: the forward of a custom Function (the decorator may be used with arguments only).
        cast_inputs (dtype, optional): the dtype to run the forward in inside a cuda region.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     forward = ember.cuda.amp.custom_fwd(lambda ctx, x: x)
        >>> forward.__name__
        '<lambda>'
    """
    _deprecated("custom_fwd", "ember.amp.custom_fwd(args..., device_type='cuda')")
    return _custom_function.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Callable[..., Any] | None = None) -> Any:
    """``ember.amp.custom_bwd(bwd, device_type="cuda")`` (deprecated; warns with a FutureWarning).

    Args:
        bwd: the backward of a custom Function.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     backward = ember.cuda.amp.custom_bwd(lambda ctx, grad: grad)
        >>> backward.__name__
        '<lambda>'
    """
    _deprecated("custom_bwd", "ember.amp.custom_bwd(args..., device_type='cuda')")
    return _custom_function.custom_bwd(bwd, device_type="cuda")
