"""``ember._C``: the names PyTorch programs reach in ``torch._C`` for the ``__torch_function__``
protocol (:mod:`ember.overrides`).

Example::

    >>> class Sub(ember.Tensor):
    ...     pass
    >>> with ember._C.DisableTorchFunctionSubclass():
    ...     type(ember.ones(1).as_subclass(Sub) + 1).__name__
    'Tensor'
"""

from __future__ import annotations

from .overrides import (
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
    _is_torch_function_enabled,
    _is_torch_function_mode_enabled,
)

__all__ = [
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl",
    "_is_torch_function_enabled",
    "_is_torch_function_mode_enabled",
]
