"""``ember.jit``: the TorchScript names model code uses, for eager execution.

ember has no TorchScript. :func:`script` and :func:`trace` return the module or function
itself, which computes what the scripted/traced one computes on the inputs it was written for
(a trace in PyTorch freezes data-dependent control flow; the eager function keeps it). The
decorators (:func:`ignore`, :func:`unused`, :func:`export`, ...) return what they decorate,
and :func:`is_scripting`/:func:`is_tracing` are ``False``: the code is always eager.
"""

from collections.abc import Callable
from typing import Any, Final, TypeVar

from . import annotations  # the submodule (no ``from __future__ import annotations`` here: it would shadow it)

__all__ = [
    "script",
    "trace",
    "ignore",
    "unused",
    "export",
    "is_scripting",
    "is_tracing",
    "annotate",
    "interface",
    "Final",
    "annotations",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None) -> Any:
    """``torch.jit.script`` for eager ember: returns ``obj`` (a module, function or class) itself.

    Args:
        obj: what to script.
        optimize, example_inputs: accepted.

    Example::

        >>> model = nn.Linear(3, 1)
        >>> ember.jit.script(model) is model
        True
    """
    return obj


def trace(
    func: Any,
    example_inputs: Any = None,
    optimize: Any = None,
    check_trace: bool = True,
    check_inputs: Any = None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    example_kwarg_inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``torch.jit.trace`` for eager ember: runs ``func`` once on the example inputs (as the
    trace does, so an input it cannot take fails here) and returns ``func`` itself.

    Args:
        func: the module or function.
        example_inputs (tuple or Tensor): positional example inputs.
        example_kwarg_inputs (dict): keyword example inputs.
        optimize, check_trace, check_inputs, check_tolerance, strict: accepted.

    Example::

        >>> model = nn.Linear(3, 1)
        >>> ember.jit.trace(model, ember.randn(2, 3)) is model
        True
    """
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided")
    args = example_inputs if isinstance(example_inputs, tuple) else () if example_inputs is None else (example_inputs,)
    func(*args, **(example_kwarg_inputs or {}))
    return func


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Leave a function to Python (``@ember.jit.ignore`` or ``@ember.jit.ignore(drop=True)``):
    it is returned as is.

    Example::

        >>> @ember.jit.ignore
        ... def debug(x):
        ...     return x
        >>> debug(3)
        3
    """
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: _F) -> _F:
    """Mark a method the compiler should skip: it is returned as is.

    Example::

        >>> ember.jit.unused(abs)(-2)
        2
    """
    return fn


def export(fn: _F) -> _F:
    """Mark a method as a compilation entry point: it is returned as is.

    Example::

        >>> ember.jit.export(abs)(-2)
        2
    """
    return fn


def interface(obj: Any) -> Any:
    """Declare a TorchScript interface class: the class is returned as is.

    Example::

        >>> @ember.jit.interface
        ... class Encoder:
        ...     def forward(self, x): ...
        >>> Encoder.__name__
        'Encoder'
    """
    return obj


def is_scripting() -> bool:
    """Whether the code runs under TorchScript: never, in ember.

    Example::

        >>> ember.jit.is_scripting()
        False
    """
    return False


def is_tracing() -> bool:
    """Whether the code runs under ``jit.trace``: never, in ember.

    Example::

        >>> ember.jit.is_tracing()
        False
    """
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """Give TorchScript the type of ``the_value``: in eager code, ``the_value`` itself.

    Example::

        >>> ember.jit.annotate(list, [])
        []
    """
    return the_value
