"""The gradient of an op that is linear in its input, recorded with an edge to that input.

PyTorch's backward formula of such an op (``avg_pool2d``, ``nll_loss``) reads the input it saved
(``avg_pool2d_backward(grad, self, ...)``), and its own derivative for that input is zero
(``self: zeros_like(self)`` in ``derivatives.yaml``). So under ``create_graph`` the input's
gradient requires grad even where the incoming gradient does not, its node
(``AvgPool2DBackwardBackward0``) has an edge to the input, and a second derivative through it
is zeros, not an error. A :class:`LinearGradient` is the Function that computes such a
gradient; its last ``forward`` argument is the op's input, read for its edge only.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .function import Function
from .grad_mode import grad_state
from .named_nodes import named_node

__all__ = ["LinearGradient"]


class LinearGradient(Function):
    """Base of the Function that computes the gradient of an op that is linear in its input.

    A subclass defines ``forward(ctx, grad, *args, source)``, which computes the gradient from
    ``grad`` and ignores ``source``, and ``adjoint(ctx, gg)``, which returns the gradients of
    ``grad`` and of ``args`` (the op itself applied to ``gg``, the gradient's gradient). Its
    :meth:`backward` adds zeros for ``source``, the op's input. It is called through :meth:`of`
    from the op's own backward.
    """

    @classmethod
    def of(cls, node: Any, grad: Tensor, *args: Any, index: int = 0) -> Tensor:
        """The gradient of argument ``index`` of ``node``'s op for ``grad``: ``cls.apply(grad, *args,
        source)``. Where the backward records a graph (``create_graph``), ``source`` is a tensor with
        that argument's edge, and the result's node is named as PyTorch's (``node``'s name with
        ``Backward`` doubled: "NllLossBackwardBackward0"); None otherwise."""
        source = None
        edges = getattr(node, "_edges", None)  # (none on the unrecorded node forward-mode AD runs backward on)
        if grad_state.enabled and edges and getattr(node, "needs_input_grad", ())[index : index + 1] == (True,):
            edge_node, output_nr = edges[index]
            source = grad._alias_with_grad_fn(edge_node, output_nr, True)
        result = cls.apply(grad, *args, source)
        if source is None:
            return result
        name = type(node).__name__
        # a 1-D pooling's node is named as PyTorch's squeeze after its 2-D pooling, whose gradient's last node is
        # the squeeze of its unsqueeze's backward
        return named_node(
            result, name if name == "SqueezeBackward1" else name.rpartition("Backward")[0] + "BackwardBackward0"
        )

    @staticmethod
    def adjoint(ctx: Any, gg: Tensor) -> tuple[Any, ...]:
        """The gradients of ``grad`` and of each further argument of ``forward`` but ``source``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> tuple[Any, ...]:
        zeros = gg.new_zeros(gg.shape) if ctx.needs_input_grad[-1] else None
        return (*ctx._function.adjoint(ctx, gg), zeros)
