"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ..tensor import Tensor, _InferenceVersion, _Version, enter_version_class, exit_version_class
from .multithreading import set_multithreading_enabled  # PyTorch's path: autograd.grad_mode.set_multithreading_enabled

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "set_multithreading_enabled",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradState(threading.local):
    enabled = True
    inference = False
    # ember.autograd.graph: the (pack, unpack) pairs of the saved_tensors_hooks entered, innermost
    # last, and the message of an enclosing disable_saved_tensors_hooks
    saved_tensors_hooks: tuple[tuple[Callable[..., Any], Callable[..., Any]], ...] = ()
    saved_tensors_hooks_disabled: str | None = None


grad_state = _GradState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record a graph.

    Example::

        >>> ember.is_grad_enabled()
        True
        >>> with ember.no_grad():
        ...     print(ember.is_grad_enabled())
        ...
        False
    """
    return grad_state.enabled


class _GradModeContext:
    """Base of the grad-mode context managers; each also works as a decorator."""

    mode = True

    def __enter__(self) -> None:
        self._prev = grad_state.enabled
        grad_state.enabled = self.mode

    def __exit__(self, *exc: object) -> Literal[False]:
        grad_state.enabled = self._prev
        return False

    def clone(self) -> _GradModeContext:
        """A new context of the same kind and setting (each call of a decorated function enters its own)."""
        return self.__class__()

    def __call__(self, fn: _F) -> _F:
        return _decorated(fn, self.clone)


def _decorated(fn: _F, context: Callable[[], Any]) -> _F:
    """``fn`` run inside a new ``context()`` on each call; a generator function's body runs inside one
    at each step only, so that the caller's code between two steps keeps its own mode (as PyTorch's)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def steps(*args: Any, **kwargs: Any) -> Any:
            generator = fn(*args, **kwargs)
            try:
                with context():
                    response = generator.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with context():
                            generator.close()
                        raise
                    except BaseException as error:
                        with context():
                            response = generator.throw(error)
                    else:
                        with context():
                            response = generator.send(request)
            except StopIteration as stop:
                return stop.value

        return steps  # type: ignore[return-value]  # functools.wraps keeps the signature

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with context():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


class _NoParamContext(_GradModeContext):
    """A context that takes no argument, so that it decorates with or without the call:
    ``@ember.no_grad()`` and ``@ember.no_grad`` alike, as PyTorch's."""

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):  # noqa: N801
    """Context manager (and decorator, with or without the call) in which no autograd graph is recorded.

    Example::

        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
        >>> @ember.no_grad
        ... def doubled(t):
        ...     return t * 2
        >>> doubled(x).requires_grad
        False
    """

    mode = False


class enable_grad(_NoParamContext):  # noqa: N801
    """Context manager (and decorator, with or without the call) that turns recording back on inside ``no_grad``."""

    mode = True


class inference_mode(no_grad):  # noqa: N801
    """Context manager (and decorator) for inference: no autograd graph is recorded, as in
    :class:`no_grad`, and :func:`is_inference_mode_enabled` is True. ``inference_mode(False)``
    leaves inference mode and turns recording on, as in PyTorch. Tensors made inside are
    inference tensors (:meth:`ember.Tensor.is_inference`), and so are their views. As in PyTorch,
    outside inference mode an in-place update of one raises (after the write), and so does an op
    that would save one for backward.

    Args:
        mode (bool): whether to enter inference mode; a function instead decorates it, as
            ``@ember.inference_mode`` without the call. Default: ``True``

    Example::

        >>> with ember.inference_mode():
        ...     print(ember.is_inference_mode_enabled(), ember.is_grad_enabled())
        True False
    """

    def __new__(cls, mode: bool | Callable[..., Any] = True) -> Any:
        if callable(mode):  # the bare decorator: inference_mode(fn)
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)  # whether inference mode is on (recording is its opposite), as PyTorch's ``mode``

    def clone(self) -> inference_mode:
        """A new ``inference_mode`` of the same setting."""
        return inference_mode(self.mode)

    def __enter__(self) -> None:
        self._prev_inference, self._prev = grad_state.inference, grad_state.enabled
        grad_state.inference, grad_state.enabled = self.mode, not self.mode
        self._version_class = _InferenceVersion if self.mode else _Version
        self._prev_version_class = enter_version_class(self._version_class)

    def __exit__(self, *exc: object) -> Literal[False]:
        grad_state.inference, grad_state.enabled = self._prev_inference, self._prev
        exit_version_class(self._version_class, self._prev_version_class)
        return False


def is_inference_mode_enabled() -> bool:
    """True inside :class:`inference_mode`.

    Example::

        >>> ember.is_inference_mode_enabled()
        False
    """
    return grad_state.inference


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set recording on or off; works as a function call or as a context manager.

    Args:
        mode (bool): whether to record.
    """

    def __init__(self, mode: bool) -> None:
        if mode.__class__ is not bool:  # PyTorch's argument parser takes a bool only: "no", 1, None refused
            kind = type(mode)
            name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
            name = "Tensor" if isinstance(mode, Tensor) else name
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {name}")
        self.mode = mode
        self._prev = grad_state.enabled
        grad_state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: _F) -> _F:
        grad_state.enabled = self._prev
        mode = self.mode
        return _decorated(fn, lambda: set_grad_enabled(mode))

    def clone(self) -> set_grad_enabled:
        """A new ``set_grad_enabled`` of the same mode (which, as any, sets the mode when made)."""
        return set_grad_enabled(self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(mode={self.mode})"
