"""``ember.cpu.amp``: PyTorch's older CPU spellings of :class:`ember.autocast` and :class:`ember.amp.GradScaler`."""

from __future__ import annotations

from .. import dtypes
from ..amp.autocast_mode import autocast as _autocast
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):  # noqa: N801 - the public name mirrors torch.cpu.amp.autocast
    r"""``ember.autocast("cpu", ...)``.

    Examples::

        >>> with ember.cpu.amp.autocast():
        ...     y = ember.randn(2, 3) @ ember.randn(3, 4)
        >>> y.dtype
        ember.bfloat16
    """

    def __init__(self, enabled=True, dtype=dtypes.bfloat16, cache_enabled=True):
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``ember.amp.GradScaler("cpu", ...)``."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
