"""ember's public function namespaces, as the tracer intercepts them and as generated code names them.

ember's tensors have no ``__torch_function__``: a call like ``ember.relu(proxy)`` is recorded
because, while tracing, every public function of ember's function namespaces (``ember``,
``ember.nn.functional``, ``ember.special``, ``ember.linalg``, ``ember.fft``) runs a trampoline:
its ``__code__`` is swapped for one that records a ``call_function`` node (target: the function
itself) when an argument is a :class:`~ember.fx.Proxy`, and runs the original code otherwise. The
function objects stay the same, so ``node.target is ember.relu`` holds, and a call reached through
any name (``from ember import relu``, a helper module's own import) is recorded. ``math``'s
functions (built-ins, whose code cannot be swapped) and the functions :func:`wrap` names are
replaced in the traced functions' globals instead. :class:`_Patcher` puts everything back when
tracing ends, whether it ended in an error or not.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import math
import sys
import types
from collections.abc import Callable
from typing import Any

import ember

__all__: list[str] = []

# (public prefix, module name), in the order a function found in several is named by
NAMESPACES = (
    ("ember", "ember"),
    ("ember.nn.functional", "ember.nn.functional"),
    ("ember.special", "ember.special"),
    ("ember.linalg", "ember.linalg"),
    ("ember.fft", "ember.fft"),
)
# functions that answer about the Python object itself and so are not recorded (as in PyTorch,
# where ``torch.is_tensor(proxy)`` is ``False``)
_NOT_RECORDED = frozenset(("is_tensor", "is_storage", "typename", "is_grad_enabled", "compile", "vmap"))

_qualified: dict[int, str] | None = None
# (id of a module's globals, function name) -> those globals: the functions wrap() made leaves
_wrapped_fns_to_patch: dict[tuple[int, str], dict[str, Any]] = {}
_members: list[tuple[types.ModuleType, str, Any]] | None = None
# whether ember.overrides' checking wrappers were on when _members was read: switching them on puts a
# wrapper in the namespaces in each function's place, the object a program then names (ember.exp)
_members_checked = False
_earlier_names: dict[int, str] = {}  # the names before that, for graphs already recorded


def _is_function(value: object) -> bool:
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, functools.partial)) or (
        callable(value) and type(value).__name__ in ("_lru_cache_wrapper", "method-wrapper")
    )


def namespace_members() -> list[tuple[types.ModuleType, str, Any]]:
    """``(module, name, function)`` for every public function of ember's function namespaces."""
    global _members, _members_checked, _qualified
    from .. import overrides

    if _members is not None and _members_checked != overrides._enabled:
        _members = None
        _earlier_names.update(_qualified or {})
        _qualified = None
    if _members is None:
        _members_checked = overrides._enabled
        found = []
        for _, module_name in NAMESPACES:
            module = importlib.import_module(module_name)
            names = dir(module) if module is ember else list(vars(module))
            for name in names:
                if name.startswith("_") or name in _NOT_RECORDED:
                    continue
                try:
                    value = getattr(module, name)
                except (AttributeError, ImportError):  # a lazily imported name whose module is absent
                    continue
                if _is_function(value):
                    found.append((module, name, value))
        _members = found
    return _members


def qualified_names() -> dict[int, str]:
    """``id(function) -> 'ember.relu'``: the public dotted name generated code reaches a function by."""
    global _qualified
    members = namespace_members()  # first: it drops the tables read before the checks were on
    if _qualified is None:
        table: dict[int, str] = dict(_earlier_names)
        preferred: dict[int, str] = {}
        for module, name, value in members:
            dotted = f"{module.__name__}.{name}"
            table.setdefault(id(value), dotted)
            defined_in = getattr(value, "__module__", None) or ""
            if name == getattr(value, "__name__", None) and defined_in.startswith(module.__name__ + "."):
                preferred.setdefault(id(value), dotted)
        table.update(preferred)
        for _, module_name in NAMESPACES:  # the public classes too (annotations, isinstance targets)
            module = importlib.import_module(module_name)
            for name, value in vars(module).items():
                if isinstance(value, type) and not name.startswith("_"):
                    table.setdefault(id(value), f"{module_name}.{name}")
        _qualified = table
    return _qualified


