"""``ember.func.functionalize``: a function whose outputs never alias its inputs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .pytree import tree_flatten, tree_map

__all__ = ["functionalize"]

_REMOVE = ("mutations", "mutations_and_views")


def _root(tensor: Tensor) -> Tensor:
    return tensor if tensor._base is None else tensor._base


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    r"""``func`` as PyTorch's ``functionalize`` runs it eagerly: the same values, its writes into its
    inputs still made, and outputs that share no memory with the inputs.

    PyTorch replays ``func`` with its in-place (and, for ``"mutations_and_views"``, view) ops replaced
    by out-of-place ones, for graph capture; ember runs ``func`` as it is and gives each output that
    is (a view of) an input as a view of a copy of that input (``"mutations"``: outputs viewing the
    same input still share memory) or as a copy of its own (``"mutations_and_views"``).

    Args:
        func (function): takes tensors (or pytrees of them) and returns tensors (or pytrees of them).
        remove (str): ``"mutations"`` or ``"mutations_and_views"``. Default: ``"mutations"``.

    Returns:
        A function with ``func``'s arguments.

    Example::

        >>> def flatten_in_place(x):
        ...     x.mul_(2)
        ...     return x.view(-1)
        >>> x = ember.ones(2, 2)
        >>> out = ember.func.functionalize(flatten_in_place)(x)
        >>> out.add_(1)
        tensor([3., 3., 3., 3.])
        >>> x
        tensor([[2., 2.],
                [2., 2.]])
    """
    if remove not in _REMOVE:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. Valid options "
            "are:\n     remove='mutations': all inplace and out= operators will be removed from the program, and "
            "replaced with their out-of-place equivalents.\n     remove='mutations_and_views': In addition to the "
            "above, all aliasing operators {view} will be replaced with their non-aliasing counterparts, "
            "{view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        roots = [_root(t) for t in tree_flatten((args, kwargs))[0] if isinstance(t, Tensor)]
        output = func(*args, **kwargs)
        copies: dict[int, Tensor] = {}  # id(input's root) -> its copy, which the outputs view (for "mutations")

        def unaliased(value: Any) -> Any:
            if not isinstance(value, Tensor) or not any(_root(value) is root for root in roots):
                return value
            root = _root(value)
            if remove == "mutations_and_views":
                return value.clone()
            copy = copies.setdefault(id(root), root.clone())
            if copy.stride() != root.stride():
                return value.clone()
            offset = value.storage_offset() - root.storage_offset()
            return copy.as_strided(value.shape, value.stride(), copy.storage_offset() + offset)

        return tree_map(unaliased, output)

    return wrapped
