"""``ember.accelerator``: the device-agnostic accelerator API of ``torch.accelerator``.

The accelerator is the ``cuda`` device type when a backend serves it (CuPy installed);
set the environment variable ``EMBER_ACCELERATOR`` to another device type (``opencl``)
to make that one the accelerator instead. Without an accelerator the functions answer
as PyTorch does on a machine without one: :func:`is_available` is False,
:func:`current_accelerator` is None, :func:`device_count` is 0, and the functions that
need a device raise ``RuntimeError``.

Example::

    >>> import ember
    >>> dev = ember.accelerator.current_accelerator() if ember.accelerator.is_available() else ember.device("cpu")
    >>> ember.ones(2, device=dev).device.type in ("cpu", "cuda", "opencl")
    True
"""

from __future__ import annotations

from typing import Any, Literal

from . import cuda, device_memory, dtypes
from .device import accelerator_backend, available_accelerator, current_index, set_current_index
from .device import device as _device

__all__ = [
    "current_accelerator",
    "current_device_index",
    "current_device_idx",
    "device_count",
    "device_index",
    "empty_cache",
    "get_memory_info",
    "is_available",
    "max_memory_allocated",
    "max_memory_reserved",
    "memory_allocated",
    "memory_reserved",
    "memory_stats",
    "reset_peak_memory_stats",
    "set_device_index",
    "set_device_idx",
    "synchronize",
    "current_stream",
    "set_stream",
    "reset_accumulated_memory_stats",
    "get_device_capability",
]


def _require():
    kind, backend = accelerator_backend()
    if kind is None or backend.device_count() == 0:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return kind, backend


def _index(kind, dev):
    if dev is None:
        return current_device_index()
    if isinstance(dev, int):
        return dev
    dev = _device(dev)
    if dev.type != kind:
        raise ValueError(f"{dev.type} doesn't match the current accelerator {kind}.")
    return current_device_index() if dev.index is None else dev.index


def is_available() -> bool:
    """Whether an accelerator is present: a backend serves its device type and sees at least one device.

    Returns:
        bool: True when :func:`current_accelerator` names a usable device type.

    Example::

        >>> isinstance(ember.accelerator.is_available(), bool)
        True
    """
    return available_accelerator() is not None


def current_accelerator(check_available: bool = False) -> _device | None:
    """The accelerator's device type as a device without index (``device(type='cuda')``; the current
    device is :func:`current_device_index`), or None without one.

    Args:
        check_available (bool, optional): also require :func:`is_available`. Default: ``False``.

    Example::

        >>> acc = ember.accelerator.current_accelerator()
        >>> acc is None or acc.type in ("cuda", "opencl")
        True
    """
    kind, _ = accelerator_backend()
    if kind is None or (check_available and not is_available()):
        return None
    return _device(kind)


def device_count() -> int:
    """Number of accelerator devices (0 without an accelerator).

    Example::

        >>> ember.accelerator.device_count() >= 0
        True
    """
    kind, backend = accelerator_backend()
    return 0 if kind is None else backend.device_count()


