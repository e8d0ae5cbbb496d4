"""The current CUDA device of :mod:`ember.cuda`, and the device index a device argument names."""

from __future__ import annotations

from ..device import current_index, set_current_index
from ..device import device as _device

__all__ = ["current_device", "set_current_device", "index_of"]


def current_device() -> int:
    """Index of the current CUDA device."""
    return current_index("cuda")


def set_current_device(index: int) -> None:
    """Record ``index`` as the current CUDA device (the backend is told by the caller)."""
    set_current_index("cuda", index)


def index_of(device: _device | str | int | None = None) -> int:
    """The index ``device`` names: an int as it is, a device's index, and the current device for
    ``None`` or a device without an index (``"cuda"``)."""
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    index = _device(device).index
    return current_device() if index is None else index
