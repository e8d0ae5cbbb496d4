"""``ember.fx.graph``: the :class:`Graph` of an FX program and its Python code generation."""

from __future__ import annotations

import builtins
import contextlib
import enum
import inspect
import keyword
import math
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ember

from ._namespaces import qualified_names
from .node import Argument, Node, Target, _format_arg, _get_qualified_name, _type_repr, map_arg

__all__ = ["Graph", "PythonCode", "CodeGen"]

# names generated code must not shadow: keywords, builtins, and the globals every generated module has
_illegal_names: dict[str, object] = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)
_CUSTOM_BUILTINS: dict[str, object] = {
    "inf": math.inf,
    "nan": math.nan,
    "NoneType": type(None),
    "ember": ember,
    "device": ember.device,
}
_illegal_names.update(_CUSTOM_BUILTINS)

_snake_case_re = re.compile(r"(?<=[a-z])([A-Z])")
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")

reflectable_magic_methods = {
    "add": "{} + {}",
    "sub": "{} - {}",
    "mul": "{} * {}",
    "floordiv": "{} // {}",
    "truediv": "{} / {}",
    "div": "{} / {}",
    "mod": "{} % {}",
    "pow": "{} ** {}",
    "lshift": "{} << {}",
    "rshift": "{} >> {}",
    "and_": "{} & {}",
    "or_": "{} | {}",
    "xor": "{} ^ {}",
    "getitem": "{}[{}]",
    "matmul": "{} @ {}",
}
magic_methods = {
    "eq": "{} == {}",
    "ne": "{} != {}",
    "lt": "{} < {}",
    "gt": "{} > {}",
    "le": "{} <= {}",
    "ge": "{} >= {}",
    "pos": "+{}",
    "neg": "-{}",
    "invert": "~{}",
    **reflectable_magic_methods,
}


# the typing aliases generated annotations name for the builtin generics (torch.fx's choice: typing.List[...])
_ORIGIN_TYPES = {
    origin: getattr(typing, name)
    for origin, name in ((list, "List"), (dict, "Dict"), (set, "Set"), (frozenset, "FrozenSet"), (tuple, "Tuple"))
}


def _snake_case(s: str) -> str:
    return _snake_case_re.sub(r"_\1", s).lower()


def _is_magic(x: str) -> bool:
    return x.startswith("__") and x.endswith("__")


def _format_target(base: str, target: str) -> str:
    r = base
    for e in target.split("."):
        r = f"{r}.{e}" if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


class _Namespace:
    """Unique names: each object one name, no name twice, no builtin or keyword shadowed."""

    def __init__(self) -> None:
        self._obj_to_name: dict[int, str] = {}
        self._used_names: set[str] = set()
        self._base_count: dict[str, int] = {}

    def create_name(self, candidate: str, obj: object | None) -> str:
        if obj is not None and id(obj) in self._obj_to_name:
            return self._obj_to_name[id(obj)]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate) or "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
            assert match is not None
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            count = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                count += 1
                candidate = f"{base}_{count}"
        else:
            count = int(num)
        while candidate in self._used_names:
            count += 1
            candidate = f"{base}_{count}"
        self._used_names.add(candidate)
        self._base_count[base] = count
        if obj is not None:
            self._obj_to_name[id(obj)] = candidate
        return candidate


@dataclass
class PythonCode:
    """The source of a generated ``forward`` and the globals it runs with."""

    src: str
    globals: dict[str, Any]


class _NodeList:
    """A live view of a graph's nodes, in order (or reversed)."""

    def __init__(self, graph: Graph, direction: str = "_next") -> None:
        self._graph = graph
        self._dir = direction

    def __len__(self) -> int:
        return self._graph._len

    def __iter__(self) -> Iterator[Node]:
        root = self._graph._root
        cur = getattr(root, self._dir)
        while cur is not root:
            nxt = getattr(cur, self._dir)
            if not cur._erased:
                yield cur
            cur = nxt

    def __reversed__(self) -> Iterator[Node]:
        return iter(_NodeList(self._graph, "_prev" if self._dir == "_next" else "_next"))

    def __repr__(self) -> str:
        return repr(list(self))


