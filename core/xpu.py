"""``ember.xpu``: PyTorch's module for Intel GPUs, which ember has no backend for. Programs that pick
a device (``"xpu" if torch.xpu.is_available() else "cpu"``) find none; the calls that need a
device raise as those of a PyTorch built without XPU do, and the others do nothing.

Example::

    >>> ember.xpu.is_available(), ember.xpu.device_count()
    (False, 0)
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "get_rng_state",
    "is_available",
    "is_initialized",
    "manual_seed",
    "manual_seed_all",
    "memory_allocated",
    "seed",
    "set_device",
    "synchronize",
]


def _absent(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available() -> bool:
    """False: ember has no XPU backend."""
    return False


def device_count() -> int:
    """0: no XPU device."""
    return 0


def is_initialized() -> bool:
    """False: there is nothing to initialise."""
    return False


def _nothing(*args: Any, **kwargs: Any) -> None:
    """Nothing to do without a device (PyTorch's CPU build does nothing either)."""


def memory_allocated(device: Any = None) -> int:
    """0 bytes: no XPU device."""
    return 0


manual_seed = manual_seed_all = seed = empty_cache = _nothing
synchronize = current_device = set_device = get_device_name = get_rng_state = _absent
