"""Anomaly detection (``autograd.detect_anomaly``, ``autograd.set_detect_anomaly``).

While it is on, every recorded operation keeps the traceback of its forward call (in its node's
``metadata["traceback_"]``), and every backward function's results are checked for NaN: the first
one raises PyTorch's ``RuntimeError("Function 'MulBackward0' returned nan values in its 0th
output.")``, after a warning that shows the forward call that made the node.

Off (the default) it costs nothing: switching it on wraps :meth:`Function.apply` in a recording
layer (:mod:`ember.autograd.apply_layers`), and switching it off removes the layer.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ..tensor import Tensor
from .anomaly_state import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .anomaly_state import state as _state
from .apply_layers import ApplyFunction, set_apply_layer

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _recording_layer(inner: ApplyFunction) -> ApplyFunction:
    def recording_apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        outputs = inner(cls, *args, **kwargs)
        for out in outputs if isinstance(outputs, tuple) else (outputs,):
            node = out.grad_fn if isinstance(out, Tensor) else None
            if node is not None and "traceback_" not in node.metadata:
                node.metadata["traceback_"] = traceback.format_stack()[:-2]
                break
        return outputs

    return recording_apply


def _set(enabled: bool, check_nan: bool) -> None:
    _state["enabled"], _state["check_nan"] = bool(enabled), bool(check_nan)
    set_apply_layer("anomaly", _recording_layer if enabled else None)


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    r"""Turn anomaly detection on or off (at once, and back to the previous setting when used
    as a context manager or decorator that exits).

    Args:
        mode (bool): on (``True``) or off.
        check_nan (bool): check the backward results for NaN. Default: ``True``.

    Example::

        >>> x = ember.tensor([0.0], requires_grad=True)
        >>> with ember.autograd.set_detect_anomaly(True):
        ...     y = x.sqrt() * 0
        ...     y.sum().backward()  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_state["enabled"], _state["check_nan"])
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        _set(*self.prev)

    def clone(self) -> set_detect_anomaly:
        return type(self)(_state["enabled"], _state["check_nan"])


class detect_anomaly:  # noqa: N801 - PyTorch's name
    r"""A context manager (or decorator) that turns anomaly detection on inside it.

    Args:
        check_nan (bool): check the backward results for NaN. Default: ``True``.

    Example::

        >>> import warnings
        >>> x = ember.tensor([1.0], requires_grad=True)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     with ember.autograd.detect_anomaly():
        ...         (x * 2).sum().backward()
        >>> x.grad
        tensor([2.])
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = (_state["enabled"], _state["check_nan"])
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled for "
            "debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = (_state["enabled"], _state["check_nan"])
        _set(True, self.check_nan)

    def __exit__(self, *args: object) -> None:
        _set(*self.prev)

    def __call__(self, fn: _F) -> _F:
        import functools

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapped  # type: ignore[return-value]
