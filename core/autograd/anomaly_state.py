"""Whether anomaly detection is on: the switches :mod:`ember.autograd.anomaly_mode` sets, kept
apart so that the autograd core reads them without importing the recording layer above it."""

from __future__ import annotations

import warnings
from typing import Any

from ..tensor import Tensor

__all__ = ["state", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "check_nan"]

state = {"enabled": False, "check_nan": True}


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    Example::

        >>> ember.autograd.anomaly_mode.is_anomaly_enabled()
        False
    """
    return state["enabled"]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks the backward results for NaN.

    Example::

        >>> ember.autograd.anomaly_mode.is_anomaly_check_nan_enabled()
        True
    """
    return state["check_nan"]


def check_nan(node: Any, grad_inputs: tuple[Any, ...]) -> None:
    """Raise PyTorch's ``RuntimeError("Function 'MulBackward0' returned nan values in its 0th output.")``
    for the first of ``grad_inputs`` (what ``node``'s backward returned) with a NaN. The engine calls it
    for each node while anomaly mode checks for NaN, whenever the node was recorded."""
    for i, (grad, (child, _)) in enumerate(zip(grad_inputs, node._edges)):
        if child is not None and isinstance(grad, Tensor) and grad.dtype.is_floating_point and bool(grad.isnan().any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def warn_forward_traceback(node: Any) -> None:
    """PyTorch's warning for an error raised in the backward of ``node`` while anomaly mode is on: the
    traceback of the forward call that made it, where anomaly mode recorded it."""
    trace = node.metadata.get("traceback_")
    if trace:
        warnings.warn(
            f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n" + "".join(trace),
            UserWarning,
            stacklevel=3,
        )
