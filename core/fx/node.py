"""``ember.fx.node``: the :class:`Node` of an FX :class:`~ember.fx.Graph`, and the argument mappers.

A node is one operation of a traced program: its ``op`` (``placeholder``, ``get_attr``,
``call_function``, ``call_method``, ``call_module`` or ``output``), its ``target`` (a name or a
callable), its ``args``/``kwargs`` (which may hold other nodes), and the bookkeeping that keeps
the graph's use-def chains (``users``, ``all_input_nodes``) consistent, as in ``torch.fx``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._namespaces import qualified_names

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Node", "Argument", "Target", "map_arg", "map_aggregate", "has_side_effect"]

Target = Any
Argument = Any

_OPS = frozenset(("placeholder", "get_attr", "call_function", "call_method", "call_module", "output", "root"))

# Functions a dead-code pass must keep although nothing uses their result.
_side_effectful_functions: set[Callable[..., Any]] = set()


def has_side_effect(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks ``fn`` as side-effectful: :meth:`Graph.eliminate_dead_code` keeps its calls.

    Args:
        fn (Callable): the function; returned unchanged, so this can be a decorator.

    Example::

        >>> from ember.fx.node import has_side_effect
        >>> @has_side_effect
        ... def log(x):
        ...     return None
    """
    _side_effectful_functions.add(fn)
    return fn


def _get_qualified_name(func: Callable[..., Any]) -> str:
    """The dotted name under which generated code reaches ``func`` (``ember.relu``, ``operator.add``)."""
    if getattr(builtins, getattr(func, "__name__", ""), None) is func:
        return func.__name__
    public = qualified_names().get(id(func))
    if public is not None:
        return public
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "<lambda>":
        raise RuntimeError("Unable to represent lambda")
    module = getattr(func, "__module__", None) or "builtins"
    return f"{module}.{name}"


def _format_arg(arg: object) -> str:
    if isinstance(arg, list):
        return f"[{', '.join(_format_arg(a) for a in arg)}]"
    if isinstance(arg, tuple):
        items = ", ".join(_format_arg(a) for a in arg)
        return f"({items}{',' if len(arg) == 1 else ''})"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


def _type_repr(obj: object) -> str:
    if isinstance(obj, type):
        public = qualified_names().get(id(obj))  # ember.Tensor, not ember.tensor.Tensor
        if public is not None:
            return public
        return obj.__qualname__ if obj.__module__ == "builtins" else f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    return repr(obj)


