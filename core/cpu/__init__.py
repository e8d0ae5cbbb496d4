"""``ember.cpu``: the CPU device type's module, as PyTorch spells it (``ember.cpu.amp``), with the
device-module functions that device-agnostic code calls on whatever
:func:`ember.get_device_module` returns (``device_count``, ``synchronize``, ``current_stream``, ...).

On the CPU they answer as PyTorch's: there is one device, work is never queued, and the streams
and events are placeholders whose methods do nothing.

Example::

    >>> mod = ember.get_device_module("cpu")
    >>> mod.device_count(), mod.current_device(), mod.is_available()
    (1, 'cpu', True)
    >>> with mod.stream(mod.Stream()):
    ...     mod.synchronize()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import amp
from .streams import Event, Stream, StreamContext, current_stream, stream

if TYPE_CHECKING:
    from ..types import Device

__all__ = [
    "amp",
    "current_device",
    "device_count",
    "is_available",
    "is_initialized",
    "set_device",
    "synchronize",
    "Stream",
    "Event",
    "StreamContext",
    "current_stream",
    "stream",
]


def current_device() -> str:
    """The current CPU device: always ``'cpu'``.

    Example::

        >>> ember.cpu.current_device()
        'cpu'
    """
    return "cpu"


def device_count() -> int:
    """The number of CPU devices as PyTorch counts them (not cores): always 1.

    Example::

        >>> ember.cpu.device_count()
        1
    """
    return 1


def is_available() -> bool:
    """Whether the CPU is available: always True.

    Example::

        >>> ember.cpu.is_available()
        True
    """
    return True


def is_initialized() -> bool:
    """Whether the CPU is initialized: always True.

    Example::

        >>> ember.cpu.is_initialized()
        True
    """
    return True


def set_device(device: Device) -> None:
    """Make ``device`` the current CPU device: nothing to do, there being one.

    Args:
        device (ember.device, str or int): ignored.
    """


def synchronize(device: Device = None) -> None:
    """Wait for the CPU's queued work: none is ever queued, so this returns at once.

    Args:
        device (ember.device, str or int, optional): ignored.
    """
