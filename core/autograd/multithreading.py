"""``autograd.set_multithreading_enabled``: PyTorch's switch for running backward on one thread
per device. ember's engine always runs backward on the calling thread, which gives the same
results either way; the switch is kept (and reported by :func:`is_multithreading_enabled`) so
that programs setting it run unchanged."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["set_multithreading_enabled", "is_multithreading_enabled"]

_F = TypeVar("_F", bound=Callable[..., Any])
_state = {"enabled": True}


def is_multithreading_enabled() -> bool:
    """Whether multithreaded backward is switched on (PyTorch's default: ``True``).

    Example::

        >>> ember.autograd.is_multithreading_enabled()
        True
    """
    return _state["enabled"]


class set_multithreading_enabled:  # noqa: N801 - PyTorch's name
    """Switch multithreaded backward on or off: at once (and back to the previous setting when
    used as a context manager that exits; a decorated function runs with ``mode``).

    Args:
        mode (bool): on (``True``) or off.

    Example::

        >>> with ember.autograd.set_multithreading_enabled(False):
        ...     ember.autograd.is_multithreading_enabled()
        False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _state["enabled"]
        _state["enabled"] = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        _state["enabled"] = self.prev

    def __call__(self, fn: _F) -> _F:
        # as PyTorch's: the setting made by the constructor stays after decorating
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_multithreading_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

    def clone(self) -> set_multithreading_enabled:
        return type(self)(self.mode)