def autowrap_ids(
    modules: tuple[types.ModuleType, ...] = (math,), functions: tuple[Callable[..., Any], ...] = ()
) -> dict[int, Any]:
    """The functions a traced ``forward``'s globals may hold that the tracer records by replacing them there:
    ember's callables that are not plain functions, the public functions of ``modules`` (``math``'s
    built-ins), and ``functions``."""
    found = {id(value): value for _, _, value in namespace_members() if not isinstance(value, types.FunctionType)}
    for module in modules:
        for name, value in vars(module).items():
            if not name.startswith("_") and callable(value) and not isinstance(value, type):
                found[id(value)] = value
    for value in functions:
        found[id(value)] = value
    return found


def _find_proxy(args: tuple[Any, ...], kwargs: dict[str, Any], proxy_type: type) -> Any:
    stack: list[Any] = [*args, *kwargs.values()]
    while stack:
        a = stack.pop()
        if isinstance(a, proxy_type):
            return a
        if isinstance(a, (tuple, list)):
            stack.extend(a)
        elif isinstance(a, dict):
            stack.extend(a.values())
        elif isinstance(a, slice):
            stack.extend((a.start, a.stop, a.step))
    return None


# the functions of ember.nn.functional that PyTorch writes in Python: their calls reach a tracer through
# ``handle_torch_function`` with the required arguments positional and every other one by keyword, defaults
# filled in (``F.leaky_relu(x, 0.2)`` is recorded as ``leaky_relu(x, negative_slope=0.2, inplace=False)``), so
# that a pattern written either way matches; PyTorch's built-in ones (``F.linear``, ``F.gelu``) are recorded
# as called
_KEYWORD_RECORDED = frozenset(
    """adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool1d_with_indices adaptive_max_pool2d
    adaptive_max_pool2d_with_indices adaptive_max_pool3d adaptive_max_pool3d_with_indices affine_grid alpha_dropout
    batch_norm binary_cross_entropy binary_cross_entropy_with_logits celu cosine_embedding_loss cross_entropy
    ctc_loss dropout dropout1d dropout2d dropout3d elu embedding embedding_bag feature_alpha_dropout fold
    fractional_max_pool2d fractional_max_pool2d_with_indices fractional_max_pool3d fractional_max_pool3d_with_indices
    gaussian_nll_loss glu grid_sample group_norm gumbel_softmax hardsigmoid hardswish hardtanh hinge_embedding_loss
    huber_loss instance_norm interpolate kl_div l1_loss layer_norm leaky_relu local_response_norm log_softmax
    lp_pool1d lp_pool2d lp_pool3d margin_ranking_loss max_pool1d max_pool1d_with_indices max_pool2d
    max_pool2d_with_indices max_pool3d max_pool3d_with_indices max_unpool1d max_unpool2d max_unpool3d mish mse_loss
    multi_margin_loss multilabel_margin_loss multilabel_soft_margin_loss nll_loss normalize pad poisson_nll_loss relu
    relu6 rms_norm rrelu selu silu smooth_l1_loss soft_margin_loss softmax softmin softsign tanhshrink threshold
    triplet_margin_loss triplet_margin_with_distance_loss unfold upsample upsample_bilinear upsample_nearest""".split()
)
_LITERALS = (type(None), bool, int, float, str)


def _as_pytorch_records(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], code: Callable[..., Any] | None = None
) -> tuple[tuple, dict]:
    """``(args, kwargs)`` of a call of ``fn`` as PyTorch's tracer records it: for the functions in
    :data:`_KEYWORD_RECORDED`, the required arguments positional and the others by keyword (a default filled in
    where it is a plain value); the call as made for the others, or where it does not bind. ``code`` is ``fn``
    with its own code, where the tracer swapped ``fn``'s."""
    name = qualified_names().get(id(fn), "")
    if name.rpartition(".")[2] not in _KEYWORD_RECORDED:
        return args, kwargs
    if not (name.startswith("ember.nn.functional.") or (fn.__module__ or "").startswith("ember.nn.functional")):
        return args, kwargs  # (ember.celu is ember.nn.functional.celu: the functional's record)
    try:
        # a checking wrapper of ember.overrides (functools.wraps: __wrapped__) or a function checked in place
        # (its __signature__) is read for the signature of the function it stands for
        signature = getattr(fn, "__signature__", None) or inspect.signature(
            getattr(fn, "__wrapped__", None) or code or fn
        )
        bound = signature.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return args, kwargs
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return args, kwargs
        if parameter.name in bound.arguments:
            value = bound.arguments[parameter.name]
        elif isinstance(parameter.default, _LITERALS):
            value = parameter.default
        else:  # a default that is no plain value (a sentinel): left out, as omitted
            continue
        if parameter.default is parameter.empty and parameter.kind is not parameter.KEYWORD_ONLY:
            positional.append(value)
        else:
            keywords[parameter.name] = value
    return tuple(positional), keywords


