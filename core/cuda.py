"""``ember.cuda``: CUDA device management for the backend serving device type ``cuda``.

Nothing here imports CuPy until a function is called; without CuPy or a GPU,
:func:`is_available` is False and the other functions raise with the reason.
"""

from __future__ import annotations

from .device import device as _device

__all__ = [
    "is_available",
    "device_count",
    "current_device",
    "set_device",
    "device",
    "get_device_name",
    "synchronize",
    "memory_allocated",
    "memory_reserved",
    "max_memory_allocated",
    "empty_cache",
    "manual_seed",
    "manual_seed_all",
]

_current = 0
_peak = {}


def _backend():
    from .tensor import backend_for_device

    return backend_for_device(_device("cuda", 0))


def is_available():
    """True when a backend serves ``cuda`` and sees at least one GPU."""
    try:
        _backend()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


def device_count():
    """Number of CUDA devices (0 when CUDA is unavailable)."""
    return _backend().device_count() if is_available() else 0


def current_device():
    """Index of the current CUDA device."""
    return _current


def set_device(index):
    """Make ``index`` the current CUDA device for the backend's allocations and launches."""
    global _current
    index = _device(index).index if not isinstance(index, int) else index
    context = _backend().device_context(index)
    context.use() if hasattr(context, "use") else None
    _current = index


class device:  # noqa: N801 - mirrors torch.cuda.device
    """Context manager that makes ``index`` the current CUDA device inside the block."""

    def __init__(self, index):
        self.index = _device(index).index if not isinstance(index, int) else index

    def __enter__(self):
        global _current
        self._previous = _current
        self._context = _backend().device_context(self.index)
        self._context.__enter__()
        _current = self.index
        return self

    def __exit__(self, *exc):
        global _current
        _current = self._previous
        return self._context.__exit__(*exc)


def get_device_name(index=None):
    """The GPU's name, e.g. ``'NVIDIA H200'``."""
    return _backend().device_name(_current if index is None else index)


def synchronize(index=None):
    """Wait until all queued work on the device has finished."""
    _backend().synchronize(_current if index is None else index)


def memory_allocated(index=None):
    """Bytes held by tensors on the device (from the backend's memory pool)."""
    used = _backend().memory_allocated(_current if index is None else index)
    key = _current if index is None else index
    _peak[key] = max(_peak.get(key, 0), used)
    return used


def max_memory_allocated(index=None):
    """The largest :func:`memory_allocated` value observed so far."""
    memory_allocated(index)
    return _peak.get(_current if index is None else index, 0)


def memory_reserved(index=None):
    """Bytes reserved by the backend's allocator on the device."""
    return _backend().memory_reserved(_current if index is None else index)


def empty_cache():
    """Return unused cached blocks of the allocator to the driver."""
    backend = _backend()
    if hasattr(backend, "empty_cache"):
        backend.empty_cache()


def manual_seed(seed):
    """Seed the default generator of the current CUDA device."""
    _backend().generator(_current).manual_seed(int(seed))


def manual_seed_all(seed):
    """Seed the default generators of every CUDA device."""
    backend = _backend()
    for index in range(backend.device_count()):
        backend.generator(index).manual_seed(int(seed))
