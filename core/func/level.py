"""One level of a ``torch.func`` transform on ember's tape: the inputs it differentiates, and whether
its results stay attached to the graph of an enclosing transform or of the user's autograd.

``torch.func`` stacks interpreter levels; ember records one graph, so a transform differentiates with
respect to its own inputs -- fresh leaves, or views of inputs that already require grad -- and
builds the graph of its gradients (``create_graph``) only when something outside can differentiate
them: a grad-enabled caller whose inputs or closed-over tensors require grad. Otherwise its results
come back detached, as PyTorch's do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..autograd.function import AccumulateGrad
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tangents import check_floating
from ..tensor import Tensor
from .pytree import TreeSpec, tree_flatten, tree_map

__all__ = ["Level", "check_primal", "check_tensor", "detach_tree", "flat_outputs"]


def check_tensor(value: Any) -> Tensor:
    """``value``, which a transform differentiates with respect to: it must be a tensor."""
    if not isinstance(value, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(value)}")
    return value


def check_primal(value: Any) -> Tensor:
    """``value``, a primal of a forward-mode transform: a floating-point tensor."""
    return check_floating(check_tensor(value), "primal")


def flat_outputs(output: Any, api: str, differentiable: bool = False) -> tuple[list[Tensor], TreeSpec]:
    """``(leaves, spec)`` of a function's output, which must hold tensors only (floating-point or
    complex ones with ``differentiable``, as reverse mode's cotangents need)."""
    outputs, spec = tree_flatten(output)
    for out in outputs:
        if not isinstance(out, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(out)}")
        if differentiable and not (out.is_floating_point() or out.is_complex()):
            raise RuntimeError(
                f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor with dtype "
                f"{out.dtype}"
            )
    return outputs, spec


def detach_tree(tree: Any) -> Any:
    """``tree`` with its tensors detached."""
    return tree_map(lambda v: v.detach() if isinstance(v, Tensor) else v, tree)


class Level:
    """The inputs of one transform: :attr:`inputs` are what the function is called with.

    Args:
        tensors: the tensors differentiated with respect to.
    """

    __slots__ = ("outer", "fresh", "inputs")

    def __init__(self, tensors: Sequence[Tensor]) -> None:
        self.outer = is_grad_enabled()
        self.fresh: set[Any] = set()  # the AccumulateGrad nodes of the leaves made here
        self.inputs = [self._enter(check_tensor(t)) for t in tensors]

    def _enter(self, tensor: Tensor) -> Tensor:
        if self.outer and tensor.requires_grad:
            return tensor.view_as(tensor)  # keeps the way back to the enclosing graph
        inner = tensor.detach().requires_grad_(True)
        self.fresh.add(inner._gradient_edge()[0])
        return inner

    def attached(self, tensors: Iterable[Any]) -> bool:
        """Whether ``tensors`` reach, through the graph, a leaf requiring grad other than this level's
        own: then what is computed from them must keep its graph (``create_graph=True``)."""
        if not self.outer:
            return False
        stack = [t._gradient_edge()[0] for t in tensors if isinstance(t, Tensor) and t.requires_grad]
        seen = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, AccumulateGrad):
                if node not in self.fresh:
                    return True
                continue
            stack.extend(child for child, _ in node._edges if child is not None)
        return False