class _InsertPoint:
    def __init__(self, graph: Graph, new_insert: Callable[[Node], None]) -> None:
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        self.graph._insert = self.orig_insert


class CodeGen:
    """Turns a graph's nodes into the source of a Python ``forward`` function (PyTorch's ``fx.CodeGen``)."""

    def gen_fn_def(self, free_vars: list[str], maybe_return_annotation: str) -> str:
        if not free_vars or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def forward({', '.join(free_vars)}){maybe_return_annotation}:"

    def generate_output(self, output_args: Argument, repr_fn: Callable[[object], str]) -> str:
        return f"return {repr_fn(output_args)}"

    def gen_python_code(
        self, nodes: list[Node], root_module: str, namespace: _Namespace, verbose: bool = False
    ) -> PythonCode:
        free_vars: list[str] = []
        body: list[str] = []
        globals_: dict[str, Any] = {}
        public = qualified_names()
        wrapped_fns: dict[str, None] = {}
        maybe_return_annotation = [""]

        def add_global(name_hint: str, obj: Any) -> str:
            if id(obj) in public and obj is not ember.device:
                return public[id(obj)]
            global_name = namespace.create_name(name_hint, obj)
            if global_name in globals_ and globals_[global_name] is not obj:
                raise AssertionError(f"Global name {global_name} already assigned to different object")
            globals_[global_name] = obj
            return global_name

        for name, obj in _CUSTOM_BUILTINS.items():
            add_global(name, obj)

        def type_repr(o: object) -> str:
            if o == ():
                return "()"
            if isinstance(o, types.UnionType):
                return "|".join(type_repr(a) for a in typing.get_args(o))
            origin = getattr(o, "__origin__", None)
            if origin is not None:  # List[Tensor], typing.Optional[...]: the origin and each argument as globals
                if isinstance(o, typing._GenericAlias):  # type: ignore[attr-defined]
                    origin = _ORIGIN_TYPES.get(origin, origin)
                origin_name = add_global(_type_repr(origin), origin)
                args = typing.get_args(o)
                return f"{origin_name}[{','.join(type_repr(a) for a in args)}]" if args else origin_name
            return add_global(_type_repr(o), o)

        def get_repr(arg: object) -> str:
            if isinstance(arg, Node):
                return arg.name
            if isinstance(arg, tuple) and hasattr(arg, "_fields"):
                global_name = add_global(_get_qualified_name(type(arg)), type(arg))
                return f"{global_name}{tuple(get_repr(a) for a in arg)!r}".replace("'", "")
            if isinstance(arg, enum.Enum):
                return f"{add_global(type(arg).__name__, type(arg))}.{arg.name}"
            if isinstance(arg, ember.Tensor):
                dtype = str(arg.dtype).split(".")[-1]
                return f"ember.Tensor(size={list(arg.size())}, dtype={dtype})"
            if isinstance(arg, tuple):
                if len(arg) == 1:
                    return f"({get_repr(arg[0])},)"
                return "(" + ", ".join(get_repr(a) for a in arg) + ")"
            if isinstance(arg, list):
                return "[" + ", ".join(get_repr(a) for a in arg) + "]"
            if isinstance(arg, dict):
                return "{" + ", ".join(f"{k!r}: {get_repr(v)}" for k, v in arg.items()) + "}"
            if isinstance(arg, slice):
                return f"slice({get_repr(arg.start)}, {get_repr(arg.stop)}, {get_repr(arg.step)})"
            if isinstance(arg, type):
                return type_repr(arg)
            if callable(arg) and not isinstance(arg, ember.nn.Module) and hasattr(arg, "__name__"):
                return add_global(_get_qualified_name(arg), arg)
            return repr(arg)

        def format_args(args: tuple[Argument, ...], kwargs: dict[str, Argument]) -> str:
            parts = [get_repr(a) for a in args]
            parts.extend(f"{k} = {get_repr(v)}" for k, v in kwargs.items())
            return ", ".join(parts)

        # the last use of each value: it is set to None after that, to free memory early
        user_to_last_uses: dict[Node, list[Node]] = {}
        seen: set[Node] = set()
        for node in reversed(nodes):
            for input_node in node._input_nodes:
                if input_node not in seen:
                    seen.add(input_node)
                    user_to_last_uses.setdefault(node, []).append(input_node)

        def delete_unused_values(user: Node) -> None:
            if user.op == "placeholder":
                return
            if user.op == "output":
                body.append("\n")
                return
            to_delete = list(user_to_last_uses.get(user, []))
            if not user.users:
                to_delete.append(user)
            if to_delete:
                body.append(f";  {' = '.join([n.name for n in to_delete] + ['None'])}\n")
            else:
                body.append("\n")

        def emit_node(node: Node) -> None:
            annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            if node.op == "placeholder":
                default = "" if not node.args else f" = {get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{annotation}{default}")
                raw_name = node.target.replace("*", "")
                if raw_name != node.name:
                    body.append(f"{node.name} = {raw_name}\n")
                return
            if node.op == "call_method":
                body.append(
                    f"{node.name}{annotation} = {_format_target(get_repr(node.args[0]), node.target)}"
                    f"({format_args(node.args[1:], node.kwargs)})"
                )
                return
            if node.op == "call_function":
                target = node.target
                if getattr(target, "__module__", "") == "_operator" and target.__name__ in magic_methods:
                    rendered = magic_methods[target.__name__].format(*(get_repr(a) for a in node.args))
                    body.append(f"{node.name}{annotation} = {rendered}")
                    return
                global_name = add_global(_get_qualified_name(target), target)
                if (
                    global_name == "getattr"
                    and len(node.args) == 2
                    and isinstance(node.args[1], str)
                    and node.args[1].isidentifier()
                ):
                    body.append(f"{node.name}{annotation} = {_format_target(get_repr(node.args[0]), node.args[1])}")
                    return
                body.append(f"{node.name}{annotation} = {global_name}({format_args(node.args, node.kwargs)})")
                if node.meta.get("is_wrapped", False):
                    wrapped_fns.setdefault(global_name)
                return
            if node.op == "call_module":
                body.append(
                    f"{node.name}{annotation} = {_format_target(root_module, node.target)}"
                    f"({format_args(node.args, node.kwargs)})"
                )
                return
            if node.op == "get_attr":
                body.append(f"{node.name}{annotation} = {_format_target(root_module, node.target)}")
                return
            if node.op == "output":
                if node.type is not None:
                    maybe_return_annotation[0] = f" -> {type_repr(node.type)}"
                body.append(self.generate_output(node.args[0], get_repr))
                return
            raise NotImplementedError(f"node: {node.op} {node.target}")

        prev_summary = None
        for node in nodes:
            if verbose and node.op not in ("placeholder", "output"):  # torch's source-location comment
                trace = node.meta.get("stack_trace")
                summary = f"\n# {trace.strip().splitlines()[-1].strip() if trace else 'No stacktrace found for following nodes'}\n"
                if summary != prev_summary:
                    prev_summary = summary
                    body.append(summary)
            emit_node(node)
            delete_unused_values(node)
        if not body:
            body.append("pass\n")
        if wrapped_fns:
            wrap_name = "ember.fx._symbolic_trace.wrap"  # as torch.fx names its wrap (ember is a global)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
        else:
            wrap_stmts = ""
        prologue = self.gen_fn_def(free_vars, maybe_return_annotation[0])
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        return PythonCode(f"\n{wrap_stmts}\n\n{prologue}\n{code}", globals_)


