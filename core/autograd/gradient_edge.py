"""``GradientEdge``: a place in the backward graph where a gradient flows in (PyTorch's
``torch.autograd.graph.GradientEdge``), usable wherever ``autograd.grad`` and ``backward`` take a tensor
as an output or an input.

Example::

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 2
    >>> edge = ember.autograd.graph.get_gradient_edge(y)
    >>> ember.autograd.grad((y * y).sum(), edge)
    (tensor([4., 8.]),)
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from ..tensor import Size, Tensor
from .function import AccumulateGrad, Node, gradient_edge

__all__ = ["GradientEdge", "get_gradient_edge"]


class GradientEdge(NamedTuple):
    """The ``output_nr``-th input of ``node``, where the gradient of one tensor flows in: of a leaf, its
    :class:`~ember.autograd.graph.Node` ``AccumulateGrad`` (``output_nr`` 0); of any other tensor, its
    ``grad_fn`` and which of that node's outputs the tensor is.

    ``ownership_token`` is PyTorch's way of keeping the graph alive; ember's nodes hold the graph
    themselves, and it stays ``None``.

    Example::

        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x.sin()
        >>> edge = ember.autograd.graph.GradientEdge(y.grad_fn, 0)
        >>> ember.autograd.grad(edge, x, grad_outputs=ember.ones(2))
        (tensor([ 0.5403, -0.4161]),)
    """

    node: Node
    output_nr: int
    ownership_token: Node | None = None


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The :class:`GradientEdge` where the gradient of ``tensor`` is computed:
    ``autograd.grad(loss, get_gradient_edge(x))`` equals ``autograd.grad(loss, x)``, and stays valid
    after ``x`` itself is gone or changed in place.

    Args:
        tensor (Tensor): a tensor that requires grad.

    Example::

        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> edge = ember.autograd.graph.get_gradient_edge(x)
        >>> edge.node.name(), edge.output_nr
        ('torch::autograd::AccumulateGrad', 0)
        >>> ember.autograd.grad((x**2).sum(), edge)
        (tensor([6.]),)
    """
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    node, output_nr = gradient_edge(tensor)
    return GradientEdge(node, output_nr)


def edge_meta(edge: GradientEdge) -> tuple[Any, Any, Size, Any]:
    """``(backend, device, shape, native dtype)`` of the tensor whose gradient flows into ``edge``
    (as ``Tensor._meta`` gives it), from the node: PyTorch's ``node._input_metadata[output_nr]``."""
    node = edge.node
    if isinstance(node, AccumulateGrad):
        leaf = node._variable()
        if leaf is None:
            raise RuntimeError("The leaf tensor of this gradient edge's AccumulateGrad node has been freed")
        meta = leaf._meta()
    else:
        meta = cast(Any, node)._output_meta[edge.output_nr]  # a Function node: its outputs' metadata
    backend, device, shape, native = meta
    return backend, device, Size(shape), native
