"""``ember.fx``'s symbolic tracer: :class:`Tracer`, :func:`symbolic_trace` and :func:`wrap`."""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Any

import ember
from ember import nn

from . import graph_module as _graph_module
from ._namespaces import _Patcher, _wrapped_fns_to_patch, autowrap_ids, wrap
from .graph import Graph
from .graph_module import GraphModule
from .node import Argument
from .proxy import ParameterProxy, Proxy, TracerBase

__all__ = ["Tracer", "symbolic_trace", "wrap", "PH", "is_fx_tracing"]

_is_fx_tracing_flag = False


def is_fx_tracing() -> bool:
    """Whether a symbolic trace is running.

    Example::

        >>> import ember.fx
        >>> ember.fx.is_fx_tracing()
        False
    """
    return _is_fx_tracing_flag


class PHBase:
    """The type of :data:`PH`: marks a ``concrete_args`` entry that stays a placeholder."""

    def __repr__(self) -> str:
        return "PH"


PH = PHBase()


def _is_ember_leaf_class(m: nn.Module) -> bool:
    module_name = type(m).__module__ or ""
    return (module_name == "ember.nn" or module_name.startswith("ember.nn.")) and not isinstance(m, nn.Sequential)


class Tracer(TracerBase):
    """Records a module's ``forward`` (or a function) into a :class:`~ember.fx.Graph` by running it on proxies.

    Calls of submodules defined in ``ember.nn`` (except containers like ``Sequential``) are recorded
    as ``call_module`` leaves; other submodules are traced through. Override :meth:`is_leaf_module`
    to change that, or :meth:`create_arg`, :meth:`call_module`, :meth:`getattr` to customise nodes.

    Args:
        autowrap_modules (tuple): modules whose functions, when a traced ``forward``'s globals hold
            them, are recorded as leaves. Default: ``(math,)``.
        autowrap_functions (tuple): further functions recorded as leaves. Default: ``()``.
        param_shapes_constant (bool): parameters' ``shape``/``size()``/``dim()`` are read from the
            parameter instead of recorded. Default: ``False``.

    Example::

        >>> import ember, ember.fx
        >>> class M(ember.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.linear = ember.nn.Linear(3, 2)
        ...     def forward(self, x):
        ...         return ember.relu(self.linear(x))
        >>> graph = ember.fx.Tracer().trace(M())
        >>> [n.op for n in graph.nodes]
        ['placeholder', 'call_module', 'call_function', 'output']
    """

    def __init__(
        self,
        autowrap_modules: tuple[types.ModuleType, ...] = (math,),
        autowrap_functions: tuple[Callable[..., Any], ...] = (),
        param_shapes_constant: bool = False,
    ) -> None:
        super().__init__()
        self._autowrap_functions = tuple(autowrap_functions)
        self._autowrap_modules = tuple(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.traced_func_name = "forward"  # the method of a module root that is traced, as torch.fx's attribute
        self.submodule_paths: dict[int, str] | None = None
        self.tensor_attrs: dict[int, str] = {}
        self.root: nn.Module = nn.Module()
        self.graph = Graph(tracer_cls=type(self))
        self._patcher: _Patcher | None = None
        self.module_stack: dict[str, tuple[str, type]] = {}

    # -- what becomes a node -----------------------------------------------------------------------
    def create_arg(self, a: Any) -> Argument:
        """Turns a value into a node argument; parameters and the root's tensors become ``get_attr`` nodes,
        other tensors are stored on the root as ``_tensor_constant<N>`` attributes.
        """
        if isinstance(a, nn.Parameter):
            for n_, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n_, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, nn.Module):
            for n_, p in self.root.named_modules():
                if a is p:
                    return self.create_node("get_attr", n_, (), {})
            raise NameError("module is not installed as a submodule")
        if isinstance(a, ember.Tensor):
            qualname = self.tensor_attrs.get(id(a))
            if qualname is None:
                i = 0
                while True:
                    qualname = f"_tensor_constant{i}"
                    if not hasattr(self.root, qualname):
                        break
                    i += 1
                self.tensor_attrs[id(a)] = qualname
                setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        """Whether ``m`` is recorded as one ``call_module`` node instead of being traced through:
        the modules defined in ``ember.nn``, except ``Sequential``.

        Args:
            m (Module): the submodule.
            module_qualified_name (str): its path from the root (``'layer1.0.conv1'``).
        """
        return _is_ember_leaf_class(m)

    def path_of_module(self, mod: nn.Module) -> str:
        """The dotted path of ``mod`` in the root module.

        Raises:
            NameError: ``mod`` is not a submodule of the root.
        """
        if self.submodule_paths is not None:
            path = self.submodule_paths.get(id(mod))
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(
        self, m: nn.Module, forward: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Records a call of submodule ``m`` (a leaf) or traces through its ``forward``.

        Args:
            m (Module): the submodule called.
            forward (Callable): its call, run when ``m`` is not a leaf.
            args (tuple): the positional arguments.
            kwargs (dict): the keyword arguments.
        """
        module_qualified_name = self.path_of_module(m)
        prev_stack = dict(self.module_stack)
        self.module_stack[module_qualified_name] = (module_qualified_name, type(m))
        try:
            if not self.is_leaf_module(m, module_qualified_name):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", module_qualified_name, args, kwargs)
        finally:
            self.module_stack = prev_stack

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):  # type: ignore[no-untyped-def]
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        if kind not in ("placeholder", "output") and self.module_stack:
            proxy.node.meta["nn_module_stack"] = dict(self.module_stack)
        return proxy

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        """What reading module attribute ``attr`` gives while tracing: a ``get_attr`` proxy for a
        parameter of the root, the value itself otherwise.

        Args:
            attr (str): the attribute name.
            attr_val: its value.
            parameter_proxy_cache (dict): the proxies made so far in this trace, by path.
        """
        if isinstance(attr_val, nn.Parameter):
            for n, p in self.root.named_parameters():
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        factory = (
                            (lambda node, n=n, p=p: ParameterProxy(self, node, n, p))
                            if self.param_shapes_constant
                            else None
                        )
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {}, proxy_factory_fn=factory)
                    return parameter_proxy_cache[n]
        return attr_val

    # -- the trace ---------------------------------------------------------------------------------
    def create_args_for_root(
        self, root_fn: Callable[..., Any], is_module: bool, concrete_args: Any = None
    ) -> tuple[Callable[..., Any], list[Any]]:
        """The placeholders for ``root_fn``'s parameters (``self`` skipped for a module), with
        ``concrete_args`` bound to their values."""
        fn_for_analysis = inspect.unwrap(root_fn)
        co = fn_for_analysis.__code__
        total_args = co.co_argcount + co.co_kwonlyargcount
        names_iter = iter(co.co_varnames)
        args: list[Any] = []
        skip = 0
        if is_module:
            if total_args == 0:
                raise RuntimeError("``self`` argument cannot be part of *args expansion!")
            skip = 1
            next(names_iter)
            args.append(self.root)
        sig = inspect.signature(fn_for_analysis)
        arg_names = [next(names_iter) for _ in range(skip, total_args)]
        if isinstance(concrete_args, tuple):
            if len(arg_names) != len(concrete_args):
                raise RuntimeError(
                    f"Tracing expected {len(arg_names)} arguments but got {len(concrete_args)} concrete arguments"
                )
            concrete_args = dict(zip(arg_names, concrete_args))

        def placeholder(name: str) -> Any:
            if concrete_args is not None and name in concrete_args:
                return self._concrete_placeholder(name, concrete_args[name], sig)
            if name[0] == "*":
                default: tuple[Any, ...] = ()
            else:
                param = sig.parameters[name]
                default = () if param.default is inspect.Parameter.empty else (param.default,)
            return self.create_proxy(
                "placeholder", name, default, {}, type_expr=_annotations(fn_for_analysis).get(name, None)
            )

        args.extend(placeholder(n) for n in arg_names)
        if co.co_kwonlyargcount > 0 or co.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            if co.co_flags & inspect.CO_VARARGS:
                args.append(placeholder("*" + next(names_iter)))
            if co.co_flags & inspect.CO_VARKEYWORDS:
                args.append(placeholder("**" + next(names_iter)))
            root_fn = _positional_only(root_fn, len(args))
        return root_fn, args

    def _concrete_placeholder(self, name: str, value: Any, sig: inspect.Signature) -> Any:
        param = sig.parameters[name]
        default: tuple[Any, ...] = () if param.default is inspect.Parameter.empty else (param.default,)
        out = self.create_proxy("placeholder", f"{name}_1", default, {})
        if isinstance(value, PHBase):
            return out
        if type(value) is bool or type(value) in (int, float, str):
            self.create_proxy(
                "call_function",
                _assert,
                (out == value, f"{name} has been specialized to have value {value} but got another value"),
                {},
            )
        elif value is None:
            self.create_proxy(
                "call_function",
                _assert_is_none,
                (out, f"{name} has been specialized to have value None but got another value"),
                {},
            )
        return value

    def trace(
        self, root: nn.Module | Callable[..., Any], concrete_args: dict[str, Any] | tuple[Any, ...] | None = None
    ) -> Graph:
        """Traces ``root`` (a module's ``forward`` or a function) into a graph.

        Args:
            root (Module or Callable): what to trace.
            concrete_args (dict or tuple, optional): arguments bound to constant values (a
                placeholder is kept for each; control flow on them is then resolved while tracing).
                Default: ``None``.

        Returns:
            Graph: the recorded graph; ``self.root`` is the module its ``get_attr``/``call_module``
            nodes refer to.
        """
        global _is_fx_tracing_flag
        old_flag = _is_fx_tracing_flag
        _is_fx_tracing_flag = True
        try:
            if isinstance(root, nn.Module):
                self.root = root
                fn = getattr(type(root), self.traced_func_name, None)
                if fn is None:
                    raise AssertionError(
                        f"traced_func_name={self.traced_func_name} doesn't exist in {type(root).__name__}"
                    )
                is_module = True
            else:
                self.root = nn.Module()
                fn = root
                is_module = False
            self.graph = Graph(tracer_cls=type(self))
            self.tensor_attrs = {}
            self.module_stack = {}
            for prefix, mod in self.root.named_modules():
                for k, v in list(vars(mod).items()) + list(mod._parameters.items()) + list(mod._buffers.items()):
                    if isinstance(v, ember.Tensor):
                        self.tensor_attrs.setdefault(id(v), f"{prefix}.{k}" if prefix else k)
            self.submodule_paths = {id(mod): name for name, mod in self.root.named_modules()}
            fn_globals = fn.__globals__
            fn, args = self.create_args_for_root(fn, is_module, concrete_args)
            parameter_proxy_cache: dict[str, Any] = {}
            orig_getattr = nn.Module.__getattr__
            orig_call = nn.Module.__call__
            tracer = self

            def module_getattr_wrapper(mod: nn.Module, attr: str) -> Any:
                return tracer.getattr(attr, orig_getattr(mod, attr), parameter_proxy_cache)

            def module_call_wrapper(mod: nn.Module, *args: Any, **kwargs: Any) -> Any:
                def forward(*args: Any, **kwargs: Any) -> Any:
                    return orig_call(mod, *args, **kwargs)

                patcher.patch_globals(getattr(getattr(mod, "forward", mod), "__globals__", {}))
                return tracer.call_module(mod, forward, args, kwargs)

            with _Patcher(Proxy, autowrap_ids(self._autowrap_modules, self._autowrap_functions)) as patcher:
                self._patcher = patcher
                patcher.patch_attr(nn.Module, "__getattr__", module_getattr_wrapper)
                patcher.patch_attr(nn.Module, "__call__", module_call_wrapper)
                patcher.patch_namespaces()
                patcher.patch_globals(fn_globals)
                for module in self._autowrap_modules:  # math.sqrt(proxy) too, as torch patches math's dict
                    patcher.patch_globals(vars(module))
                for (_, name), globals_ in _wrapped_fns_to_patch.items():
                    patcher.patch_wrapped(globals_, name)
                result = fn(*args)
                self.create_node(
                    "output",
                    "output",
                    (self.create_arg(result),),
                    {},
                    type_expr=_annotations(inspect.unwrap(fn)).get("return", None),
                )
            self.submodule_paths = None
        finally:
            self._patcher = None
            _is_fx_tracing_flag = old_flag
        return self.graph


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    """``fn``'s annotations, as the generated code repeats them. ember's own modules (written with
    ``from __future__ import annotations``) have theirs resolved, ``Any`` left out, so that a traced
    ``ember.nn`` forward reads as torch's (``input : ember.Tensor``, not the string ``'Tensor'``)."""
    annotations = getattr(fn, "__annotations__", None) or {}
    if (getattr(fn, "__module__", None) or "").startswith("ember.") and any(
        isinstance(a, str) for a in annotations.values()
    ):
        try:
            resolved = typing.get_type_hints(fn)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve: none repeated
            return {}
        return {k: v for k, v in resolved.items() if v is not typing.Any}
    return annotations


def _positional_only(fn: Callable[..., Any], nargs: int) -> Callable[..., Any]:
    """``fn`` as a function taking its keyword-only, ``*args`` and ``**kwargs`` parameters as ``nargs``
    positional ones (so each receives its placeholder's proxy whole)."""
    fn = inspect.unwrap(fn)
    co = fn.__code__
    flags = co.co_flags & ~(inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    code = co.replace(co_flags=flags, co_argcount=nargs, co_kwonlyargcount=0)
    return types.FunctionType(code, fn.__globals__, fn.__name__, None, fn.__closure__)


def _assert(condition: Any, message: str = "") -> None:
    """``assert condition, message`` as a function a graph can call."""
    if not condition:
        raise AssertionError(message)


def _assert_is_none(value: Any, msg: str) -> None:
    if value is not None:
        raise AssertionError(msg)


def symbolic_trace(root: nn.Module | Callable[..., Any], concrete_args: dict[str, Any] | None = None) -> GraphModule:
    """Traces a module or function into a :class:`~ember.fx.GraphModule` (PyTorch's ``torch.fx.symbolic_trace``).

    The program is run once on :class:`~ember.fx.Proxy` values; every operation is recorded.
    Data-dependent control flow (``if x.sum() > 0:``) cannot be recorded and raises
    :class:`~ember.fx.proxy.TraceError`; bind such arguments with ``concrete_args``.

    Args:
        root (Module or Callable): the module or function to trace.
        concrete_args (dict, optional): arguments given constant values for the trace. Default: ``None``.

    Returns:
        GraphModule: a module whose ``forward`` is generated from the recorded graph.

    Example::

        >>> import ember, ember.fx
        >>> class M(ember.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.linear = ember.nn.Linear(4, 5)
        ...     def forward(self, x):
        ...         return ember.relu(self.linear(x)) + x.shape[0]
        >>> gm = ember.fx.symbolic_trace(M())
        >>> print(gm.code.strip())
        def forward(self, x):
            linear = self.linear(x)
            relu = ember.relu(linear);  linear = None
            getattr_1 = x.shape;  x = None
            getitem = getattr_1[0];  getattr_1 = None
            add = relu + getitem;  relu = getitem = None
            return add
        >>> x = ember.randn(2, 4)
        >>> ember.equal(gm(x), M.forward(gm, x))
        True
    """
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, nn.Module) else root.__name__
    return GraphModule(tracer.root, graph, name)


def _rebuild_graph_module(body: dict[str, Any], src: str, globals_: dict[str, Any], class_name: str) -> GraphModule:
    """Rebuilds a pickled :class:`GraphModule`: its state, and a graph traced from its generated code."""

    class KeepModules(Tracer):
        def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
            return True

    forward = _graph_module._forward_from_src(src, {**_graph_module._CUSTOM_BUILTINS, **globals_})
    com = type("_CodeOnlyModuleWithForward", (_graph_module._CodeOnlyModule,), {"forward": forward})(body)
    graph = KeepModules().trace(com)
    return GraphModule(com, graph, class_name)


_graph_module._REBUILD["graph_module"] = _rebuild_graph_module
