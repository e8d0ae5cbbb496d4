"""Autograd nodes named as PyTorch names them: a composite op's result keeps its last node, renamed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["named_node"]

_NAMED_NODES: dict[tuple[type, str], type] = {}  # (node class, name) -> its subclass of that name


def named_node(result: Tensor, name: str) -> Tensor:
    """``result``, made by a composite op, with the node that made it named as PyTorch names the op's one node
    (``F.elu``, a ``where``: "EluBackward0"): the same node, of a subclass of its class named ``name``, so that
    ``type(y.grad_fn).__name__`` and ``y.grad_fn.name()`` read PyTorch's. ``result`` as it is without a node."""
    node = result._grad_fn
    if node is None or type(node).__name__ == name:
        return result
    cls = type(node)
    renamed_cls = _NAMED_NODES.get((cls, name))
    if renamed_cls is None:
        full_name = (
            "torch::autograd::CopySlices" if name == "CopySlices" else name
        )  # a C++ node's name() has its namespace
        renamed_cls = _NAMED_NODES[cls, name] = type(name, (cls,), {"__slots__": (), "_name": full_name})
    node.__class__ = renamed_cls
    return result
