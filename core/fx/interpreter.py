"""``ember.fx.interpreter``: run a graph node by node (:class:`Interpreter`), or rewrite it (:class:`Transformer`)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import Any

from ember import nn

from ._namespaces import _Patcher
from ._symbolic_trace import Tracer
from .graph import Graph
from .graph_module import GraphModule
from .node import Argument, Node, Target, map_aggregate, map_arg
from .proxy import Proxy

__all__ = ["Interpreter", "Transformer"]


class Interpreter:
    """Runs a :class:`~ember.fx.GraphModule` one node at a time.

    Each node is run by the method named after its op (:meth:`placeholder`, :meth:`get_attr`,
    :meth:`call_function`, :meth:`call_method`, :meth:`call_module`, :meth:`output`), called with the
    node's target and its arguments with every node replaced by its value; override them to observe
    or change what the program does.

    Args:
        module (Module): the module to run (a :class:`~ember.fx.GraphModule` unless ``graph`` is given).
        garbage_collect_values (bool): drop each value after its last use. Default: ``True``.
        graph (Graph, optional): the graph to run on ``module``. Default: ``module.graph``.

    Example::

        >>> import ember, ember.fx
        >>> class NegSigmoid(ember.fx.Interpreter):
        ...     def call_function(self, target, args, kwargs):
        ...         if target is ember.sigmoid:
        ...             return ember.neg(ember.sigmoid(*args, **kwargs))
        ...         return super().call_function(target, args, kwargs)
        >>> def fn(x):
        ...     return ember.sigmoid(x).neg()
        >>> gm = ember.fx.symbolic_trace(fn)
        >>> x = ember.randn(3)
        >>> ember.allclose(NegSigmoid(gm).run(x), ember.sigmoid(x))
        True
    """

    def __init__(self, module: nn.Module, garbage_collect_values: bool = True, graph: Graph | None = None) -> None:
        self.module = module
        self.submodules = dict(self.module.named_modules())
        if graph is not None:
            self.graph = graph
        else:
            self.graph = module.graph  # type: ignore[assignment]
        self.env: dict[Node, Any] = {}
        self.name = "Interpreter"
        self.garbage_collect_values = garbage_collect_values
        self.extra_traceback = True
        if self.garbage_collect_values:
            node_to_last_use: dict[Node, Node] = {}
            self.user_to_last_uses: dict[Node, list[Node]] = {}
            for node in reversed(self.graph.nodes):
                for n in node._input_nodes:
                    if n not in node_to_last_use:
                        node_to_last_use[n] = node
                        self.user_to_last_uses.setdefault(node, []).append(n)

    def run(self, *args: Any, initial_env: dict[Node, Any] | None = None, enable_io_processing: bool = True) -> Any:
        """Runs the graph on ``args`` and returns its output.

        Args:
            *args: the values of the placeholders, in order.
            initial_env (dict, optional): values already known for some nodes (they are not run).
                Default: ``None``.
            enable_io_processing (bool): accepted for PyTorch's API. Default: ``True``.
        """
        self.env = dict(initial_env) if initial_env is not None else {}
        self.args_iter: Iterator[Any] = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                self.env[node] = self.run_node(node)
            except Exception as e:
                if self.extra_traceback:  # the node named in the message, as torch.fx's Interpreter does
                    msg = f"While executing {node.format_node()}"
                    msg = f"{e.args[0]}\n\n{msg}" if e.args else msg
                    msg += f"\nOriginal traceback:\n{node.stack_trace}"
                    e.args = (msg, *e.args[1:])
                    if isinstance(e, KeyError):
                        raise RuntimeError(*e.args) from e
                raise
            if self.garbage_collect_values:
                for to_delete in self.user_to_last_uses.get(node, []):
                    del self.env[to_delete]
            if node.op == "output":
                return self.env[node]
        return None

    def run_node(self, n: Node) -> Any:
        """Runs one node: fetches its arguments' values and calls the method named after its op."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    # -- one method per op -------------------------------------------------------------------------
    def placeholder(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """The next argument of :meth:`run` (the rest, for ``*args``; the default when none is left)."""
        if target.startswith("*"):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration as si:
            if len(args) > 0:
                return args[0]
            raise RuntimeError(
                f"Expected positional argument for parameter {target}, but one was not passed in!"
            ) from si

    def get_attr(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """The module's attribute at dotted path ``target``."""
        return self.fetch_attr(target)

    def call_function(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """``target(*args, **kwargs)``."""
        return target(*args, **kwargs)

    def call_method(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """``args[0].target(*args[1:], **kwargs)``."""
        self_obj, *args_tail = args
        return getattr(self_obj, target)(*args_tail, **kwargs)

    def call_module(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """Calls the submodule at dotted path ``target``."""
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        """The value returned: ``args[0]``."""
        return args[0]

    # -- helpers -----------------------------------------------------------------------------------
    def fetch_attr(self, target: str) -> Any:
        """The attribute at dotted path ``target`` of the module.

        Raises:
            RuntimeError: a part of the path does not exist.
        """
        target_atoms = target.split(".")
        attr_itr: Any = self.module
        for i, atom in enumerate(target_atoms):
            if not hasattr(attr_itr, atom):
                raise RuntimeError(f"Node referenced nonexistent target {'.'.join(target_atoms[: i + 1])}")
            attr_itr = getattr(attr_itr, atom)
        return attr_itr

    def fetch_args_kwargs_from_env(self, n: Node) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``n``'s ``args`` and ``kwargs`` with each node replaced by its computed value."""
        args = self.map_nodes_to_values(n.args, n)
        kwargs = self.map_nodes_to_values(n.kwargs, n)
        return args, kwargs

    def map_nodes_to_values(self, args: Argument, n: Node) -> Argument:
        """``args`` with each node replaced by its computed value.

        Raises:
            RuntimeError: a node has no value (the graph is not topologically ordered).
        """

        def load_arg(n_arg: Node) -> Any:
            if n_arg not in self.env:
                raise RuntimeError(
                    f"Node {n} referenced nonexistent value {n_arg}! Run Graph.lint() to diagnose such issues"
                )
            return self.env[n_arg]

        return map_arg(args, load_arg)


class _TransformerTracer(Tracer):
    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return True


class Transformer(Interpreter):
    """Rewrites a :class:`~ember.fx.GraphModule` by running it on proxies: each overridden op method
    may return different calls, which are recorded into a new graph; :meth:`transform` returns it
    as a new :class:`~ember.fx.GraphModule`.

    Args:
        module (GraphModule): the module to transform.

    Example::

        >>> import ember, ember.fx
        >>> class ReluToGelu(ember.fx.Transformer):
        ...     def call_function(self, target, args, kwargs):
        ...         if target is ember.relu:
        ...             target = ember.nn.functional.gelu
        ...         return super().call_function(target, args, kwargs)
        >>> gm = ember.fx.symbolic_trace(lambda x: ember.relu(x) * 2)
        >>> new = ReluToGelu(gm).transform()
        >>> x = ember.randn(4)
        >>> ember.allclose(new(x), ember.nn.functional.gelu(x) * 2)
        True
    """

    def __init__(self, module: GraphModule) -> None:
        super().__init__(module)
        self.new_graph = Graph()
        self.tracer = _TransformerTracer(self.new_graph)
        self.tracer.root = module

    def placeholder(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Proxy:
        default_value = next(iter(args)) if args else inspect.Signature.empty
        return Proxy(self.new_graph.placeholder(target, default_value=default_value), self.tracer)

    def get_attr(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Proxy:
        return self.tracer.create_proxy("get_attr", target, args, kwargs)

    def call_module(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        submod = self.fetch_attr(target)
        return self.tracer.call_module(submod, submod.forward, args, kwargs)

    def call_function(self, target: Target, args: tuple[Argument, ...], kwargs: dict[str, Any]) -> Any:
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def transform(self) -> GraphModule:
        """Runs the transformation and returns the new module."""
        with _Patcher(Proxy) as patcher:  # ember's functions called on proxies by the overrides are recorded
            patcher.patch_namespaces()
            for cls in type(self).__mro__:
                module = sys.modules.get(cls.__module__)
                if module is not None and cls.__module__ != __name__:
                    patcher.patch_globals(vars(module))
            result = super().run(enable_io_processing=False)
        if result is not None:
            self.new_graph.output(map_aggregate(result, lambda a: a.node if isinstance(a, Proxy) else a))
        return GraphModule(self.module, self.new_graph)
