"""``ember.fx.proxy``: the :class:`Proxy` values a symbolic trace runs a program on.

Every operation on a proxy is recorded as a node of the tracer's graph instead of being computed:
an operator becomes a ``call_function`` of the ``operator`` module's function (``operator.add``),
a method call a ``call_method``, an attribute read (``x.shape``) a ``call_function`` of ``getattr``.
What cannot be recorded, because the program's path would depend on the value (``if x:``,
``for v in x:``, ``len(x)``), raises as PyTorch's tracer does.
"""

from __future__ import annotations

import dis
import enum
import inspect
import operator
from collections.abc import Callable, Iterator
from typing import Any

import ember

from .. import overrides as _overrides
from ._namespaces import _find_proxy
from .graph import Graph, magic_methods, reflectable_magic_methods
from .node import Argument, Node, Target

__all__ = ["TracerBase", "Proxy", "Attribute", "ParameterProxy", "TraceError", "GraphAppendingTracer"]


class TraceError(ValueError):
    """A program does something a symbolic trace cannot record (control flow on a traced value)."""


class TracerBase:
    """What every tracer does: make nodes from proxies' operations and turn values into node arguments."""

    graph: Graph
    record_stack_traces = False
    trace_asserts = False
    scope: Any = None

    def create_node(
        self,
        kind: str,
        target: Target,
        args: tuple[Argument, ...],
        kwargs: dict[str, Argument],
        name: str | None = None,
        type_expr: Any | None = None,
    ) -> Node:
        """Inserts a node in the graph (a hook a tracer may override to annotate nodes)."""
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def proxy(self, node: Node) -> Proxy:
        """The proxy standing for ``node``'s value."""
        return Proxy(node, self)

    def create_proxy(
        self,
        kind: str,
        target: Target,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str | None = None,
        type_expr: Any | None = None,
        proxy_factory_fn: Callable[[Node], Proxy] | None = None,
    ) -> Proxy:
        """Records an operation on (possibly) proxies and returns the proxy of its result.

        Args:
            kind (str): the node op.
            target: the node target.
            args (tuple): the arguments, proxies or constants.
            kwargs (dict): the keyword arguments.
            name (str, optional): the node name. Default: derived from ``target``.
            type_expr (optional): a type annotation. Default: ``None``.
            proxy_factory_fn (Callable, optional): makes the proxy from the node. Default: :meth:`proxy`.
        """
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a: Any) -> Argument:
        """Turns a value met while tracing into a node argument (a proxy into its node).

        Raises:
            NotImplementedError: a value of a type a graph cannot hold.
        """
        if isinstance(a, Proxy):
            return a.node
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(elem) for elem in a])
            items = [self.create_arg(elem) for elem in a]
            return tuple(items) if type(a) is tuple else type(a)(items)
        if isinstance(a, list):
            return [self.create_arg(elem) for elem in a]
        if isinstance(a, dict):
            r = {}
            for k, v in a.items():
                k = self.create_arg(k)
                if isinstance(k, Node):
                    raise RuntimeError(f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {k}")
                r[k] = self.create_arg(v)
            return r
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, (*_BASE_TYPES, enum.Enum)) or a is None or a is ...:
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        """Called for ``bool(proxy)`` (``if proxy:``): a symbolic value has no truth value, so it raises."""
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj: Proxy) -> Iterator[Any]:
        """Called for ``iter(proxy)`` outside a tuple unpacking: the length is unknown, so it raises."""
        raise TraceError(
            "Proxy object cannot be iterated. This can be "
            "attempted when the Proxy is used in a loop or"
            " as a *args or **kwargs function argument. "
            "See the torch.fx docs on pytorch.org for a "
            "more detailed explanation of what types of "
            "control flow can be traced, and check out the"
            " Proxy docstring for help troubleshooting "
            "Proxy iteration errors"
        )

    def keys(self, obj: Proxy) -> Proxy:
        """Called for ``proxy.keys()`` (``**proxy``): records the method call."""
        return Attribute(obj, "keys")()


_BASE_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    complex,
    ember.dtype,
    ember.Tensor,
    ember.device,
    ember.memory_format,
    ember.layout,
)


class GraphAppendingTracer(TracerBase):
    """A tracer that appends to an existing graph (for building graphs with proxies by hand).

    Args:
        graph (Graph): the graph to append to.
    """

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.scope = None


