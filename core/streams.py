"""``ember.Stream`` and ``ember.Event``: PyTorch's device-generic stream and event classes, for the
devices that run each op when it is called (``cpu``, ``meta``), where they answer as PyTorch's:
a stream has nothing queued and an event is always complete, but recording an event is refused.
An accelerator's streams and events are its module's (``ember.cuda.Stream``, ``ember.cuda.Event``).
"""

from __future__ import annotations

from typing import Any, Literal

from .device import available_accelerator
from .device import device as _device

__all__ = ["Stream", "Event"]

#: the device types whose work is never queued, where these classes serve
_UNQUEUED = ("cpu", "meta")


def _placed(cls_name: str, device: _device | str | int | None) -> _device:
    """The device a stream or event is made for: ``device``, by default the current accelerator's
    type, or the CPU without one."""
    dev = _device(available_accelerator() or "cpu" if device is None else device)
    if dev.type not in _UNQUEUED:
        raise RuntimeError(
            f"ember.{cls_name} serves the cpu and meta devices; use ember.{dev.type}.{cls_name} where it exists "
            f"for a {dev.type} device"
        )
    return _device(dev.type)


def _no_events(dev: _device) -> RuntimeError:
    return RuntimeError(f"{dev.type} backend doesn't support events.")


class Stream:
    """An in-order queue of work on a device; on the CPU (and meta) nothing is ever queued.

    Args:
        device (ember.device, str or int, optional): the device. Default: the current
            accelerator's, or the CPU without one.
        priority (int, optional): ignored where nothing is queued. Default: ``0``.

    Example::

        >>> s = ember.Stream("cpu")
        >>> s
        ember.Stream device_type=cpu, device_index=-1, stream_id=0
        >>> with s:
        ...     s.query()
        True
    """

    def __init__(self, device: _device | str | int | None = None, *, priority: int = 0) -> None:
        self.device = _placed("Stream", device)

    @property
    def device_type(self) -> int:
        """The device type's number in PyTorch's ``DeviceType`` enumeration (0: cpu)."""
        return _DEVICE_TYPE_CODES[self.device.type]

    device_index = -1
    stream_id = 0

    def query(self) -> bool:
        """Whether all the work queued on the stream has finished: always True here."""
        return True

    def synchronize(self) -> None:
        """Wait for the stream's work: returns at once."""

    def wait_event(self, event: Event) -> None:
        """Make the stream's later work wait for ``event``: nothing to wait for."""

    def wait_stream(self, stream: Stream) -> None:
        """Make the stream's later work wait for ``stream``'s; refused, as it records an event on ``stream``."""
        raise _no_events(stream.device)

    def record_event(self, event: Event | None = None) -> Event:
        """Record an event on the stream; refused on these devices."""
        raise _no_events(self.device)

    def is_capturing(self) -> bool:
        """Whether the stream is capturing a graph: never."""
        return False

    @property
    def native_handle(self) -> int:
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc_info: Any) -> Literal[False]:
        return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stream):
            return NotImplemented
        return self.device == other.device and self.stream_id == other.stream_id

    def __hash__(self) -> int:
        return hash((self.device, self.stream_id))

    def __repr__(self) -> str:
        return f"ember.Stream device_type={self.device.type}, device_index=-1, stream_id={self.stream_id}"


class Event:
    """A marker in a stream's work, to wait for or time; on the CPU (and meta) always complete.

    Args:
        device (ember.device, str or int, optional): the device. Default: the current
            accelerator's, or the CPU without one.
        enable_timing (bool, optional): whether the event measures time. Default: ``False``.
        blocking (bool, optional): ignored, as in PyTorch. Default: ``False``.
        interprocess (bool, optional): ignored, as in PyTorch. Default: ``False``.

    Example::

        >>> e = ember.Event("cpu")
        >>> e.query()
        True
        >>> e.synchronize()
    """

    def __init__(
        self,
        device: _device | str | int | None = None,
        *,
        enable_timing: bool = False,
        blocking: bool = False,
        interprocess: bool = False,
    ) -> None:
        self.device = _placed("Event", device)
        self._flag = int(bool(enable_timing))

    device_index = -1
    event_id = 0

    def record(self, stream: Stream | None = None) -> None:
        """Record the event on ``stream``; refused on these devices."""
        raise _no_events(self.device)

    def query(self) -> bool:
        """Whether the work before the event has finished: always True here."""
        return True

    def synchronize(self) -> None:
        """Wait for the event: returns at once."""

    def wait(self, stream: Stream | None = None) -> None:
        """Make ``stream``'s later work wait for the event: nothing to wait for."""

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event``; both must time and have been recorded."""
        if not (self._flag and end_event._flag):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def ipc_handle(self) -> Any:
        raise NotImplementedError("ember.Event ipc is not supported yet.")

    def __repr__(self) -> str:
        return (
            f"ember.Event device_type={self.device.type}, device_index=-1, event_flag={self._flag}, "
            f"event_id={self.event_id}"
        )


#: PyTorch's ``DeviceType`` numbers of the device types served here
_DEVICE_TYPE_CODES = {"cpu": 0, "meta": 14}