class Node:
    """One operation of an FX :class:`~ember.fx.Graph`.

    ``op`` says what the node does:

    - ``placeholder``: an input of the function; ``target`` is the argument's name, ``args`` holds
      its default value, if any.
    - ``get_attr``: fetches a parameter, buffer or submodule; ``target`` is its dotted name.
    - ``call_function``: calls the callable ``target`` with ``args``/``kwargs``.
    - ``call_method``: calls method ``target`` (a name) on ``args[0]``.
    - ``call_module``: calls the submodule named ``target``.
    - ``output``: the value the function returns, ``args[0]``.

    Nodes are made by :class:`~ember.fx.Graph`'s methods, never directly.

    Example::

        >>> import ember.fx
        >>> g = ember.fx.Graph()
        >>> x = g.placeholder("x")
        >>> y = g.call_method("relu", (x,))
        >>> _ = g.output(y)
        >>> y.op, y.target, y.args, list(x.users)
        ('call_method', 'relu', (x,), [relu])
    """

    def __init__(
        self,
        graph: Graph,
        name: str,
        op: str,
        target: Target,
        args: tuple[Argument, ...],
        kwargs: dict[str, Argument],
        return_type: Any | None = None,
    ) -> None:
        if op not in _OPS:
            raise ValueError(f"Node: unknown op {op!r}; expected one of {sorted(_OPS - {'root'})}")
        if op == "call_function" and not callable(target):
            raise ValueError(
                f"Node [graph = {graph}, name = '{name}'] target {target} has type {type(target)} but a Callable is expected"
            )
        if op in ("placeholder", "get_attr", "call_method", "call_module") and not isinstance(target, str):
            raise ValueError(
                f"Node [graph = {graph}, name = '{name}'] target {target} has type {type(target)} but a str is expected"
            )
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self._input_nodes: dict[Node, None] = {}
        self.users: dict[Node, None] = {}
        self.type = return_type
        self._prev = self
        self._next = self
        self._erased = False
        self.meta: dict[str, Any] = {}
        self._args: tuple[Argument, ...] = ()
        self._kwargs: dict[str, Argument] = {}
        self._update_args_kwargs(args, kwargs)

    # -- the linked list ---------------------------------------------------------------------
    @property
    def next(self) -> Node:
        """The node after this one in the graph (the root sentinel after the last)."""
        return self._next

    @property
    def prev(self) -> Node:
        """The node before this one in the graph (the root sentinel before the first)."""
        return self._prev

    def _remove_from_list(self) -> None:
        p, n = self._prev, self._next
        p._next, n._prev = n, p
        self._prev = self._next = self

    def prepend(self, x: Node) -> None:
        """Inserts ``x`` before this node (moving it if it is already in the graph).

        Args:
            x (Node): a node of the same graph.
        """
        if x is self:
            raise AssertionError("Cannot prepend a node to itself")
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x: Node) -> None:
        """Inserts ``x`` after this node (moving it if it is already in the graph).

        Args:
            x (Node): a node of the same graph.
        """
        self._next.prepend(x)

    # -- arguments and uses --------------------------------------------------------------------
    @property
    def args(self) -> tuple[Argument, ...]:
        """The positional arguments; assigning them updates the use-def chains."""
        return self._args

    @args.setter
    def args(self, a: tuple[Argument, ...]) -> None:
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self) -> dict[str, Argument]:
        """The keyword arguments; assigning them updates the use-def chains."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k: dict[str, Argument]) -> None:
        self._update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self) -> list[Node]:
        """The nodes this node's ``args`` and ``kwargs`` refer to, in order of first appearance."""
        return list(self._input_nodes)

    def _update_args_kwargs(self, new_args: tuple[Argument, ...], new_kwargs: dict[str, Argument]) -> None:
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = {}

        def collect(n: Node) -> Node:
            self._input_nodes.setdefault(n)
            return n

        self._args = map_arg(tuple(new_args), collect)
        self._kwargs = map_arg(dict(new_kwargs), collect)
        for n in self._input_nodes:
            n.users.setdefault(self)

    def update_arg(self, idx: int, arg: Argument) -> None:
        """Sets ``args[idx]`` to ``arg``.

        Args:
            idx (int): the position.
            arg (Argument): the new value.
        """
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx: int, arg: Argument) -> None:
        """Inserts ``arg`` into ``args`` at ``idx``.

        Args:
            idx (int): the position.
            arg (Argument): the new value.
        """
        self.args = self.args[:idx] + (arg,) + self.args[idx:]

    def update_kwarg(self, key: str, arg: Argument) -> None:
        """Sets ``kwargs[key]`` to ``arg``.

        Args:
            key (str): the keyword.
            arg (Argument): the new value.
        """
        self.kwargs = {**self.kwargs, key: arg}

    def replace_all_uses_with(
        self,
        replace_with: Node,
        delete_user_cb: Callable[[Node], bool] | None = None,
        *,
        propagate_meta: bool = False,
    ) -> list[Node]:
        """Replaces every use of this node in the graph by ``replace_with``.

        Args:
            replace_with (Node): the node to use instead.
            delete_user_cb (Callable, optional): called with each user; the user is left alone when it
                returns ``False``. Default: ``None`` (every user).
            propagate_meta (bool): copy this node's ``meta`` onto ``replace_with`` (whose ``meta`` must
                be empty). Default: ``False``.

        Returns:
            list[Node]: the users that were changed.

        Example::

            >>> import ember.fx
            >>> g = ember.fx.Graph()
            >>> x = g.placeholder("x")
            >>> r = g.call_method("relu", (x,))
            >>> out = g.output(r)
            >>> with g.inserting_after(r):
            ...     s = g.call_method("sigmoid", (x,))
            >>> r.replace_all_uses_with(s)
            [output]
            >>> out.args
            (sigmoid,)
        """
        if propagate_meta:
            if replace_with.meta:
                raise AssertionError(
                    "Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                    "but replace_with already has .meta keys"
                )
            replace_with.meta.update(self.meta)
        changed = []
        for user in list(self.users):
            if delete_user_cb is not None and not delete_user_cb(user):
                continue
            user.replace_input_with(self, replace_with)
            changed.append(user)
        return changed

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Replaces ``old_input`` by ``new_input`` in this node's ``args`` and ``kwargs``.

        Args:
            old_input (Node): the input to replace.
            new_input (Node): its replacement.
        """

        def swap(n: Node) -> Node:
            return new_input if n is old_input else n

        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def is_impure(self, impure_random: bool = True) -> bool:
        """Whether the node has effects beyond its result: a placeholder or output, a call of a function marked
        with :func:`has_side_effect`, a module with ``_is_impure``, and (unlike PyTorch, whose dead-code pass
        drops an unused ``x.add_(1)``) an in-place call (``x.add_(1)``, ``ember.relu_(x)``).

        Args:
            impure_random (bool): accepted for PyTorch's API. Default: ``True``.
        """
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            name = getattr(self.target, "__name__", "")
            in_place = name.endswith("_") and not name.endswith("__") and name != "_"
            return self.target in _side_effectful_functions or in_place
        if self.op == "call_method":
            return isinstance(self.target, str) and self.target.endswith("_") and not self.target.endswith("__")
        if self.op == "call_module":
            root = getattr(self.graph, "owning_module", None)
            if root is not None:
                try:
                    mod = root.get_submodule(self.target)
                except AttributeError:
                    return False
                return bool(getattr(mod, "_is_impure", False))
        return False

    # -- printing ------------------------------------------------------------------------------
    @property
    def stack_trace(self) -> str | None:
        """The source location recorded while tracing, if any."""
        return self.meta.get("stack_trace", None)

    def __repr__(self) -> str:
        return self.name

    @staticmethod
    def _pretty_print_target(target: object) -> str:
        if isinstance(target, str):
            return target
        module = getattr(target, "__module__", None)
        name = getattr(target, "__name__", None)
        if module == "builtins" and name:
            return f"builtins.{name}"
        if module == "_operator" and name:
            return f"operator.{name}"
        return _get_qualified_name(target)  # type: ignore[arg-type]

    def format_node(
        self, placeholder_names: list[str] | None = None, maybe_return_typename: list[str] | None = None
    ) -> str | None:
        """A one-line description of the node, as in the printout of its graph.

        Example::

            >>> import ember.fx
            >>> g = ember.fx.Graph()
            >>> x = g.placeholder("x")
            >>> y = g.call_function(ember.relu, (x,))
            >>> y.format_node()
            '%relu : [num_users=0] = call_function[target=ember.relu](args = (%x,), kwargs = {})'
        """
        if self.op == "placeholder":
            arg_str = self.target
            if self.type:
                arg_str += f": {_type_repr(self.type)}"
            if placeholder_names:
                placeholder_names.append(arg_str)
                return None
            maybe_typename = f"{_type_repr(self.type)} " if self.type else ""
            default_val = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = {self.op}[target={self.target}]{default_val}"
        maybe_typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        if self.op == "get_attr":
            return (
                f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                f"{self.op}[target={self._pretty_print_target(self.target)}]"
            )
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        return (
            f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
            f"{self.op}[target={self._pretty_print_target(self.target)}]("
            f"args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})"
        )


def map_arg(a: Argument, fn: Callable[[Node], Argument]) -> Argument:
    """Applies ``fn`` to every :class:`Node` inside ``a`` (nested tuples, lists, dicts and slices).

    Args:
        a (Argument): the argument structure.
        fn (Callable): called on each node; its result replaces the node.

    Example::

        >>> import ember.fx
        >>> from ember.fx.node import map_arg
        >>> g = ember.fx.Graph()
        >>> x = g.placeholder("x")
        >>> map_arg((x, [1, x]), lambda n: n.name)
        ('x', [1, 'x'])
    """
    if not callable(fn):
        raise AssertionError("map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def map_aggregate(a: Argument, fn: Callable[[Argument], Argument]) -> Argument:
    """Applies ``fn`` to every leaf of ``a`` (recursing into tuples, lists, dicts and slices).

    Args:
        a (Argument): the argument structure.
        fn (Callable): called on each leaf.

    Example::

        >>> from ember.fx.node import map_aggregate
        >>> map_aggregate({"a": (1, 2), "b": [3]}, lambda v: v * 10)
        {'a': (10, 20), 'b': [30]}
    """
    if isinstance(a, tuple):
        t = tuple(map_aggregate(elem, fn) for elem in a)
        return t if not hasattr(a, "_fields") else type(a)(*t)
    if isinstance(a, list):
        return [map_aggregate(elem, fn) for elem in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def _iter_nodes(a: Argument) -> Iterator[Node]:
    found: list[Node] = []
    map_arg(a, lambda n: found.append(n) or n)
    return iter(found)
