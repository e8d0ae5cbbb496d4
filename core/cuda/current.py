"""The current CUDA device of :mod:`ember.cuda`, and the device index a device argument names."""

from __future__ import annotations

from ..device import device as _device

__all__ = ["current_device", "set_current_device", "index_of"]

_current = 0


def current_device() -> int:
    """Index of the current CUDA device."""
    return _current


def set_current_device(index: int) -> None:
    """Record ``index`` as the current CUDA device (the backend is told by the caller)."""
    global _current
    _current = index


def index_of(device: _device | str | int | None = None) -> int:
    """The index ``device`` names: an int as it is, a device's index, and the current device for
    ``None`` or a device without an index (``"cuda"``)."""
    if device is None:
        return _current
    if isinstance(device, int):
        return device
    index = _device(device).index
    return _current if index is None else index
