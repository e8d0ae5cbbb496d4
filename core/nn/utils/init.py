"""``skip_init``: build a module without (needing) its parameter initialisation."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from ..modules.module import Module

__all__ = ["skip_init"]

_M = TypeVar("_M")


def skip_init(module_cls: type[_M], *args: Any, **kwargs: Any) -> _M:
    r"""Instantiate ``module_cls(*args, **kwargs)`` whose parameters the caller will set.

    As PyTorch's, the module is built on the ``meta`` device and its storage then allocated,
    uninitialised, on ``device`` (:meth:`~ember.nn.Module.to_empty`): its initialiser draws nothing
    from the random generator.

    Args:
        module_cls: a :class:`~ember.nn.Module` subclass whose constructor takes ``device``.
        args, kwargs: the constructor's arguments (``device`` defaults to ``"cpu"``).

    Example::

        >>> m = nn.utils.skip_init(nn.Linear, 5, 1)
        >>> m.weight.shape
        ember.Size([1, 5])
    """
    if not isinstance(module_cls, type) or not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
