"""``ember.cuda.nvtx``: named ranges and markers in the vendor profiler's timeline (NVIDIA's NVTX
on the CuPy backend), to find a model's phases in Nsight Systems.

Without CUDA every function raises ``RuntimeError``, as in PyTorch's CPU build.

Example::

    >>> with ember.cuda.nvtx.range("forward"):  # doctest: +SKIP
    ...     y = model(x)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .availability import backend as _backend

__all__ = ["range_push", "range_pop", "mark", "range"]


def range_push(msg: str) -> int:
    """Open a nested range named ``msg``; returns its zero-based depth.

    Args:
        msg (str): the range's name.
    """
    return _backend().range_push(msg)


def range_pop() -> int:
    """Close the innermost open range; returns the zero-based depth it had."""
    return _backend().range_pop()


def mark(msg: str) -> None:
    """Put an instantaneous marker named ``msg`` in the timeline.

    Args:
        msg (str): the marker's name.
    """
    _backend().mark(msg)


@contextlib.contextmanager
def range(msg: str, *args: Any, **kwargs: Any) -> Iterator[None]:  # noqa: A001 - PyTorch's name
    """A range around the ``with`` block (or the decorated function), named
    ``msg.format(*args, **kwargs)``.

    Args:
        msg (str): the range's name, a format string when arguments follow.
    """
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
