"""``ember.cpu.amp``: PyTorch's deprecated CPU spellings of :class:`ember.autocast` and
:class:`ember.amp.GradScaler`; each warns with a FutureWarning naming the current spelling, as PyTorch's."""

from __future__ import annotations

import warnings

from .. import dtypes
from ..amp.autocast_mode import autocast as _autocast
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


def _deprecated(name: str) -> None:
    warnings.warn(
        f"`ember.cpu.amp.{name}(args...)` is deprecated. Please use `ember.amp.{name}('cpu', args...)` instead.",
        FutureWarning,
        stacklevel=3,
    )


class autocast(_autocast):  # noqa: N801 - the public name mirrors torch.cpu.amp.autocast
    r"""``ember.autocast("cpu", ...)`` (deprecated; warns with a FutureWarning).

    Examples::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     region = ember.cpu.amp.autocast()
        >>> with region:
        ...     y = ember.randn(2, 3) @ ember.randn(3, 4)
        >>> y.dtype
        ember.bfloat16
    """

    def __init__(self, enabled=True, dtype=dtypes.bfloat16, cache_enabled=True):
        _deprecated("autocast")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``ember.amp.GradScaler("cpu", ...)`` (deprecated; warns with a FutureWarning)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        _deprecated("GradScaler")
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