_DISPATCH = "__ember_fx_dispatch__"  # the name of the trampolines' table in each function's globals
_trampoline_codes: dict[int, types.CodeType] = {}  # id(function) -> its trampoline's code (made once)
_swapped: set[int] = set()  # the functions whose code is swapped now


_SENTINEL_KEY = -271828182845  # the key in the template trampolines, replaced by each function's id
_templates: dict[int, types.CodeType] = {}  # number of free variables -> template trampoline code


def _template(n_free: int) -> types.CodeType:
    code = _templates.get(n_free)
    if code is None:
        free = [f"v{i}" for i in range(n_free)]
        lines = ["def outer():"]
        if free:
            lines.append(f"    {' = '.join(free)} = None")
        lines += ["    def trampoline(*args, **kwargs):"]
        if free:  # the free variables are declared, never read: the count must match the function's closure
            lines += ["        if False:", f"            ({', '.join(free)},)"]
        lines += [f"        return {_DISPATCH}[{_SENTINEL_KEY}](args, kwargs)", "    return trampoline"]
        namespace: dict[str, Any] = {}
        exec(compile("\n".join(lines) + "\n", "<ember.fx trampoline>", "exec"), namespace)  # noqa: S102
        code = _templates[n_free] = namespace["outer"]().__code__
    return code


def _trampoline_code(fn: types.FunctionType) -> types.CodeType:
    """A code object for ``fn`` (as many free variables, never read) that calls
    ``__ember_fx_dispatch__[id(fn)](args, kwargs)`` from ``fn``'s globals."""
    code = _trampoline_codes.get(id(fn))
    if code is None:
        template = _template(len(fn.__code__.co_freevars))
        consts = tuple(id(fn) if c == _SENTINEL_KEY and type(c) is int else c for c in template.co_consts)
        code = template.replace(co_consts=consts, co_name=fn.__code__.co_name, co_qualname=fn.__code__.co_qualname)
        _trampoline_codes[id(fn)] = code
    return code


