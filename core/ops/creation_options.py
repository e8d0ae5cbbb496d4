"""PyTorch's ``layout=`` and ``pin_memory=`` keywords of the tensor factories (``zeros``, ``rand``,
``arange``, the ``*_like`` functions, the ``new_*`` methods, ...).

ember's factories make dense tensors, PyTorch's ``torch.strided`` layout: ``layout=ember.strided``
(or ``None``) is accepted and another layout raises ``NotImplementedError`` naming the factory, but for
``zeros``/``empty`` with ``layout=ember.sparse_coo``, which make an empty sparse COO tensor as PyTorch's.
``pin_memory=True`` returns the result in page-locked memory, as :meth:`Tensor.pin_memory` does
(which raises ``RuntimeError`` without an accelerator, as PyTorch's CPU build does).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from ..layout import factories, sparse_coo, strided

__all__ = ["check_layout", "layout_options"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _sparse_zeros(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``zeros(*size, layout=ember.sparse_coo, ...)``: an empty sparse COO tensor of that size, as PyTorch
    makes it (no dense tensor of the size is made: a sparse one may be far larger than memory)."""
    sparse_coo_tensor = factories["sparse_coo"]  # ember.sparse's, installed in ember.layout

    size = kwargs.pop("size", None)
    if size is None:
        size = args[0] if len(args) == 1 and not isinstance(args[0], int) else args
    requires_grad = kwargs.pop("requires_grad", False)
    unknown = set(kwargs) - {"dtype", "device"}
    if unknown:
        raise TypeError(f"a sparse factory does not take {sorted(unknown)}")
    result = sparse_coo_tensor(size=tuple(int(n) for n in size), dtype=kwargs.get("dtype"), device=kwargs.get("device"))
    return result.requires_grad_() if requires_grad else result


def check_layout(op: str, layout: Any) -> None:
    """PyTorch's error for a factory ``op`` given a ``layout`` other than ``ember.strided`` (or None)."""
    if layout is not None and layout is not strided:
        raise NotImplementedError(
            f"{op}: layout {layout} is not supported: ember's factories make ember.strided tensors"
        )


def layout_options(*, pin_memory: bool) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Give a factory PyTorch's keyword-only ``layout`` (and, with ``pin_memory=True``, its
    ``pin_memory``) argument.

    Example::

        >>> ember.zeros(2, layout=ember.strided)
        tensor([0., 0.])
    """

    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        name = fn.__name__
        if pin_memory:

            @functools.wraps(fn)
            def create(*args: Any, layout: Any = None, pin_memory: bool = False, **kwargs: Any) -> Any:
                if layout is sparse_coo and name in ("zeros", "empty"):
                    return _sparse_zeros(args, kwargs)
                check_layout(name, layout)
                result = fn(*args, **kwargs)
                return result.pin_memory() if pin_memory else result

        else:

            @functools.wraps(fn)
            def create(*args: Any, layout: Any = None, **kwargs: Any) -> Any:
                check_layout(name, layout)
                return fn(*args, **kwargs)

        return cast(Callable[_P, _R], create)

    return decorate
