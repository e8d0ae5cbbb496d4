"""The gradients a user-defined :class:`~ember.autograd.Function` returns, checked as PyTorch's
engine checks them (``validate_outputs``) before they flow on.

A gradient of another dtype than its input is cast to the input's dtype; one whose shape the
input's shape broadcasts to is summed down to it; any other shape, and another device, raise a
RuntimeError naming the function and the argument's index. ember's own functions are written to
return exact gradients and skip the check (``Function._validates_gradients``).
"""

from __future__ import annotations

from typing import Any

from ..ops.operands import sum_to
from ..tensor import Tensor

__all__ = ["validated_gradients"]


def _expandable(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether ``shape`` broadcasts to ``target``."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def _input_meta(child: Any, nr: int) -> Any:
    """``(backend, device, shape, native dtype)`` of the tensor the edge ``(child, nr)`` leads to."""
    meta = child._output_meta
    if meta:
        return meta[nr]
    leaf = child._variable()  # AccumulateGrad: the leaf itself
    return None if leaf is None else leaf._meta()


def validated_gradients(node: Any, grads: tuple[Any, ...]) -> tuple[Any, ...]:
    """``grads``, returned by ``node``'s backward, cast and reduced to the inputs' dtypes and shapes.

    Args:
        node: the backward node whose function returned ``grads``.
        grads: one gradient (or None) per input of the function's ``forward``.

    Raises:
        RuntimeError: a gradient whose shape the input's does not broadcast to, or on another device.

    Example::

        >>> class Twice(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return (grad * 2).double()  # cast back to the input's float32
        >>> x = ember.ones(3, requires_grad=True)
        >>> Twice.apply(x).sum().backward()
        >>> x.grad
        tensor([2., 2., 2.])
    """
    out = list(grads)
    for i, ((child, nr), grad) in enumerate(zip(node._edges, grads)):
        if child is None or not isinstance(grad, Tensor):
            continue
        meta = _input_meta(child, nr)
        if meta is None:
            continue
        backend, device, shape, native = meta
        if grad._device != device:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - expected device {device} "
                f"but got {grad.device}"
            )
        if grad._data.shape != shape:
            if not _expandable(shape, grad._data.shape):
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {i} - got {list(grad.shape)} "
                    f"but expected shape compatible with {list(shape)}"
                )
            grad = sum_to(grad, shape)
        if grad._data.dtype != native:
            grad = grad.to(backend.ember_dtype(native))
        out[i] = grad
    return tuple(out)