def current_device_index() -> int:
    """Index of the current accelerator device.

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, _ = _require()
    return current_index(kind)


def set_device_index(device: _device | str | int) -> None:
    """Make ``device`` (an index or a device of the accelerator's type) the current accelerator device.

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, backend = _require()
    index = _index(kind, device)
    if not 0 <= index < backend.device_count():
        raise RuntimeError(
            f"set_device_index: device index {index} out of range for {backend.device_count()} device(s)"
        )
    if kind == "cuda":
        cuda.set_device(index)
    else:
        set_current_index(kind, index)


current_device_idx = current_device_index
set_device_idx = set_device_index


class device_index:  # noqa: N801 - mirrors torch.accelerator.device_index
    """Context manager making ``device`` the current accelerator device inside the block (None: no change).

    Args:
        device (int or None): the index to switch to.
    """

    def __init__(self, device: int | None, /) -> None:
        self.index = device
        self._previous: int | None = None

    def __enter__(self) -> None:
        if self.index is not None:
            self._previous = current_device_index()
            set_device_index(self.index)

    def __exit__(self, *exc: object) -> Literal[False]:
        if self._previous is not None:
            set_device_index(self._previous)
        return False


def synchronize(device: _device | str | int | None = None) -> None:
    """Wait until all queued work on ``device`` (default: the current accelerator device) has finished.

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, backend = _require()
    index = _index(kind, device)
    backend.synchronize(index)
    device_memory.observe(backend, index)


def current_stream(device: _device | str | int | None = None, /) -> cuda.Stream:
    """The stream the accelerator launches on for ``device`` (default: the current device).

    Raises:
        RuntimeError: when no accelerator is available, or its backend has no streams.
    """
    kind, backend = _require()
    if kind != "cuda":
        raise RuntimeError(f"the {backend.name} backend has no streams")
    return cuda.current_stream(_index(kind, device))


def set_stream(stream: cuda.Stream) -> None:
    """Make ``stream`` the current stream of its device (prefer ``with stream:``).

    Raises:
        RuntimeError: when no accelerator is available, or its backend has no streams.
    """
    kind, backend = _require()
    if kind != "cuda":
        raise RuntimeError(f"the {backend.name} backend has no streams")
    cuda.set_stream(stream)


def reset_accumulated_memory_stats(device_index: _device | str | int | None = None, /) -> None:
    """Start the accumulated counts of :func:`memory_stats` afresh: ember keeps only current values
    and peaks, so there is nothing to reset.

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, _ = _require()
    _index(kind, device_index)


def get_device_capability(device: _device | str | int | None = None, /) -> dict[str, Any]:
    """What the accelerator device (default: the current one) can hold: ``supported_dtypes``, the
    set of dtypes its tensors can have.

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, backend = _require()
    _index(kind, device)
    supported = set()
    for dt in (*dtypes.all_dtypes, dtypes.bfloat16, *dtypes.complex_dtypes):
        try:
            backend.native_dtype(dt)
        except TypeError:
            continue
        supported.add(dt)
    return {"supported_dtypes": supported}


def empty_cache() -> None:
    """Return the allocator's unused cached memory to the driver, where the backend caches any."""
    _, backend = _require()
    device_memory.empty_cache(backend, None)


def memory_stats(device_index: _device | str | int | None = None, /) -> dict[str, int]:
    """The memory statistics of an accelerator device under PyTorch's keys
    (``allocated_bytes.all.current``/``.peak``, ``reserved_bytes.all.current``/``.peak``; see
    :mod:`ember.device_memory` for how the peaks are kept).

    Args:
        device_index (int or ember.device, optional): the device. Default: the current device

    Raises:
        RuntimeError: when no accelerator is available.
    """
    kind, backend = _require()
    return device_memory.stats(backend, _index(kind, device_index))


def memory_allocated(device_index: _device | str | int | None = None, /) -> int:
    """Bytes held by tensors on the accelerator device (where its backend tracks it)."""
    return memory_stats(device_index)["allocated_bytes.all.current"]


def max_memory_allocated(device_index: _device | str | int | None = None, /) -> int:
    """The peak of :func:`memory_allocated` since the start or :func:`reset_peak_memory_stats`."""
    return memory_stats(device_index)["allocated_bytes.all.peak"]


def memory_reserved(device_index: _device | str | int | None = None, /) -> int:
    """Bytes reserved by the accelerator's allocator."""
    return memory_stats(device_index)["reserved_bytes.all.current"]


def max_memory_reserved(device_index: _device | str | int | None = None, /) -> int:
    """The peak of :func:`memory_reserved` since the start or :func:`reset_peak_memory_stats`."""
    return memory_stats(device_index)["reserved_bytes.all.peak"]


def reset_peak_memory_stats(device_index: _device | str | int | None = None, /) -> None:
    """Start the peaks of :func:`max_memory_allocated` and :func:`max_memory_reserved` afresh."""
    kind, backend = _require()
    device_memory.reset_peaks(backend, _index(kind, device_index))


def get_memory_info(device_index: _device | str | int | None = None, /) -> tuple[int, int]:
    """``(free, total)`` bytes of an accelerator device, as its driver reports them."""
    kind, backend = _require()
    return backend.memory_info(_index(kind, device_index))
