"""``record_function``: a named range of the user's, around the ops it runs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from . import collector as _collector
from .events import FunctionEvent

__all__ = ["record_function"]

_F = TypeVar("_F", bound=Callable[..., Any])


class record_function:  # noqa: N801 - PyTorch's name
    """Label a block of code (or a function, as a decorator) with ``name`` in the profile.

    While a profiler records, the block is one event (a user annotation) whose children are the
    ops and ranges run inside it; with no profiler recording it does nothing.

    Args:
        name (str): the event's name.
        args (str, optional): kept for PyTorch's signature; not recorded.

    Example::

        >>> from ember.profiler import profile, record_function
        >>> x = ember.ones(3)
        >>> with profile() as prof:
        ...     with record_function("scale"):
        ...         y = x * 2
        >>> [(e.name, [c.name for c in e.cpu_children]) for e in prof.events()]
        [('scale', ['aten::mul']), ('aten::mul', [])]
        >>> @record_function("double")
        ... def double(t):
        ...     return t * 2
        >>> with profile() as prof:
        ...     _ = double(x)
        >>> [e.name for e in prof.events()]
        ['double', 'aten::mul']
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._event: FunctionEvent | None = None
        self._collector: _collector.Collector | None = None

    def __enter__(self) -> record_function:
        collector = _collector.active_collector()
        if collector is not None:
            self._collector = collector
            self._event = collector.open(self.name, is_user_annotation=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._event is not None and self._collector is not None:
            self._collector.close(self._event)
        self._event = self._collector = None

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return recorded  # type: ignore[return-value]
