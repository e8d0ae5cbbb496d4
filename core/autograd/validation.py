"""The gradients a user-defined :class:`~ember.autograd.Function` returns, checked as PyTorch's
engine checks them (``validate_outputs``) before they flow on.

A gradient of another dtype than its input is cast to the input's dtype; one whose shape the
input's shape broadcasts to is summed down to it; any other shape, and another device, raise a
RuntimeError naming the function and the argument's index. Gradients past the last argument must be
None (they are dropped), one for an argument that is not a tensor too, and any other must be a tensor. ember's own functions are written to
return exact gradients and skip the check (``Function._validates_gradients``).
"""

from __future__ import annotations

from typing import Any

from ..ops.operands import sum_to
from ..tensor import Tensor
from .function import NOT_A_TENSOR

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
        RuntimeError: a gradient whose shape the input's does not broadcast to, or on another device; one
            that is not a tensor, or not None for an argument that is not a tensor or past the last one.

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
    edges = node._edges
    if len(grads) > len(edges):
        if any(grad is not None for grad in grads[len(edges) :]):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected {len(edges)}, "
                f"got {len(grads)})"
            )
        grads = grads[: len(edges)]
    out = list(grads)
    for i, (edge, grad) in enumerate(zip(edges, grads)):
        if grad is None:
            continue
        if edge is NOT_A_TENSOR:
            raise RuntimeError(
                f"function {node.name()} returned a gradient different than None at position {i + 1}, but the "
                "corresponding forward input was not a Variable"
            )
        if not isinstance(grad, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
        child, nr = edge
        if child is None:
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
