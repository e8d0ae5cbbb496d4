"""Tools that wrap :meth:`Function.apply` while they are on (anomaly detection, the profiler).

A tool that needs to see every recorded operation does not add a check to the per-op path:
it installs a *layer*, a function ``wrap(inner) -> apply`` that returns a replacement for
``Function.apply`` calling ``inner``. The layers of the tools that are on are chained, in the
order they were installed, and ``Function.apply`` is swapped for the chain; with none on,
``Function.apply`` is the original again and the tools cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .function import Function

__all__ = ["set_apply_layer", "watching_ops"]

ApplyFunction = Callable[..., Any]
#: ``Function.apply`` as defined (a classmethod object)
_original_apply = Function.__dict__["apply"]
#: name -> wrap(inner) of the tools that are on, in the order they were installed
_layers: dict[str, Callable[[ApplyFunction], ApplyFunction]] = {}


def set_apply_layer(name: str, wrap: Callable[[ApplyFunction], ApplyFunction] | None) -> None:
    """Install ``wrap`` as the layer ``name`` around ``Function.apply`` (``None`` removes it).

    ``wrap(inner)`` returns a function ``apply(cls, *args, **kwargs)`` that calls
    ``inner(cls, *args, **kwargs)`` to run the operation.

    Example::

        >>> from ember.autograd.apply_layers import set_apply_layer
        >>> seen = []
        >>> def wrap(inner):
        ...     def apply(cls, *args, **kwargs):
        ...         seen.append(cls.__name__)
        ...         return inner(cls, *args, **kwargs)
        ...     return apply
        >>> set_apply_layer("example", wrap)
        >>> _ = ember.ones(2) * 3
        >>> set_apply_layer("example", None)
        >>> _ = ember.ones(2) * 3
        >>> seen
        ['_Mul']
    """
    if wrap is None:
        _layers.pop(name, None)
    else:
        _layers[name] = wrap
    apply = _original_apply.__func__
    for layer in _layers.values():
        apply = layer(apply)
    Function.apply = classmethod(apply) if _layers else _original_apply  # type: ignore[method-assign]


def watching_ops() -> bool:
    """Whether a tool wraps ``Function.apply`` now: a composite op that records its ops' nodes without running
    them (``F.linear``) runs them instead, so that the tool sees each.

    Example::

        >>> from ember.autograd.apply_layers import watching_ops
        >>> watching_ops()
        False
    """
    return bool(_layers)