class Proxy:
    """The stand-in for a value during symbolic tracing; operations on it become graph nodes.

    Args:
        node (Node): the node whose value the proxy stands for.
        tracer (TracerBase, optional): the tracer recording. Default: a :class:`GraphAppendingTracer`
            of ``node``'s graph.

    Example::

        >>> import ember, ember.fx
        >>> g = ember.fx.Graph()
        >>> x = ember.fx.Proxy(g.placeholder("x"))
        >>> y = (x + 1).relu().sum(dim=0)
        >>> _ = g.output(y.node)
        >>> [(n.op, str(n.target)) for n in g.nodes][1:3]
        [('call_function', '<built-in function add>'), ('call_method', 'relu')]

    Control flow on a proxy cannot be recorded:

        >>> if x > 0:
        ...     pass
        Traceback (most recent call last):
            ...
        ember.fx.proxy.TraceError: symbolically traced variables cannot be used as inputs to control flow
    """

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        if isinstance(tracer, GraphAppendingTracer) and not _overrides._enabled:
            # a graph built by hand, outside any trace: ember's functions called on the proxy
            # (``ember.cat([x, y])``, a module's ``F.relu``) reach __torch_function__ below
            _overrides.enable_function_checks()
        self.tracer = tracer
        self.node = node

    @classmethod
    def __torch_function__(
        cls, orig_method: Callable, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Proxy:
        """An ember function called on proxies records a ``call_function`` node of that function."""
        kwargs = kwargs or {}
        proxy = _find_proxy(args, kwargs, Proxy)
        return proxy.tracer.create_proxy("call_function", orig_method, args, kwargs)

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, k: str) -> Attribute:
        if k.startswith("__") and k.endswith("__"):  # Python's protocols probe these: not Tensor attributes
            raise AttributeError(k)
        return Attribute(self, k)

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__

    def __setstate__(self, d: dict[str, Any]) -> None:
        self.__dict__ = d

    def __deepcopy__(self, memo: dict[int, Any]) -> Proxy:
        import copy

        new = Proxy.__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            new.__dict__[k] = v if k in ("node", "tracer", "root") else copy.deepcopy(v, memo)
        return new

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self) -> Iterator[Proxy]:
        frame = inspect.currentframe()
        calling_frame = frame.f_back if frame is not None else None
        if calling_frame is not None:
            for inst in dis.get_instructions(calling_frame.f_code):
                if inst.offset == calling_frame.f_lasti:
                    if inst.opname == "UNPACK_SEQUENCE":
                        return (self[i] for i in range(inst.argval))
                    break
        return self.tracer.iter(self)

    def __abs__(self) -> Proxy:
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def keys(self) -> Proxy:
        return self.tracer.keys(self)

    def __len__(self) -> int:
        raise RuntimeError(
            "'len' is not supported in symbolic tracing by default. If you want "
            "this call to be recorded, please call ember.fx.wrap('len') at "
            "module scope"
        )


class Attribute(Proxy):
    """The proxy of ``root.attr``: a method call on it records ``call_method``; any other use records
    the attribute read (``getattr``) first, lazily."""

    def __init__(self, root: Proxy, attr: str) -> None:
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property  # type: ignore[override]
    def node(self) -> Node:
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


class ParameterProxy(Proxy):
    """A parameter's proxy whose ``shape``, ``size()``, ``dim()``, ``ndim``, ``numel()`` are the
    parameter's own (a tracer with ``param_shapes_constant=True`` makes these)."""

    def __init__(self, tracer: TracerBase, node: Node, name: str, param: Any) -> None:
        super().__init__(node, tracer)
        self.param = param
        self.name = name

    def __repr__(self) -> str:
        return f"ParameterProxy({self.name})"

    @property
    def shape(self) -> Any:
        return self.param.shape

    def size(self, dim: int | None = None) -> Any:
        return self.param.size() if dim is None else self.param.size(dim)

    def dim(self) -> int:
        return self.param.dim()

    @property
    def ndim(self) -> int:
        return self.param.ndim

    def numel(self) -> int:
        return self.param.numel()

    def nelement(self) -> int:
        return self.param.nelement()


def _define_magic(method: str) -> None:
    target = getattr(operator, method)

    def impl(*args: Any, **kwargs: Any) -> Proxy:
        return args[0].tracer.create_proxy("call_function", target, args, kwargs)

    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


# ``tensor <op> proxy``: PyTorch records the tensor's method (its ``__torch_function__`` sees
# ``Tensor.add``, ``Tensor.__and__``, ...), so ember records the same ``call_method`` when the left
# operand is a tensor whose operator gave way to the proxy.
_TENSOR_METHOD_OF_OPERATOR = {
    "add": "add",
    "sub": "sub",
    "mul": "mul",
    "truediv": "div",
    "floordiv": "__floordiv__",
    "mod": "remainder",
    "pow": "pow",
    "matmul": "matmul",
    "and_": "__and__",
    "or_": "__or__",
    "xor": "__xor__",
    "lshift": "__lshift__",
    "rshift": "__rshift__",
}


def _define_reflectable(orig_method_name: str) -> None:
    method_name = f"__r{orig_method_name.strip('_')}__"
    target = getattr(operator, orig_method_name)
    tensor_method = _TENSOR_METHOD_OF_OPERATOR.get(orig_method_name)

    def impl(self: Proxy, rhs: Any) -> Proxy:
        if tensor_method is not None and isinstance(rhs, ember.Tensor):
            return self.tracer.create_proxy("call_method", tensor_method, (rhs, self), {})
        return self.tracer.create_proxy("call_function", target, (rhs, self), {})

    impl.__name__ = impl.__qualname__ = method_name
    setattr(Proxy, method_name, impl)


for _method in magic_methods:
    if hasattr(operator, _method):  # ``div`` is Python 2's: the operator module has no such function
        _define_magic(_method)
for _method in reflectable_magic_methods:
    if hasattr(operator, _method):
        _define_reflectable(_method)