class Graph:
    """The intermediate representation of an FX program: a doubly linked list of :class:`Node` s.

    Graphs are usually made by :func:`ember.fx.symbolic_trace`; they can also be built, edited and
    turned into Python code directly. ``str(graph)`` prints one line per node, as PyTorch does.

    Args:
        owning_module (GraphModule, optional): the module the graph belongs to. Default: ``None``.
        tracer_cls (type, optional): the tracer that made the graph. Default: ``None``.

    Example::

        >>> import operator, ember, ember.fx
        >>> g = ember.fx.Graph()
        >>> x = g.placeholder("x")
        >>> r = g.call_function(ember.relu, (x,))
        >>> y = g.call_function(operator.add, (r, 1))
        >>> _ = g.output(y)
        >>> print(g)
        graph():
            %x : [num_users=1] = placeholder[target=x]
            %relu : [num_users=1] = call_function[target=ember.relu](args = (%x,), kwargs = {})
            %add : [num_users=1] = call_function[target=operator.add](args = (%relu, 1), kwargs = {})
            return add
        >>> print(g.python_code("self").src.strip())
        def forward(self, x):
            relu = ember.relu(x);  x = None
            add = relu + 1;  relu = None
            return add
    """

    def __init__(self, owning_module: Any = None, tracer_cls: type | None = None) -> None:
        self._root = Node(self, "", "root", "", (), {})
        self._used_names: dict[str, int] = {}
        self._insert: Callable[[Node], None] = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._codegen = CodeGen()

    @property
    def owning_module(self) -> Any:
        """The :class:`GraphModule` this graph belongs to, if any."""
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod: Any) -> None:
        self._owning_module = mod

    @property
    def nodes(self) -> _NodeList:
        """The nodes, in order: a live view that supports ``len``, iteration and ``reversed``."""
        return _NodeList(self)

    def find_nodes(self, *, op: str, target: Target | None = None, sort: bool = True) -> list[Node]:
        """The nodes with operation ``op`` (and ``target``, if given), in graph order.

        Args:
            op (str): the node operation.
            target (optional): the target to match. Default: ``None`` (any).
            sort (bool): accepted (the nodes always come in graph order). Default: ``True``.

        Example::

            >>> import ember.fx
            >>> g = ember.fx.Graph()
            >>> x = g.placeholder("x")
            >>> g.find_nodes(op="placeholder")
            [x]
        """
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # -- making nodes ---------------------------------------------------------------------------
    def _target_to_str(self, target: Target) -> str:
        if callable(target):
            op = target.__name__
        else:
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    def create_node(
        self,
        op: str,
        target: Target,
        args: tuple[Argument, ...] | None = None,
        kwargs: dict[str, Argument] | None = None,
        name: str | None = None,
        type_expr: Any | None = None,
    ) -> Node:
        """Makes a node and inserts it at the current insert point.

        Args:
            op (str): the operation (``placeholder``, ``get_attr``, ``call_function``, ``call_method``,
                ``call_module`` or ``output``).
            target: the callable or name the node calls or fetches.
            args (tuple, optional): positional arguments. Default: ``()``.
            kwargs (dict, optional): keyword arguments. Default: ``{}``.
            name (str, optional): the node's name (made unique). Default: derived from ``target``.
            type_expr (optional): an annotation of the value's type. Default: ``None``.

        Returns:
            Node: the new node.
        """
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise AssertionError("args must be a tuple")
        if not isinstance(kwargs, dict):
            raise AssertionError("kwargs must be a dict")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace._obj_to_name[id(n)] = name
        self._insert(n)
        self._len += 1
        return n

    def placeholder(
        self, name: str, type_expr: Any | None = None, default_value: Any = inspect.Signature.empty
    ) -> Node:
        """Inserts an input of the function.

        Args:
            name (str): the argument's name.
            type_expr (optional): its type annotation. Default: ``None``.
            default_value (optional): its default value. Default: none.
        """
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr: Any | None = None) -> Node:
        """Inserts a fetch of the parameter, buffer or submodule ``qualified_name`` of the owning module.

        Args:
            qualified_name (str): the dotted name (``'layer1.weight'``).
            type_expr (optional): its type annotation. Default: ``None``.
        """
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(
        self,
        module_name: str,
        args: tuple[Argument, ...] | None = None,
        kwargs: dict[str, Argument] | None = None,
        type_expr: Any | None = None,
    ) -> Node:
        """Inserts a call of the submodule ``module_name``.

        Args:
            module_name (str): the submodule's dotted name.
            args (tuple, optional): positional arguments. Default: ``None``.
            kwargs (dict, optional): keyword arguments. Default: ``None``.
            type_expr (optional): the result's type annotation. Default: ``None``.
        """
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(
        self,
        method_name: str,
        args: tuple[Argument, ...] | None = None,
        kwargs: dict[str, Argument] | None = None,
        type_expr: Any | None = None,
    ) -> Node:
        """Inserts a call of method ``method_name`` on ``args[0]``.

        Args:
            method_name (str): the method's name.
            args (tuple, optional): the object, then the positional arguments. Default: ``None``.
            kwargs (dict, optional): keyword arguments. Default: ``None``.
            type_expr (optional): the result's type annotation. Default: ``None``.
        """
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(
        self,
        the_function: Callable[..., Any],
        args: tuple[Argument, ...] | None = None,
        kwargs: dict[str, Argument] | None = None,
        type_expr: Any | None = None,
    ) -> Node:
        """Inserts a call of ``the_function``.

        Args:
            the_function (Callable): the function.
            args (tuple, optional): positional arguments. Default: ``None``.
            kwargs (dict, optional): keyword arguments. Default: ``None``.
            type_expr (optional): the result's type annotation. Default: ``None``.
        """
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def output(self, result: Argument, type_expr: Any | None = None) -> Node:
        """Inserts the ``output`` node: the function returns ``result``.

        Args:
            result (Argument): the value returned.
            type_expr (optional): the return annotation. Default: ``None``.
        """
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def inserting_before(self, n: Node | None = None) -> _InsertPoint:
        """A context manager: nodes created in it go before ``n`` (before the first node if ``None``).

        Example::

            >>> import ember.fx
            >>> g = ember.fx.Graph()
            >>> x = g.placeholder("x")
            >>> out = g.output(x)
            >>> with g.inserting_before(out):
            ...     y = g.call_method("neg", (x,))
            >>> [n.name for n in g.nodes]
            ['x', 'neg', 'output']
        """
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n: Node | None = None) -> _InsertPoint:
        """A context manager: nodes created in it go after ``n`` (at the start of the graph if ``None``).

        Each new node goes right after ``n``, so several nodes created in one block come out in
        reverse order, as in PyTorch.
        """
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertPoint(self, n.append)

    # -- editing --------------------------------------------------------------------------------
    def erase_node(self, to_erase: Node) -> None:
        """Removes ``to_erase``, which must have no users left.

        Raises:
            RuntimeError: the node still has users.
        """
        if len(to_erase.users) > 0:
            raise RuntimeError(
                f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} users in the graph: {to_erase.users}!"
            )
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            import warnings

            warnings.warn(f"erase_node({to_erase}) on an already erased node", stacklevel=2)
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs((), {})

    def node_copy(self, node: Node, arg_transform: Callable[[Node], Argument] = lambda x: x) -> Node:
        """Copies ``node`` (from this or another graph) into this graph at the insert point.

        Args:
            node (Node): the node to copy.
            arg_transform (Callable): maps the nodes of ``node``'s arguments to this graph's values.
                Default: the identity.
        """
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result.meta = dict(node.meta)
        return result

    def graph_copy(self, g: Graph, val_map: dict[Node, Node], return_output_node: bool = False) -> Argument | None:
        """Copies every node of ``g`` into this graph, filling ``val_map`` (old node -> new node).

        Returns:
            The value ``g`` outputs, in terms of the new nodes (``None`` if ``g`` has no output node).
        """
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return (rv, node) if return_output_node else rv
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo: dict[int, Any]) -> Graph:
        memo = memo if memo else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)
        g._codegen = self._codegen
        if output_vals is not None:
            assert isinstance(output_vals, tuple)
            output_val, old_output_node = output_vals
            new_output_node = g.output(output_val, type_expr=getattr(old_output_node, "type", None))
            new_output_node.meta = dict(old_output_node.meta)
        return g

    def eliminate_dead_code(self, is_impure_node: Callable[[Node], bool] | None = None) -> bool:
        """Removes the nodes whose values are unused and that have no side effects.

        Args:
            is_impure_node (Callable, optional): says which nodes to keep regardless. Default:
                :meth:`Node.is_impure`.

        Returns:
            bool: whether any node was removed.

        Example::

            >>> import ember.fx
            >>> g = ember.fx.Graph()
            >>> x = g.placeholder("x")
            >>> unused = g.call_method("exp", (x,))
            >>> _ = g.output(x)
            >>> g.eliminate_dead_code()
            True
            >>> [n.name for n in g.nodes]
            ['x', 'output']
        """
        self.lint()
        impure = is_impure_node or (lambda n: n.is_impure())
        changed = False
        for node in reversed(self.nodes):
            if not impure(node) and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    def lint(self) -> None:
        """Checks the graph is well formed: known ops, unique names, every argument defined before use,
        targets that exist on the owning module.

        Raises:
            RuntimeError: a check failed.
        """
        seen_names: set[str] = set()
        seen_values: set[Node] = set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
            for arg in node._input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(
                        f"Argument '{arg}' of Node '{node}' does not belong to this Graph, but was used as an argument! If you are copying nodes from another graph, make sure to use ``arg_transform`` on node_copy() to remap values\n{self}"
                    )
                if arg not in seen_values:
                    raise RuntimeError(
                        f"Argument '{arg}' of Node '{node}' was used before it has been defined! Please check that Nodes in the graph are topologically ordered\n{self}"
                    )
            seen_values.add(node)
        if self.owning_module is not None:
            for node in self.nodes:
                if node.op not in ("get_attr", "call_module"):
                    continue
                obj = self.owning_module
                for atom in node.target.split("."):
                    if not hasattr(obj, atom):
                        raise RuntimeError(
                            f"Node {node} target {node.target} references nonexistent attribute {atom} of {type(obj).__name__}"
                        )
                    obj = getattr(obj, atom)
                if node.op == "call_module" and not isinstance(obj, ember.nn.Module):
                    raise RuntimeError(
                        f"Node {node} target {node.target} {atom} of {type(obj).__name__} does not reference an nn.Module"
                    )

    # -- code -----------------------------------------------------------------------------------
    def python_code(self, root_module: str, *, verbose: bool = False) -> PythonCode:
        """The Python source of the ``forward`` the graph computes, and the globals it needs.

        Args:
            root_module (str): the name generated code calls submodules and attributes on (``'self'``).
            verbose (bool): comment each run of nodes with their source location. Default: ``False``.
        """
        namespace = _Namespace()
        for node in self.nodes:  # node names are taken first: the globals get the other names
            namespace._used_names.add(node.name)
        return self._codegen.gen_python_code(list(self.nodes), root_module, namespace, verbose)

    def on_generate_code(self, make_transformer: Callable[..., Any]) -> contextlib.AbstractContextManager[None]:
        """Accepted for PyTorch's API; ember's code generation has no transformers."""
        return contextlib.nullcontext()

    def __str__(self) -> str:
        placeholder_names: list[str] = []
        maybe_return_typename = [""]
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]  # as torch: no return type
        s = f"graph({', '.join(placeholder_names)}){maybe_return_typename[0]}:"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self) -> None:
        """Prints the nodes as a table (opcode, name, target, args, kwargs), as PyTorch's does with ``tabulate``."""
        rows = [
            [n.op, n.name, Node._pretty_print_target(n.target), _format_arg(n.args), _format_arg(n.kwargs)]
            for n in self.nodes
        ]
        headers = ["opcode", "name", "target", "args", "kwargs"]
        try:
            from tabulate import tabulate

            print(tabulate(rows, headers=headers))
        except ImportError:
            widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(5)]
            print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
            print("  ".join("-" * w for w in widths))
            for r in rows:
                print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
