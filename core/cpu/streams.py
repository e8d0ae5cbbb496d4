"""The CPU's placeholder streams and events (``ember.cpu.Stream``, ``ember.cpu.Event``): the CPU runs
each op when it is called, so there is nothing to queue, wait for or time; they exist so that code
written for an accelerator's streams runs unchanged on the CPU, as PyTorch's do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import Device

__all__ = ["Stream", "Event", "StreamContext", "current_stream", "stream"]


class Stream:
    """A CPU stream: its methods do nothing.

    Args:
        priority (int, optional): ignored. Default: ``-1``.

    Example::

        >>> s = ember.cpu.Stream()
        >>> s.wait_stream(ember.cpu.current_stream())
    """

    def __init__(self, priority: int = -1) -> None:
        pass

    def wait_stream(self, stream: Stream) -> None:
        """Make later work wait for ``stream``'s: a no-op on the CPU."""

    def record_event(self) -> None:
        """Record an event on the stream: a no-op on the CPU (returns None)."""

    def wait_event(self, event: Event) -> None:
        """Make later work wait for ``event``: a no-op on the CPU."""


class Event:
    """A CPU event: always complete.

    Example::

        >>> e = ember.cpu.Event()
        >>> e.record()
        >>> e.query()
        True
    """

    def query(self) -> bool:
        """Whether the work before the event has finished: always True."""
        return True

    def record(self, stream: Stream | None = None) -> None:
        """Record the event: a no-op on the CPU."""

    def synchronize(self) -> None:
        """Wait for the event: returns at once."""

    def wait(self, stream: Stream | None = None) -> None:
        """Make ``stream`` wait for the event: a no-op on the CPU."""


_default_stream = Stream()
_current_stream = _default_stream


def current_stream(device: Device = None) -> Stream:
    """The current CPU stream (the default one outside a :func:`stream` block).

    Args:
        device (ember.device, str or int, optional): ignored.

    Example::

        >>> ember.cpu.current_stream() is ember.cpu.current_stream()
        True
    """
    return _current_stream


class StreamContext:
    """Context manager making ``stream`` the current CPU stream in its block (None: no change).

    Args:
        stream (Stream or None): the stream.
    """

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self.prev_stream = _default_stream

    def __enter__(self) -> None:
        global _current_stream
        if self.stream is not None:
            self.prev_stream, _current_stream = _current_stream, self.stream

    def __exit__(self, *exc_info: Any) -> None:
        global _current_stream
        if self.stream is not None:
            _current_stream = self.prev_stream


def stream(stream: Stream | None) -> StreamContext:
    """A :class:`StreamContext` making ``stream`` the current CPU stream in its block.

    Args:
        stream (Stream or None): the stream.

    Example::

        >>> s = ember.cpu.Stream()
        >>> with ember.cpu.stream(s):
        ...     ember.cpu.current_stream() is s
        True
    """
    return StreamContext(stream)
