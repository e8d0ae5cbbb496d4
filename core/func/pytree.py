"""Nested Python containers of tensors (pytrees) as ``torch.func`` takes them: tuples (named ones
included), lists and dicts are nodes, anything else (``None`` too) is a leaf."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix"]


class TreeSpec:
    """The shape of a pytree without its leaves: ``kind`` is the node's type (``None`` for a leaf),
    ``context`` the dict keys, ``children`` the specs of its items."""

    __slots__ = ("kind", "context", "children")

    def __init__(self, kind: type | None, context: Any = None, children: tuple[TreeSpec, ...] = ()) -> None:
        self.kind = kind
        self.context = context
        self.children = children

    @property
    def is_leaf(self) -> bool:
        return self.kind is None

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.kind is other.kind
            and self.context == other.context
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        context = list(self.context) if self.context is not None else None
        return f"TreeSpec({self.kind.__name__}, {context}, [{', '.join(map(repr, self.children))}])"


_LEAF = TreeSpec(None)


def _children(tree: Any) -> tuple[type | None, Any, list[Any]]:
    if isinstance(tree, (tuple, list)):
        return type(tree), None, list(tree)
    if isinstance(tree, dict):
        return type(tree), tuple(tree), list(tree.values())
    return None, None, []


def tree_flatten(tree: Any) -> tuple[list[Any], TreeSpec]:
    """``(leaves, spec)``: the leaves of ``tree`` in order and its structure."""
    leaves: list[Any] = []

    def walk(node: Any) -> TreeSpec:
        kind, context, items = _children(node)
        if kind is None:
            leaves.append(node)
            return _LEAF
        return TreeSpec(kind, context, tuple(walk(item) for item in items))

    return leaves, walk(tree)


def tree_unflatten(leaves: list[Any], spec: TreeSpec) -> Any:
    """The pytree of structure ``spec`` holding ``leaves`` (the inverse of :func:`tree_flatten`)."""
    items = iter(leaves)

    def build(node: TreeSpec) -> Any:
        if node.kind is None:
            return next(items)
        values = [build(child) for child in node.children]
        kind: Any = node.kind
        if issubclass(kind, dict):
            return kind(zip(node.context, values))
        if issubclass(kind, tuple) and hasattr(kind, "_fields"):  # a named tuple
            return kind(*values)
        return kind(values)

    return build(spec)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``tree`` with ``fn`` applied to each leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(leaf) for leaf in leaves], spec)


def broadcast_prefix(prefix: Any, tree: Any) -> list[Any] | None:
    """One value of ``prefix`` per leaf of ``tree``: ``prefix`` is ``tree`` cut short, each of its
    leaves standing for the whole subtree of ``tree`` there (``in_dims=0`` for every input);
    ``None`` when the two do not match."""
    result: list[Any] = []

    def walk(p: Any, node: Any) -> bool:
        p_kind, p_context, p_items = _children(p)
        if p_kind is None:
            result.extend([p] * len(tree_flatten(node)[0]))
            return True
        kind, context, items = _children(node)
        if kind is None or not _same_kind(p_kind, kind) or p_context != context or len(p_items) != len(items):
            return False
        return all(walk(a, b) for a, b in zip(p_items, items))

    return result if walk(prefix, tree) else None


def _same_kind(a: type, b: type) -> bool:
    """Prefix nodes match by container family: a dict a dict, a list a list, a tuple a tuple."""
    return any(issubclass(a, family) and issubclass(b, family) for family in (dict, list, tuple))
