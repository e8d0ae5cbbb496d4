"""``ember.fx.subgraph_rewriter``: find every occurrence of a pattern in a traced module and replace it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ember import nn

from ._symbolic_trace import symbolic_trace
from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    """One occurrence of a pattern: the pattern's (first) returning node, and pattern node -> graph node."""

    anchor: Node
    nodes_map: dict[Node, Node]


def _graph_of(fn: Callable[..., Any] | GraphModule | Graph) -> tuple[Graph, nn.Module | None]:
    if isinstance(fn, Graph):
        return fn, fn.owning_module
    if isinstance(fn, GraphModule):
        return fn.graph, fn
    gm = symbolic_trace(fn)
    return gm.graph, gm


class _Matcher:
    """Matches a pattern graph against a graph, from the pattern's outputs back to its placeholders
    (which match any value)."""

    def __init__(self, pattern: Graph) -> None:
        self.pattern = pattern
        self.placeholders = [n for n in pattern.nodes if n.op == "placeholder"]
        output = next(n for n in pattern.nodes if n.op == "output")
        outs = output.args[0]
        self.returning = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        if not all(isinstance(n, Node) and n.op != "placeholder" for n in self.returning):
            raise ValueError("replace_pattern: the pattern must return the results of operations")

    def _match_arg(self, p: Any, g: Any, m: dict[Node, Node]) -> bool:
        if isinstance(p, Node):
            return isinstance(g, Node) and self._match_node(p, g, m)
        if isinstance(p, (tuple, list)):
            return type(p) is type(g) and len(p) == len(g) and all(self._match_arg(a, b, m) for a, b in zip(p, g))
        if isinstance(p, dict):
            return isinstance(g, dict) and p.keys() == g.keys() and all(self._match_arg(p[k], g[k], m) for k in p)
        return not isinstance(g, Node) and type(p) is type(g) and p == g

    def _match_node(self, p: Node, g: Node, m: dict[Node, Node]) -> bool:
        if p in m:
            return m[p] is g
        if p.op == "placeholder":
            if g in m.values():
                return False
            m[p] = g
            return True
        if g in m.values() or p.op != g.op or p.target != g.target or g.op in ("placeholder", "output"):
            return False
        if len(p.args) != len(g.args) or p.kwargs.keys() != g.kwargs.keys():
            return False
        m[p] = g
        saved = dict(m)
        if not (self._match_arg(p.args, g.args, m) and self._match_arg(p.kwargs, g.kwargs, m)):
            m.clear()
            m.update(saved)
            del m[p]
            return False
        return True

    def match_at(self, graph_nodes: list[Node], index: dict[Node, int]) -> list[Match]:
        matches: list[Match] = []
        used: set[Node] = set()

        def search(k: int, m: dict[Node, Node]) -> dict[Node, Node] | None:
            if k == len(self.returning):
                return m
            for g in graph_nodes:
                if g in used:
                    continue
                trial = dict(m)
                if self._match_node(self.returning[k], g, trial):
                    found = search(k + 1, trial)
                    if found is not None:
                        return found
            return None

        for anchor in graph_nodes:
            if anchor in used:
                continue
            m: dict[Node, Node] = {}
            if not self._match_node(self.returning[0], anchor, m):
                continue
            found = search(1, m)
            if found is None:
                continue
            inner = {g for p, g in found.items() if p.op != "placeholder"}
            if inner & used:
                continue
            outputs = {found[p] for p in self.returning}
            # a matched value other than an output may not be used outside the match
            if any(user not in inner for g in inner - outputs for user in g.users):
                continue
            matches.append(Match(anchor=self.returning[0], nodes_map=found))
            used |= inner
        return matches


