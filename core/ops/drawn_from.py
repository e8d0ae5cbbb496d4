"""Samples drawn from parameters that require grad: PyTorch records such a draw (``NormalBackward1``,
``BernoulliBackward0``, ``PoissonBackward0``), so the samples require grad too and the parameters get
a zero gradient through them, where ember's samplers, which draw from detached values, would leave
the samples outside the graph (and ``backward`` of a loss through them alone would raise)."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor

__all__ = ["drawn_from"]


class _DrawnFrom(Function):
    """``samples`` as they are, recorded as drawn from ``params``: a zero gradient for each of them."""

    @staticmethod
    def forward(ctx: Any, samples: Tensor, *params: Tensor) -> Tensor:
        ctx.params = [(p.shape, p.dtype, p.device) for p in params]
        return samples.detach()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        zeros = tuple(grad.new_zeros(shape, dtype=dtype, device=device) for shape, dtype, device in ctx.params)
        return (None, *zeros)


def drawn_from(samples: Tensor, *params: Any) -> Tensor:
    """``samples``, recorded as drawn from the tensors among ``params`` where autograd records and one of
    them requires grad (then the samples require grad, and the parameters get zero gradients)."""
    tensors = [p for p in params if isinstance(p, Tensor)]
    if grad_state.enabled and any(p.requires_grad for p in tensors):
        return _DrawnFrom.apply(samples, *tensors)
    return samples
