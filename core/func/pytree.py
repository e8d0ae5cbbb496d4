"""Nested Python containers of tensors (pytrees) as ``torch.func`` takes them: the flattening of
:mod:`ember.utils._pytree`, and the prefix matching of ``vmap``'s ``in_dims``/``out_dims``."""

from __future__ import annotations

from typing import Any

from ..utils._pytree import TreeSpec, tree_flatten, tree_is_leaf, tree_map, tree_structure, tree_unflatten

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix", "treespec_pprint"]


class _Leaf:
    def __repr__(self) -> str:
        return "*"


def treespec_pprint(spec: TreeSpec) -> str:
    """``spec`` printed as PyTorch's messages print one: its structure with ``*`` for each leaf (``(*, [*])``)."""
    return repr(tree_unflatten([_Leaf()] * spec.num_leaves, spec))


def broadcast_prefix(prefix: Any, tree: Any) -> list[Any] | None:
    """One value of ``prefix`` per leaf of ``tree``: ``prefix`` is ``tree`` cut short, each of its
    leaves standing for the whole subtree of ``tree`` there (``in_dims=0`` for every input);
    ``None`` when the two do not match. Nodes match by container family (a dict a dict, a list a
    list, a tuple a tuple, named or not), dicts by their keys too."""
    result: list[Any] = []

    def walk(p: Any, node: Any) -> bool:
        if tree_is_leaf(p):
            result.extend([p] * tree_structure(node).num_leaves)
            return True
        if tree_is_leaf(node) or not _same_family(p, node):
            return False
        p_items, p_keys = _items(p)
        items, keys = _items(node)
        return p_keys == keys and len(p_items) == len(items) and all(walk(a, b) for a, b in zip(p_items, items))

    return result if walk(prefix, tree) else None


def _items(node: Any) -> tuple[list[Any], list[Any] | None]:
    return (list(node.values()), list(node)) if isinstance(node, dict) else (list(node), None)


def _same_family(a: Any, b: Any) -> bool:
    return any(isinstance(a, family) and isinstance(b, family) for family in (dict, list, tuple))
