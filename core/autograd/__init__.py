"""Automatic differentiation: the graph, ``backward``, ``grad``, ``Function`` and checks."""

from __future__ import annotations

import warnings
from typing import Any

from ..tensor import Tensor, tensor
from . import forward_ad, functional, graph
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import backward, grad, run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .multithreading import is_multithreading_enabled, set_multithreading_enabled

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "once_differentiable",
    "forward_ad",
    "functional",
    "graph",
    "detect_anomaly",
    "set_detect_anomaly",
    "set_multithreading_enabled",
    "is_multithreading_enabled",
]


class _VariableMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)  # every tensor is a Variable, as in PyTorch


class Variable(metaclass=_VariableMeta):
    """The seed's ``Variable(tensor, requires_grad=...)``: returns a tensor sharing ``data``'s storage.

    Tensors carry ``requires_grad`` themselves; this keeps classic code running, ``isinstance(x, Variable)``
    included.

    Example::

        >>> v = ember.autograd.Variable(ember.ones(2), requires_grad=True)
        >>> v.requires_grad, isinstance(v, ember.autograd.Variable)
        (True, True)
    """

    def __new__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # type: ignore[misc]
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with ember.no_grad():` instead.", stacklevel=2
            )
        t = data.detach() if isinstance(data, Tensor) else tensor(data)
        if requires_grad:
            t.requires_grad_(True)
        return t


def __getattr__(name: str) -> Any:
    # ``ember.autograd.profiler`` (PyTorch's original profiler API) is imported on first access
    if name == "profiler":
        import importlib

        return importlib.import_module(f"{__name__}.profiler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
