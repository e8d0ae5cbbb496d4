"""The public calls the profiler records by PyTorch's names, above ember's autograd Functions.

Most of ember's ops are one autograd Function each, recorded at ``Function.apply``
(:mod:`ember.profiler.collector`). The calls listed here are not, or are several Functions under
PyTorch's one op (``F.layer_norm``, ``nn.MaxPool2d``, ``x.add_(y)``, ``ember.zeros``,
``optimizer.step()``): while a profiler records, each is replaced by a wrapper that opens an
event named as PyTorch names it around the call, and put back when it stops. A Function that runs directly inside such an event
under the same name (``x.add_`` -> ``aten::add_`` -> ...) is not recorded twice.

A call reached by a reference taken before recording started (``from ember import zeros``) is
not recorded by name; its Functions still are. A wrapper that code took a reference to while
recording (a class made then that stores ``F.max_pool2d``) only passes the call on once the
profiler stops.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from .schemas import call_inputs

__all__ = ["install", "remove"]

#: names that PyTorch records as ``aten::<name>`` when called on ``ember.nn.functional``: the ones ember
#: builds from several Functions (the others are recorded by their Function)
_FUNCTIONAL = (
    "layer_norm", "group_norm", "instance_norm", "max_pool1d", "max_pool2d", "max_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "kl_div", "pad", "hardtanh", "leaky_relu", "elu", "softplus", "cosine_similarity", "one_hot",
    "max_unpool1d", "max_unpool2d", "max_unpool3d",
)  # fmt: skip
#: ``ember.nn.functional`` names whose Function has PyTorch's name but which prepare their operands with
#: other ops first (a reshape in ``batch_norm``): recorded around the call, the Function's event is theirs
_FUNCTIONAL_AROUND_FUNCTION = {
    "linear": "aten::linear",
    "conv1d": "aten::conv1d",
    "conv2d": "aten::conv2d",
    "conv3d": "aten::conv3d",
    "batch_norm": "aten::batch_norm",
    "embedding": "aten::embedding",
    "dropout": "aten::dropout",
    "cross_entropy": "aten::cross_entropy_loss",
}
#: the factory functions of ``ember``, which make tensors without a Function
_FACTORIES = (
    "zeros", "ones", "empty", "full", "rand", "randn", "randint", "randperm", "arange", "linspace",
    "logspace", "eye", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
    "randint_like",
)  # fmt: skip
#: Tensor methods that are one ATen op in PyTorch and a view, a query or a composite in ember
_TENSOR_METHODS = ("t", "transpose", "unsqueeze", "squeeze", "flatten", "reshape", "detach", "item")
#: in-place methods that are no ATen op
_NOT_OPS = frozenset({"requires_grad_", "share_memory_", "pin_memory_"})

#: (owner, attribute, the owner's own value before; None: inherited) of each wrapper installed now
_installed: list[tuple[Any, str, Any]] = []


EventName = str | Callable[[tuple[Any, ...]], str]


def _recorded(function: Callable[..., Any], name: EventName, collector: Any) -> Callable[..., Any]:
    @functools.wraps(function)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        if not collector.running:  # a reference someone took while recording, used after it stopped
            return function(*args, **kwargs)
        event_name = name if isinstance(name, str) else name(args)
        # an optimizer's range is a user annotation in PyTorch (its record_function), an op's is not
        inputs = call_inputs(event_name, args, kwargs) if collector.record_shapes else ()
        event = collector.open(event_name, inputs, is_user_annotation=not event_name.startswith("aten::"))
        event.wraps_op = True
        try:
            return function(*args, **kwargs)
        finally:
            collector.close(event)

    return recorded


def _targets() -> list[tuple[Any, str, EventName]]:
    """``(owner, attribute, event name)`` of every call recorded by name."""
    import ember

    from ..nn import functional as F
    from ..nn.modules.module import Module
    from ..optim.optimizer import Optimizer
    from ..tensor import Tensor
    from ..tensor_methods import INPLACE_ALIASES

    targets: list[tuple[Any, str, EventName]] = [(F, name, f"aten::{name}") for name in _FUNCTIONAL]
    targets += [(F, name, event) for name, event in _FUNCTIONAL_AROUND_FUNCTION.items()]
    # the matmul inside linear (its module: the package's name ``linear`` is the function)
    targets.append((sys.modules[F.linear.__module__], "_matmul", "aten::matmul"))
    # the linear projections of multi-head attention, which its module calls by its own name for the function
    targets.append((sys.modules[F.multi_head_attention_forward.__module__], "linear", "aten::linear"))
    targets += [(ember, name, f"aten::{name}") for name in _FACTORIES if hasattr(ember, name)]
    targets += [(Tensor, name, f"aten::{name}") for name in _TENSOR_METHODS]
    targets += [
        (Tensor, name, f"aten::{name}")
        for name in dir(Tensor)
        if name.endswith("_") and not name.startswith("_") and name not in _NOT_OPS
    ]
    targets += [(Tensor, alias, f"aten::{name}") for alias, name in INPLACE_ALIASES.items() if alias.startswith("__")]
    for cls in _subclasses(Optimizer):  # PyTorch's names of the optimizer's ranges: "Optimizer.step#SGD.step"
        for method in ("step", "zero_grad"):
            if method in vars(cls):
                targets.append((cls, method, _optimizer_range(method)))
    for cls in _subclasses(Module):  # the pooling layers hold their functional form
        functional = vars(cls).get("_functional")
        if isinstance(functional, staticmethod) and functional.__func__.__name__ in _FUNCTIONAL:
            targets.append((cls, "_functional", f"aten::{functional.__func__.__name__}"))
    return targets


def _subclasses(root: type) -> list[type]:
    found, pending = [], [root]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _optimizer_range(method: str) -> Callable[[tuple[Any, ...]], str]:
    """The name of an optimizer's ``method`` range, after the optimizer's class (its first argument)."""
    return lambda args: f"Optimizer.{method}#{type(args[0]).__name__}.{method}"


def install(collector: Any) -> None:
    """Replace each call of :func:`_targets` by a wrapper that records it into ``collector``
    (a :class:`~ember.profiler.collector.Collector`, which calls this when it starts)."""
    for owner, attribute, name in _targets():
        own = vars(owner).get(attribute) if isinstance(owner, type) else getattr(owner, attribute)
        current = getattr(owner, attribute)
        if not callable(current) or isinstance(own, (classmethod, property)):
            continue
        _installed.append((owner, attribute, own))
        wrapper = _recorded(current, name, collector)
        setattr(owner, attribute, staticmethod(wrapper) if isinstance(own, staticmethod) else wrapper)


def remove() -> None:
    """Put back every call that :func:`install` replaced."""
    while _installed:
        owner, attribute, own = _installed.pop()
        if own is None:
            delattr(owner, attribute)
        else:
            setattr(owner, attribute, own)
