"""What a gradient hook returns, checked as PyTorch's engine checks it before it replaces a gradient: a tensor
(or None, which keeps the gradient) of the gradient's dtype, device and shape; a hook on a node returns one
value per gradient it was given.

Example::

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> _ = x.register_hook(lambda grad: ember.ones(3))
    >>> (x * 2).sum().backward()
    Traceback (most recent call last):
    ...
    RuntimeError: hook '<lambda>' has changed the size of value
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor

__all__ = ["checked_hook_result", "checked_hook_results"]


def _name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__name__", "<unknown>")


def checked_hook_result(hook: Callable[..., Any], original: Tensor | None, result: Any) -> Any:
    """``result``, which ``hook`` returned for the gradient ``original``, once checked (None passes)."""
    if result is None:
        return None
    if original is None:  # checked first, as PyTorch's check_single_result
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if result.dtype != original.dtype or result.device != original.device:
        raise RuntimeError(
            f"hook '{_name(hook)}' has changed the type of value (was {original.type()} got {result.type()})"
        )
    if result.shape != original.shape:
        raise RuntimeError(f"hook '{_name(hook)}' has changed the size of value")
    return result


def checked_hook_results(hook: Callable[..., Any], originals: Sequence[Any], results: Sequence[Any]) -> list[Any]:
    """The values a node's ``hook`` returned for the gradients ``originals``, each checked: as many as those."""
    if len(results) != len(originals):
        raise RuntimeError(
            f"hook '{_name(hook)}' has returned an incorrect number of values (got {len(results)}, but expected "
            f"{len(originals)})"
        )
    return [checked_hook_result(hook, original, result) for original, result in zip(originals, results)]
