"""``torch._dynamo`` for ember: the entry points PyTorch programs call around ``torch.compile``.

ember runs every program eagerly (:func:`ember.compile` returns the model itself), so there is no
frame evaluation to reset, no graph to break and no shape to mark dynamic: these functions accept
PyTorch's arguments and leave the program as it is. Their settings live in
:mod:`ember._dynamo.config`.

Example::

    >>> import ember._dynamo
    >>> ember._dynamo.config.suppress_errors = True
    >>> ember._dynamo.reset()
    >>> ember._dynamo.is_compiling()
    False
    >>> ember._dynamo.config.suppress_errors = False
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..compiler import allow_in_graph, disable, is_compiling, list_backends, reset
from . import config, eval_frame, exc
from .eval_frame import OptimizedModule

__all__ = [
    "OptimizedModule",
    "allow_in_graph",
    "config",
    "disable",
    "disallow_in_graph",
    "graph_break",
    "is_compiling",
    "mark_dynamic",
    "mark_static",
    "mark_static_address",
    "maybe_mark_dynamic",
    "optimize",
    "reset",
    "eval_frame",
    "exc",
    "list_backends",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def mark_dynamic(t: Any, index: int | list[int] | tuple[int, ...], **kwargs: Any) -> None:
    """Mark dimension(s) ``index`` of ``t`` as varying between calls: every dimension is, in ember.

    Args:
        t (Tensor): the tensor.
        index (int or list of ints): the dimension(s).
        min, max, hint_override, specialize_on: PyTorch's options, accepted.

    Example::

        >>> ember._dynamo.mark_dynamic(ember.zeros(4, 3), 0)
    """


def maybe_mark_dynamic(t: Any, index: int | list[int] | tuple[int, ...]) -> None:
    """:func:`mark_dynamic` as a hint: nothing to do in ember.

    Example::

        >>> ember._dynamo.maybe_mark_dynamic(ember.zeros(4, 3), 0)
    """


def mark_static(t: Any, index: int | list[int] | tuple[int, ...] | None = None) -> None:
    """Mark dimension(s) of ``t`` (or a module) as fixed between calls: nothing to specialize in ember.

    Example::

        >>> ember._dynamo.mark_static(ember.zeros(4, 3), 1)
    """


def mark_static_address(t: Any, guard: bool = True) -> None:
    """Mark ``t``'s memory as fixed between calls (for CUDA graphs): nothing to record in ember.

    Example::

        >>> ember._dynamo.mark_static_address(ember.zeros(4))
    """


def graph_break(msg: str = "") -> None:
    """End the traced graph here: ember traces no graph.

    Example::

        >>> ember._dynamo.graph_break()
    """


def disallow_in_graph(fn: _F) -> _F:
    """Keep ``fn`` out of compiled graphs: ``fn`` itself, in ember.

    Example::

        >>> f = lambda x: x + 1
        >>> ember._dynamo.disallow_in_graph(f) is f
        True
    """
    return fn


def optimize(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    """PyTorch's older spelling of ``torch.compile`` as a decorator factory: ember's decorator
    returns the function unchanged.

    Example::

        >>> @ember._dynamo.optimize("inductor")
        ... def f(x):
        ...     return x * 2
        >>> f(ember.ones(2))
        tensor([2., 2.])
    """
    return lambda fn: fn
