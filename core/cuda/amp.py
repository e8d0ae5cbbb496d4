"""``ember.cuda.amp``: PyTorch's deprecated CUDA spellings of :class:`ember.autocast` and
:class:`ember.amp.GradScaler`; each warns with a FutureWarning naming the current spelling."""

from __future__ import annotations

import warnings

from .. import dtypes
from ..amp.autocast_mode import autocast as _autocast
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


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