class _Patcher:
    """Sets attributes and dict entries for the time of a trace, and puts every one back on exit."""

    def __init__(self, proxy_type: type, autowrap: dict[int, Any] | None = None) -> None:
        self.proxy_type = proxy_type
        self._undo: list[Callable[[], None]] = []
        self._wrappers: dict[int, Callable[..., Any]] = {}
        self._patched_globals: set[int] = set()
        self._autowrap = autowrap

    def __enter__(self) -> _Patcher:
        return self

    def __exit__(self, *exc: object) -> None:
        while self._undo:
            self._undo.pop()()

    def wrapper(self, orig: Callable[..., Any], *, is_wrapped: bool = False) -> Callable[..., Any]:
        """The recording stand-in for ``orig`` (one per function and trace)."""
        found = self._wrappers.get(id(orig))
        if found is not None:
            return found
        proxy_type = self.proxy_type

        @functools.wraps(orig)
        def recording(*args: Any, **kwargs: Any) -> Any:
            proxy = _find_proxy(args, kwargs, proxy_type)
            if proxy is None:
                return orig(*args, **kwargs)
            if not is_wrapped:
                args, kwargs = _as_pytorch_records(orig, args, kwargs)
            result = proxy.tracer.create_proxy("call_function", orig, args, kwargs)
            if is_wrapped:
                result.node.meta["is_wrapped"] = True
            return result

        recording.__fx_original__ = orig  # type: ignore[attr-defined]
        self._wrappers[id(orig)] = recording
        return recording

    def patch_attr(self, obj: Any, name: str, value: Any) -> None:
        """``setattr(obj, name, value)`` until the trace ends (a name absent before is deleted after)."""
        had = name in vars(obj)
        old = vars(obj).get(name)
        setattr(obj, name, value)
        if had:
            self._undo.append(lambda: setattr(obj, name, old))
        else:
            self._undo.append(lambda: delattr(obj, name))

    def patch_dict(self, d: dict[str, Any], name: str, value: Any) -> None:
        """``d[name] = value`` until the trace ends."""
        had = name in d
        old = d.get(name)
        d[name] = value

        def undo() -> None:
            if had:
                d[name] = old
            else:
                d.pop(name, None)

        self._undo.append(undo)

    def swap_code(self, fn: types.FunctionType) -> None:
        """Makes ``fn`` record its calls on proxies, until the trace ends, by swapping its code."""
        if id(fn) in _swapped:  # a trace inside a trace: the outer one swapped it already
            return
        impl = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        impl.__kwdefaults__ = fn.__kwdefaults__
        proxy_type = self.proxy_type

        def dispatch(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            proxy = _find_proxy(args, kwargs, proxy_type)
            if proxy is None:
                return impl(*args, **kwargs)
            return proxy.tracer.create_proxy("call_function", fn, *_as_pytorch_records(fn, args, kwargs, impl))

        table = fn.__globals__.get(_DISPATCH)
        if table is None:
            table = {}
            self.patch_dict(fn.__globals__, _DISPATCH, table)
        table[id(fn)] = dispatch
        orig_code = fn.__code__
        fn.__code__ = _trampoline_code(fn)
        _swapped.add(id(fn))

        def undo() -> None:
            fn.__code__ = orig_code
            _swapped.discard(id(fn))

        self._undo.append(undo)

    def patch_namespaces(self) -> None:
        """Makes ember's public functions record their calls on proxies."""
        for module, name, value in namespace_members():
            if isinstance(value, types.FunctionType):
                self.swap_code(value)
            else:
                self.patch_attr(module, name, self.wrapper(value))

    def patch_globals(self, fn_globals: dict[str, Any]) -> None:
        """Replaces, in a traced function's globals, the ember and ``math`` functions it holds."""
        if id(fn_globals) in self._patched_globals:
            return
        self._patched_globals.add(id(fn_globals))
        if self._autowrap is None:
            self._autowrap = autowrap_ids()
        for name, value in list(fn_globals.items()):
            if id(value) in self._autowrap and not isinstance(value, type) and not name.startswith("_"):
                self.patch_dict(fn_globals, name, self.wrapper(value))

    def patch_wrapped(self, fn_globals: dict[str, Any], name: str) -> None:
        """Replaces ``name`` (a function :func:`ember.fx.wrap` named) in ``fn_globals``."""
        orig = fn_globals.get(name, getattr(builtins, name, None))
        if orig is None or getattr(orig, "__fx_original__", None) is not None:
            return
        self.patch_dict(fn_globals, name, self.wrapper(orig, is_wrapped=True))


def wrap(fn_or_name: str | Callable[..., Any]) -> str | Callable[..., Any]:
    """Makes a module-level function a leaf of symbolic tracing: its calls are recorded, not traced into.

    Call it at module scope, with the function's name or the function itself; calls of that name in
    the module's code are then recorded as ``call_function`` nodes when an argument is a proxy.

    Args:
        fn_or_name (str or Callable): the function, or its name in the calling module's globals.

    Returns:
        its argument, so ``wrap`` can decorate.

    Example::

        >>> import ember, ember.fx
        >>> def my_len(x):
        ...     return len(x)
        >>> _ = ember.fx.wrap("my_len")
        >>> def f(x):
        ...     return my_len(x) + x
        >>> ember.fx.symbolic_trace(f).graph.find_nodes(op="call_function")[0].target is my_len
        True
    """
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    if callable(fn_or_name):
        if isinstance(fn_or_name, str):  # pragma: no cover - a str is not callable
            raise AssertionError
        fn_name = fn_or_name.__name__
    else:
        fn_name = fn_or_name
    frame = sys._getframe(1)
    if frame.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(frame.f_globals), fn_name)] = frame.f_globals
    return fn_or_name
