"""``ember.mps``: PyTorch's module for Apple's Metal GPUs, which ember has no backend for. Programs
that pick a device find none (``ember.backends.mps.is_available()`` is False too); the calls that
need the device raise PyTorch's RuntimeError, as on a machine without MPS.

Example::

    >>> ember.mps.is_available(), ember.mps.device_count()
    (False, 0)
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = [
    "current_allocated_memory",
    "device_count",
    "driver_allocated_memory",
    "empty_cache",
    "get_rng_state",
    "is_available",
    "manual_seed",
    "recommended_max_memory",
    "seed",
    "synchronize",
]


def _without_mps(call: str) -> Any:
    def absent(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(f"Cannot execute {call}() without MPS backend.")

    absent.__name__ = absent.__qualname__ = call
    absent.__doc__ = f"Raises PyTorch's RuntimeError: ``{call}()`` needs the MPS device."
    return absent


def is_available() -> bool:
    """False: ember has no MPS backend."""
    return False


def device_count() -> int:
    """0: no MPS device."""
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed without the device (PyTorch's seeds lazily, and does nothing either)."""


synchronize = _without_mps("deviceSynchronize")
empty_cache = _without_mps("emptyCache")
seed = get_rng_state = _without_mps("getDefaultGenerator")
recommended_max_memory = _without_mps("getRecommendedMaxMemory")
current_allocated_memory = _without_mps("getCurrentAllocatedMemory")
driver_allocated_memory = _without_mps("getDriverAllocatedMemory")