def replace_pattern(
    gm: GraphModule,
    pattern: Callable[..., Any] | GraphModule,
    replacement: Callable[..., Any] | GraphModule,
) -> list[Match]:
    """Replaces every non-overlapping occurrence of ``pattern`` in ``gm``'s graph by ``replacement``.

    Both are traced with :func:`~ember.fx.symbolic_trace` (or given as graph modules); the pattern's
    placeholders match any value and are passed, in order, as the replacement's arguments. A match
    whose inner values are used outside it is skipped. ``gm`` is recompiled.

    Args:
        gm (GraphModule): the module to rewrite, in place.
        pattern (Callable or GraphModule): the computation to find.
        replacement (Callable or GraphModule): what to put in its place (same arguments).

    Returns:
        list[Match]: the occurrences replaced.

    Example::

        >>> import ember, ember.fx
        >>> from ember.fx import replace_pattern
        >>> class M(ember.nn.Module):
        ...     def forward(self, x, w):
        ...         return ember.add(ember.mul(x, w), 1).relu() + ember.mul(x, w)
        >>> def pattern(a, b):
        ...     return ember.add(ember.mul(a, b), 1)
        >>> def replacement(a, b):
        ...     return ember.addcmul(ember.ones_like(a), a, b)
        >>> gm = ember.fx.symbolic_trace(M())
        >>> len(replace_pattern(gm, pattern, replacement))
        1
        >>> x, w = ember.randn(3), ember.randn(3)
        >>> ember.allclose(gm(x, w), (x * w + 1).relu() + x * w)
        True
    """
    original = gm.graph
    pattern_graph, _ = _graph_of(pattern)
    replacement_graph, replacement_module = _graph_of(replacement)
    matcher = _Matcher(pattern_graph)
    nodes = list(original.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    matches = matcher.match_at(nodes, index)
    replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    if len(replacement_placeholders) != len(matcher.placeholders):
        raise ValueError(
            f"replace_pattern: the pattern takes {len(matcher.placeholders)} arguments, "
            f"the replacement {len(replacement_placeholders)}"
        )
    for match in matches:
        inner = [g for p, g in match.nodes_map.items() if p.op != "placeholder"]
        returning = [match.nodes_map[p] for p in matcher.returning]
        # the replacement goes before the first user of the matched outputs (after them if unused), as torch's
        users = {u for g in returning for u in g.users}
        first_user = next((n for n in original.nodes if n in users), None)
        if first_user is None:
            first_user = max(returning, key=lambda n: index[n]).next
        insert_point = original.inserting_before(first_user)
        val_map: dict[Node, Any] = {
            rp: match.nodes_map[pp] for rp, pp in zip(replacement_placeholders, matcher.placeholders)
        }
        with insert_point:
            for rn in replacement_graph.nodes:
                if rn.op == "placeholder":
                    continue
                if rn.op == "output":
                    outs = rn.args[0]
                    new_outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
                    continue
                if rn.op in ("get_attr", "call_module") and replacement_module is not None:
                    _copy_target(replacement_module, gm, rn.target)
                val_map[rn] = original.node_copy(rn, val_map.__getitem__)
        new_values = [val_map[o] if isinstance(o, Node) else o for o in new_outs]
        if len(new_values) != len(matcher.returning):
            raise ValueError("replace_pattern: the pattern and the replacement return different numbers of values")
        for p_out, new in zip(matcher.returning, new_values):
            match.nodes_map[p_out].replace_all_uses_with(new)
        for g in sorted(inner, key=lambda n: index[n], reverse=True):
            if not g.users:
                original.erase_node(g)
    gm.recompile()
    return matches


def _copy_target(src: nn.Module, dst: GraphModule, target: str) -> None:
    obj: Any = dst
    for atom in target.split("."):
        if not hasattr(obj, atom):
            break
        obj = getattr(obj, atom)
    else:
        return
    value: Any = src
    for atom in target.split("."):
        value = getattr(value, atom)
    if isinstance(value, nn.Module):
        dst.add_submodule(target, value)
    else:
        *prefix, field = target.split(".")
        owner: Any = dst
        for atom in prefix:
            if not hasattr(owner, atom):
                dst.add_submodule(".".join(prefix[: prefix.index(atom) + 1]), nn.Module())
            owner = getattr(owner, atom)
        setattr(owner, field, value)
