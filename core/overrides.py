"""``ember.overrides``: PyTorch's ``__torch_function__`` protocol for :class:`~ember.Tensor` subclasses.

A subclass of :class:`~ember.Tensor` sees every operation on its instances through the classmethod
``__torch_function__(cls, func, types, args=(), kwargs=None)``. The default one, inherited from
``Tensor``, runs ``func`` with the subclass handling switched off and returns its tensor results
(also inside tuples, lists and named tuples) as instances of the subclass; a subclass that defines
its own can log, rewrite or replace any call, and reach the default through ``super()``.
:class:`~ember.nn.Parameter` switches the protocol off (``_disabled_torch_function_impl``): operations
on parameters give plain tensors.

Plain tensors pay nothing for this: a subclass's methods, operators and properties are wrapped on
the subclass itself when it is defined, and the public functions of ``ember`` and
``ember.nn.functional``, ``ember.linalg``, ``ember.fft``, ``ember.special`` (and ``ember.autograd.grad``/``backward``,
as PyTorch's) are replaced by checking
wrappers only once a subclass with the protocol (or a :class:`TorchFunctionMode`) first exists. A function object taken from those modules before
that moment (``from ember import add``) keeps calling the unchecked function. From that moment too, a
plain tensor's methods, operators and indexing look at their other arguments: ``plain.add(sub)``,
``plain + sub`` (run as ``plain.__add__(sub)``, as PyTorch's) and ``plain[sub]`` reach the subclass's handler.

Example::

    >>> class Logged(ember.Tensor):
    ...     calls = []
    ...     @classmethod
    ...     def __torch_function__(cls, func, types, args=(), kwargs=None):
    ...         cls.calls.append(func.__name__)
    ...         return super().__torch_function__(func, types, args, kwargs)
    >>> x = ember.ones(2).as_subclass(Logged)
    >>> y = (x + 1).sum()
    >>> type(y).__name__, Logged.calls
    ('Logged', ['add', 'sum'])
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types as _types
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .tensor import Tensor, _copy_slots
from .type_names import type_name

__all__ = [
    "BaseTorchFunctionMode",
    "TorchFunctionMode",
    "get_default_nowrap_functions",
    "get_ignored_functions",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "resolve_name",
    "wrap_torch_function",
]


class _State(threading.local):
    """Per thread, as PyTorch's: whether subclass handling (and mode handling) is switched off, and
    the stack of active :class:`TorchFunctionMode` s."""

    subclasses_off = False
    modes_off = False

    def __init__(self) -> None:
        self.modes: list[TorchFunctionMode] = []


_STATE = _State()


class DisableTorchFunctionSubclass:
    """Context manager under which the ``__torch_function__`` of tensor subclasses is not called:
    operations on subclass instances run as on plain tensors and give plain tensors (as
    ``torch._C.DisableTorchFunctionSubclass``; active modes still see the calls).

    Example::

        >>> class Sub(ember.Tensor):
        ...     pass
        >>> x = ember.ones(2).as_subclass(Sub)
        >>> with ember._C.DisableTorchFunctionSubclass():
        ...     type(x + 1).__name__
        'Tensor'
    """

    def __enter__(self) -> DisableTorchFunctionSubclass:
        self._previous = _STATE.subclasses_off
        _STATE.subclasses_off = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        _STATE.subclasses_off = self._previous


class DisableTorchFunction:
    """Context manager under which neither tensor subclasses nor :class:`TorchFunctionMode` s see
    calls (as ``torch._C.DisableTorchFunction``).

    Example::

        >>> class Sub(ember.Tensor):
        ...     pass
        >>> with ember._C.DisableTorchFunction():
        ...     type(ember.ones(2).as_subclass(Sub) * 2).__name__
        'Tensor'
    """

    def __enter__(self) -> DisableTorchFunction:
        self._previous = (_STATE.subclasses_off, _STATE.modes_off)
        _STATE.subclasses_off = _STATE.modes_off = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        _STATE.subclasses_off, _STATE.modes_off = self._previous


def _disabled_torch_function_impl(func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
    """The ``__torch_function__`` of a class that opts out of the protocol (:class:`~ember.nn.Parameter`):
    ``func`` runs as on plain tensors, its results are left as they are."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


def _opted_out(handler: Any) -> bool:
    return handler is None or getattr(handler, "__func__", handler) is _disabled_torch_function_impl


_PLAIN_TYPES = frozenset((int, float, bool, complex, str, type(None), slice))  # never overloaded
_FOREIGN: dict[type, bool] = {}


def _foreign_tensor(kind: type) -> bool:
    """Whether ``kind`` is PyTorch's tensor type (or derives from it): ember reads such tensors
    (``from_dlpack``, ``ember.tensor``) and never hands its calls to their ``__torch_function__``."""
    foreign = _FOREIGN.get(kind)
    if foreign is None:
        foreign = _FOREIGN[kind] = any(
            base.__module__.partition(".")[0] == "torch" and base.__name__ in ("Tensor", "TensorBase")
            for base in kind.__mro__
        )
    return foreign


_mode_users = 0  # how many modes are active, in all threads (0: the wrappers' fast path)


def _overloaded_args(relevant: Iterable[Any]) -> list[Any]:
    """The arguments whose type has its own ``__torch_function__`` (one per type, a subclass before its
    bases, else in argument order), looking one level into lists and tuples (``ember.cat([a, b])``)."""
    found: list[Any] = []
    seen: list[type] = []

    def visit(value: Any) -> None:
        kind = type(value)
        if kind is Tensor or kind in seen:
            return
        if kind in _PLAIN_TYPES:
            return
        if _opted_out(getattr(kind, "__torch_function__", None)) or _foreign_tensor(kind):
            return
        seen.append(kind)
        for i, other in enumerate(found):
            if issubclass(kind, type(other)):
                found.insert(i, value)
                return
        found.append(value)

    for value in relevant:
        if isinstance(value, (list, tuple)) and not isinstance(value, Tensor):
            for item in value:
                visit(item)
        else:
            visit(value)
    return found


def _relevant(args: tuple, kwargs: dict | None) -> tuple:
    return args + tuple(kwargs.values()) if kwargs else args


def resolve_name(f: Callable) -> str | None:
    """The dotted public name of an ember function or Tensor method, for messages.

    Example::

        >>> ember.overrides.resolve_name(ember.Tensor.sum)
        'ember.Tensor.sum'
        >>> ember.overrides.resolve_name(ember.Tensor.T.__get__)
        'ember.Tensor.T.__get__'
    """
    name = getattr(f, "__name__", None)
    if name is None:
        return None
    owner = getattr(f, "__self__", None)
    if name == "__get__" and isinstance(owner, property):  # ``x.T``'s handler sees ``Tensor.T.__get__``
        for surface in (vars(Tensor), _MODE_PATCHED):  # Tensor's own, or what a mode has put there
            for attribute, value in surface.items():
                if value is owner:
                    return f"ember.Tensor.{attribute}.__get__"
    if is_tensor_method_or_property(f):
        return f"ember.Tensor.{name}"
    for module_name in _FUNCTION_MODULES:
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, name, None) is f:
            return f"{module_name}.{name}"
    return f"{getattr(f, '__module__', None) or 'ember'}.{name}"


def handle_torch_function(public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    """Call the ``__torch_function__`` of the active mode or of the overloaded arguments for ``public_api``.

    A Python function that takes tensors implements the protocol with
    ``if has_torch_function(relevant_args): return handle_torch_function(fn, relevant_args, *args, **kwargs)``.

    Args:
        public_api (Callable): the function the handlers see as ``func`` (the public one).
        relevant_args (iterable): the arguments to search for ``__torch_function__``.
        *args, **kwargs: the arguments of the call.

    Returns:
        What the first handler that does not return ``NotImplemented`` returns.

    Raises:
        TypeError: if every handler returned ``NotImplemented``.

    Example::

        >>> def double(x):
        ...     if ember.overrides.has_torch_function_unary(x):
        ...         return ember.overrides.handle_torch_function(double, (x,), x)
        ...     return x * 2
        >>> class Sub(ember.Tensor):
        ...     pass
        >>> type(double(ember.ones(2).as_subclass(Sub))).__name__
        'Sub'
    """
    overloaded = [] if _STATE.subclasses_off else _overloaded_args(relevant_args)
    return _handle(public_api, overloaded, args, kwargs)


def _modes_on() -> bool:
    return bool(_STATE.modes) and not _STATE.modes_off


def _handler(arg: Any) -> Callable:
    """``arg.__torch_function__`` as PyTorch calls it: a classmethod bound to the class, the opt-out as it is,
    a plain method (deprecated) bound to the argument."""
    handler = arg.__torch_function__
    if getattr(handler, "__self__", None) is arg:
        if handler.__func__ is _disabled_torch_function_impl:
            return _disabled_torch_function_impl
        warnings.warn(
            "Defining your `__torch_function__` as a plain method is deprecated and will be an error in future, "
            "please define it as a classmethod.",
            UserWarning,  # PyTorch's category (its warning comes from C++)
            stacklevel=3,
        )
    return handler


def _handle(
    public_api: Callable,
    overloaded: list,
    args: tuple,
    kwargs: dict | None,
    plain_kind: bool = False,
    kinds: tuple[type, ...] | None = None,
) -> Any:
    """Ask the innermost active mode, then each overloaded argument's type, to run ``public_api``; with
    ``plain_kind``, ``types`` also names ``Tensor`` (last) when a plain tensor is among ``args``; ``kinds``,
    when given, is ``types`` itself."""
    if _PATCHED_SURFACE:  # a mode has Tensor's surface wrapped: handlers see (and call) what Tensor holds now
        public_api = _current_surface(public_api)
    if kinds is None:
        kinds = tuple(type(arg) for arg in overloaded)
        if plain_kind and any(type(arg) is Tensor for arg in args):
            kinds += (Tensor,)
    if _modes_on():
        mode = _STATE.modes.pop()  # the mode runs below itself, as PyTorch's
        try:
            result = mode.__torch_function__(public_api, kinds, args, kwargs)
        finally:
            _STATE.modes.append(mode)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        result = _handler(arg)(public_api, kinds, args, kwargs)
        if result is not NotImplemented:
            return result
    handlers = "".join(f"\n  - tensor subclass {kind}" for kind in kinds)
    raise TypeError(
        f"Multiple dispatch failed for '{resolve_name(public_api)}'; all __torch_function__ handlers returned "
        f"NotImplemented:\n{handlers}"
    )


def _active(relevant: Iterable[Any]) -> bool:
    if _modes_on():
        return True
    return not _STATE.subclasses_off and bool(_overloaded_args(relevant))


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """Whether any of ``relevant_args`` has a ``__torch_function__`` of its own (a tensor subclass that
    did not opt out, or another type that implements the protocol), or a mode is active.

    Args:
        relevant_args (iterable): the arguments to check.

    Example::

        >>> class Sub(ember.Tensor):
        ...     pass
        >>> ember.overrides.has_torch_function((ember.ones(1), 2.0))
        False
        >>> ember.overrides.has_torch_function((ember.ones(1).as_subclass(Sub),))
        True
    """
    return _active(relevant_args)


def has_torch_function_unary(obj: Any) -> bool:
    """:func:`has_torch_function` for a single argument.

    Example::

        >>> ember.overrides.has_torch_function_unary(ember.ones(1))
        False
    """
    return _active((obj,))


def has_torch_function_variadic(*args: Any) -> bool:
    """:func:`has_torch_function` for the arguments given one by one.

    Example::

        >>> ember.overrides.has_torch_function_variadic(ember.ones(1), ember.zeros(1))
        False
    """
    return _active(args)


def is_tensor_like(inp: Any) -> bool:
    """Whether ``inp`` is a tensor or an object that implements ``__torch_function__``.

    Example::

        >>> ember.overrides.is_tensor_like(ember.ones(1)), ember.overrides.is_tensor_like([1.0])
        (True, False)
    """
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


@functools.cache
def _tensor_methods() -> frozenset:
    methods = {name: _MODE_PATCHED.get(name, value) for name, value in vars(Tensor).items()}
    return frozenset(value for value in methods.values() if isinstance(value, _types.FunctionType))


def is_tensor_method_or_property(func: Callable) -> bool:
    """Whether ``func`` is a method of :class:`~ember.Tensor` or the ``__get__`` of one of its properties
    (handlers use it to tell ``x.sum()`` from ``ember.sum(x)``).

    Example::

        >>> ember.overrides.is_tensor_method_or_property(ember.Tensor.add)
        True
        >>> ember.overrides.is_tensor_method_or_property(ember.Tensor.T.__get__)
        True
    """
    try:
        if func in _tensor_methods() or getattr(func, "_ember_method", False):  # or a wrapper of one
            return True
    except TypeError:
        return False
    return getattr(func, "__name__", None) == "__get__"


@functools.cache
def _nowrap() -> frozenset:
    grad = _MODE_PATCHED.get("grad", vars(Tensor)["grad"])
    return frozenset((Tensor._base.__get__, grad.__get__, Tensor._grad.__get__))


def get_default_nowrap_functions() -> set[Callable]:
    """The functions whose results the default ``__torch_function__`` leaves as they are, not
    converted to the subclass: the getters of ``Tensor._base``, ``Tensor.grad`` and ``Tensor._grad``.

    Example::

        >>> ember.Tensor.grad.__get__ in ember.overrides.get_default_nowrap_functions()
        True
    """
    return set(_nowrap())


def wrap_torch_function(dispatcher: Callable[..., Iterable[Any]]) -> Callable[[Callable], Callable]:
    """Decorator giving a Python function the protocol: ``dispatcher``, called with the function's
    arguments, returns the arguments to search for ``__torch_function__``.

    Args:
        dispatcher (Callable): returns the tensor-like arguments of a call.

    Example::

        >>> def dispatcher(x, scale=None):
        ...     return (x,)
        >>> @ember.overrides.wrap_torch_function(dispatcher)
        ... def scaled(x, scale=2.0):
        ...     return x * scale
        >>> class Sub(ember.Tensor):
        ...     pass
        >>> type(scaled(ember.ones(2).as_subclass(Sub))).__name__
        'Sub'
    """

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return decorator


def _is_torch_function_enabled() -> bool:
    """Whether subclasses' handlers are called (``torch._C._is_torch_function_enabled``)."""
    return not _STATE.subclasses_off


def _is_torch_function_mode_enabled() -> bool:
    """Whether a :class:`TorchFunctionMode` is active and not switched off."""
    return _modes_on()


def _get_current_function_mode_stack() -> list:
    """The active modes of this thread, outermost first."""
    return list(_STATE.modes)


def _get_current_function_mode() -> Any:
    """The innermost active mode of this thread, or ``None``."""
    return _STATE.modes[-1] if _STATE.modes else None


# The Tensor's own plumbing and the methods PyTorch never hands to a handler (``as_subclass``); the
# top-level functions of torch.overrides.get_ignored_functions that ember has (creation, global state).
_IGNORED_METHODS = frozenset(
    """__class__ __delattr__ __delitem__ __dir__ __getattribute__ __hash__ __init__ __iter__ __new__ __setattr__
    __init_subclass__ __torch_function__ __getattr__ __reduce__ __reduce_ex__ __setstate__ __getstate__
    __array_priority__ __weakref__ __dict__ __slots__ __module__ __doc__ __annotations__ __class_getitem__
    as_subclass _make_subclass _typed_storage _use_count _view_func to_sparse_coo to_sparse_csr to_sparse_csc
    to_sparse_bsr to_sparse_bsc""".split()
)
_IGNORED_FUNCTIONS = frozenset(
    """arange are_deterministic_algorithms_enabled as_strided as_tensor asarray bartlett_window blackman_window
    broadcast_shapes can_cast compile cond default_generator device dtype empty empty_permuted empty_strided
    enable_grad eye finfo from_file from_numpy frombuffer full get_default_device get_default_dtype
    get_device_module get_float32_matmul_precision get_num_interop_threads get_num_threads get_rng_state
    hamming_window hann_window iinfo inference_mode initial_seed is_grad_enabled is_inference_mode_enabled
    is_storage is_tensor kaiser_window layout linspace load logspace manual_seed memory_format no_grad normal
    ones promote_types rand randint randn randperm range result_type save scalar_tensor seed set_default_device
    set_default_dtype set_default_tensor_type set_deterministic_debug_mode set_float32_matmul_precision
    set_flush_denormal set_grad_enabled set_num_interop_threads set_num_threads set_printoptions set_rng_state
    set_warn_always sparse_bsc_tensor sparse_bsr_tensor sparse_compressed_tensor sparse_coo_tensor
    sparse_csc_tensor sparse_csr_tensor tensor tril_indices triu_indices typename use_deterministic_algorithms
    vander vmap zeros is_floating_point numel is_complex""".split()
) - {"is_floating_point", "numel", "is_complex"}


# Of those, what no handler sees at all (global settings, queries about objects); the factories are seen by
# modes (PyTorch's TorchFunctionMode sees ``torch.zeros``), and these three by modes only, never by a
# subclass's handler (``torch.tensor(sub)`` is a plain copy without asking it).
_UNCHECKED = frozenset(
    """from_numpy range is_tensor is_storage get_default_dtype get_default_device is_grad_enabled
    is_inference_mode_enabled manual_seed seed initial_seed broadcast_shapes compile load save get_num_threads
    get_num_interop_threads get_rng_state set_rng_state are_deterministic_algorithms_enabled
    use_deterministic_algorithms typename get_device_module get_float32_matmul_precision""".split()
)
_MODE_ONLY = frozenset(("tensor", "as_tensor", "asarray"))


def get_ignored_functions() -> set[Callable]:
    """The public functions of ``ember`` that do not take part in the protocol (creation functions,
    global settings), as ``torch.overrides.get_ignored_functions``.

    Example::

        >>> ember.zeros in ember.overrides.get_ignored_functions()
        True
    """
    module = sys.modules["ember"]
    return {getattr(module, name) for name in _IGNORED_FUNCTIONS if callable(getattr(module, name, None))}


# -- the subclass side: wrappers installed on each subclass that takes part -------------------------
def _convert(result: Any, cls: type) -> Any:
    """``result`` with its tensors (also inside tuples and lists) as instances of ``cls``."""
    if cls is Tensor:
        return result
    if isinstance(result, Tensor):
        return result if isinstance(result, cls) else result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        items = [_convert(item, cls) for item in result]
        kind = type(result)
        make = getattr(kind, "_make", None)  # a named tuple (ember.return_types.max)
        return make(items) if make is not None else kind(items)
    return result


def _foreign_function(func: Any) -> bool:
    """Whether ``func`` is PyTorch's own (``torch.sin``, ``torch.Tensor.__eq__``): PyTorch hands it to an ember
    tensor's ``__torch_function__`` when the tensor is among its operands, and running it again would hand
    it back for ever; the handler declines it instead, so that PyTorch raises its TypeError."""
    owner = getattr(func, "__objclass__", None)
    module = getattr(func, "__module__", None) or getattr(owner, "__module__", None) or ""
    return module.partition(".")[0] == "torch"


def default_torch_function(cls: type, func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
    """``Tensor.__torch_function__``: run ``func`` with subclass handling off, then give its tensor results
    the class ``cls`` (the getters :func:`get_default_nowrap_functions` names aside)."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, kind) for kind in types) or _foreign_function(func):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        result = func(*args, **kwargs)
        if func in _nowrap():
            return result
        return _convert(result, cls)


def _dispatch(func: Callable, args: tuple, kwargs: dict, plain_kind: bool = False) -> Any:
    """Run ``func`` through the protocol if a mode is active or an argument overloads it, else as it is
    (``plain_kind``: as :func:`_handle`'s)."""
    overloaded = [] if _STATE.subclasses_off else _overloaded_args(_relevant(args, kwargs))
    if not overloaded and not _modes_on():
        return func(*args, **kwargs)
    return _handle(func, overloaded, args, kwargs or None, plain_kind)


# operators whose handlers see the method PyTorch passes for them (``1 + x`` passes ``Tensor.add``); the
# other operators that defer to a reflected one pass the op they compute (``x - 1``: ``Tensor.sub``), but for
# those PyTorch passes as themselves (``x // 2``: ``Tensor.__floordiv__``)
_OPERATOR_METHODS = {
    "__radd__": "add",
    "__rmul__": "mul",
    "__matmul__": "matmul",
    "__ne__": "ne",
    "__pos__": "positive",
    "__rand__": "bitwise_and",
    "__ror__": "bitwise_or",
    "__rxor__": "bitwise_xor",
}
_OPERATORS_AS_THEMSELVES = frozenset(
    """__floordiv__ __pow__ __and__ __or__ __xor__ __lshift__ __rshift__ __ipow__ __iand__ __ior__ __ixor__
    __ilshift__ __irshift__""".split()
)
# the operators PyTorch writes in Python (torch/_tensor.py): their handlers' ``types`` name ``Tensor`` too when
# an operand is a plain tensor (PyTorch's Python-side dispatch counts it among the overloaded arguments)
_PYTHON_OPERATORS = frozenset(
    """__rsub__ __rtruediv__ __rdiv__ __floordiv__ __rfloordiv__ __rmod__ __pow__ __rpow__ __rmatmul__
    __rlshift__ __rrshift__ __ipow__""".split()
)
# what a plain tensor's operator passes instead when only its other operand overloads (``plain.__eq__(sub)``
# passes ``Tensor.eq``, ``sub.__eq__(plain)`` passes ``Tensor.__eq__``, as PyTorch's)
_PLAIN_SELF_OPERATOR_METHODS = {"__eq__": "eq"}
# Tensor's binary operators that give a new result: each takes the keywords its ``_ember_keywords`` names and
# returns NotImplemented for any other (:func:`_takes_keywords`), also while a mode is active
_OUT_OF_PLACE_OPERATORS = frozenset(
    """__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __div__ __rdiv__ __floordiv__
    __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __eq__ __ne__ __lt__ __le__ __gt__
    __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ __lshift__ __rlshift__ __rshift__ __rrshift__""".split()
)
# those, and the in-place ones (``__iadd__``, whose handlers see ``Tensor.add_``; ``__iand__``, which PyTorch
# passes as itself): once the checks are on, each looks at both operands (a subclass inherits it)
_BINARY_OPERATORS = _OUT_OF_PLACE_OPERATORS | frozenset(
    """__iadd__ __isub__ __imul__ __itruediv__ __idiv__ __imod__ __ifloordiv__ __ipow__ __iand__ __ior__ __ixor__
    __ilshift__ __irshift__""".split()
)
# the indexing methods, checked as the methods are (``plain[sub]`` passes ``Tensor.__getitem__``)
_INDEXING_METHODS = frozenset(("__getitem__", "__setitem__"))


def _surface_wrapper(name: str, value: Any) -> Any:
    """The wrapper of ``Tensor``'s method or property ``name`` that passes its calls through the protocol
    (for a subclass's surface, or Tensor's own while a mode is active); None for what is not wrapped."""
    if isinstance(value, property):
        return _property_wrapper(value)
    if not isinstance(value, _types.FunctionType) or hasattr(value, "_ember_method"):
        return None  # not a method, or one that passes its calls through the protocol already (an operator)
    public = _OPERATOR_METHODS.get(name)
    plain_kind = name in _PYTHON_OPERATORS
    unchecked = not hasattr(value, "_ember_checked")
    if public is None and name.startswith("__") and hasattr(value, "__wrapped__") and unchecked:
        op = value.__wrapped__  # the method the operator computes, as Tensor holds it (checked or not)
        public = value if name in _OPERATORS_AS_THEMSELVES else _checked.get(id(op), op)
        return _operator_wrapper(value, public, plain_kind)
    public = public and _MODE_PATCHED.get(public, vars(Tensor)[public])
    if name in _OUT_OF_PLACE_OPERATORS and unchecked:  # the others, as the operator does (``__radd__``, ``__rsub__``)
        return _operator_wrapper(value, public or value, plain_kind)
    return _method_wrapper(value, public, plain_kind)


def _method_wrapper(func: Callable, public: Callable | None = None, plain_kind: bool = False) -> Callable:
    public = public or func

    @functools.wraps(func)
    def method(*args: Any, **kwargs: Any) -> Any:
        if _STATE.subclasses_off and not _STATE.modes:
            return func(*args, **kwargs)
        return _dispatch(public, args, kwargs, plain_kind)

    method._ember_wrapped = func  # type: ignore[attr-defined]
    method._ember_method = True  # type: ignore[attr-defined]
    return method


def _given_way(run: Callable, *args: Any) -> Any:
    """``run(*args)``, a binary operator's call handed to the handlers, with a TypeError turned into
    ``NotImplemented``, as PyTorch's operators turn it: Python then tries the other operand's reflected operator
    and, failing that, raises its own TypeError (``unsupported operand type(s) for -: 'int' and 'Sub'``)."""
    try:
        return run(*args)
    except TypeError:
        return NotImplemented


def _takes_keywords(func: Callable, given: dict) -> bool:
    """Whether Tensor's binary operator ``func`` takes the keywords ``given`` (``__add__``'s ``alpha``, named by
    its ``_ember_keywords``). For any other keyword the wrappers below return ``NotImplemented`` before a
    handler sees the call, as the operator itself does and PyTorch's do (their argument parser's TypeError
    turned into it); the keywords it takes are handed over with the call."""
    return given.keys() <= getattr(func, "_ember_keywords", frozenset())


def _operator_wrapper(func: Callable, public: Callable, plain_kind: bool = False) -> Callable:
    """A binary operator that gives way to unknown operands (``Tensor.__add__``): its handlers see the
    method PyTorch passes (``Tensor.add``) when the other operand is a tensor or a number; for any other
    operand the operator itself runs the call (and may return ``NotImplemented``). Keywords as
    :func:`_takes_keywords` says."""

    @functools.wraps(func)
    def operator(self: Any, other: Any, **given: Any) -> Any:
        if given and not _takes_keywords(func, given):
            return NotImplemented
        if _STATE.subclasses_off and not _STATE.modes:
            return func(self, other, **given)
        known = isinstance(other, Tensor) or type(other) in _PLAIN_TYPES
        return _given_way(_dispatch, public if known else func, (self, other), given, plain_kind)

    operator._ember_wrapped = func  # type: ignore[attr-defined]
    operator._ember_method = True  # type: ignore[attr-defined]
    return operator


def _property_wrapper(prop: property) -> property:
    """``prop`` with its getter passed through the protocol: a handler sees ``Tensor.T.__get__`` as ``func``
    and, as PyTorch's getters hand ``self`` over whatever its type, ``types`` holds the tensor's own type
    (``Tensor`` for a plain tensor under a mode, ``Parameter`` for a parameter)."""
    getter = prop.__get__  # what a handler sees as ``func`` for ``x.T``, as PyTorch's ``Tensor.T.__get__``

    def get(self: Any) -> Any:
        if _STATE.subclasses_off and not _STATE.modes:
            return getter(self)
        overloaded = [] if _STATE.subclasses_off else _overloaded_args((self,))
        if not overloaded and not _modes_on():
            return getter(self)
        return _handle(getter, overloaded, (self,), None, kinds=(type(self),))

    wrapped = property(get, prop.fset, prop.fdel, prop.__doc__)
    return wrapped


def _rebuild_subclass(cls: type, rebuild: Callable, args: tuple, state: Any) -> Any:
    """Unpickle a subclass instance: the tensor as ``Tensor`` pickles it, as ``cls``, with its attributes."""
    with DisableTorchFunctionSubclass():
        result = rebuild(*args)
        if type(result) is not cls:
            result = result.as_subclass(cls)
    if state:
        result.__dict__.update(state)
    return result


def _reduce_ex(self: Any, protocol: int) -> Any:
    with DisableTorchFunctionSubclass():
        rebuild, args, state = Tensor.__reduce_ex__(self, protocol)[:3]
    return (_rebuild_subclass, (type(self), rebuild, args, state))


def init_subclass(cls: type, **kwargs: Any) -> None:
    """``Tensor.__init_subclass__``: a subclass that takes part in the protocol (its
    ``__torch_function__`` is not ``_disabled_torch_function_impl``) gets, for each method, operator and
    property it would inherit from ``Tensor`` itself, a wrapper that passes the call through
    ``__torch_function__``; the first such subclass also switches on the checking wrappers of the public
    functions. ``Tensor``'s own methods stay as they are."""
    super(Tensor, cls).__init_subclass__(**kwargs)
    if _opted_out(getattr(cls, "__torch_function__", None)) or "_legacy_dtype" in cls.__dict__:
        return
    check_plain_methods()  # first: the subclass's wrappers wrap (and pass handlers) the checked methods
    for name, value in vars(Tensor).items():
        if name in _IGNORED_METHODS or _private(name) or _owner(cls, name) is not Tensor:
            continue
        wrapper = _surface_wrapper(name, _MODE_PATCHED.get(name, value))  # the original, while a mode is on
        if wrapper is not None:
            setattr(cls, name, wrapper)
    if _owner(cls, "__reduce_ex__") is Tensor:
        cls.__reduce_ex__ = _reduce_ex  # type: ignore[attr-defined]
    enable_function_checks()


_plain_methods_checked = False
_checked: dict[int, Callable] = {}  # id(Tensor's own method) -> its argument-checked wrapper


def check_plain_methods() -> None:
    """Once a subclass takes part in the protocol, ``Tensor``'s own methods look at their other arguments:
    a plain tensor's method called with a subclass instance (``plain.add(sub)``) is handed to the subclass's
    ``__torch_function__`` (which sees ``Tensor.add``), as in PyTorch; so are its indexing (``plain[sub]``)
    and its binary operators (``plain + sub``, which look at both operands). Until then they are the plain
    functions (a program without such a subclass pays nothing); afterwards a call with tensors and numbers
    only costs a look at each argument's type. :mod:`ember.tensor_methods` puts the wrappers on ``Tensor``."""
    global _plain_methods_checked
    if _plain_methods_checked:
        return
    _plain_methods_checked = True
    _surface["check"](_argument_check_of, _MODE_PATCHED)
    for name, value in _MODE_PATCHED.items():  # a mode is on: handlers see what Tensor holds now
        if hasattr(value, "_ember_checked"):
            _PATCHED_SURFACE[id(value)] = vars(Tensor)[name]
    _tensor_methods.cache_clear()


def _argument_check_of(name: str, value: Any) -> Callable | None:
    """The argument-checking wrapper of ``Tensor``'s method ``name`` (one per function: aliases that are one
    function stay one, ``Tensor.__idiv__ is Tensor.__itruediv__``), or None for what takes no part."""
    if name in _IGNORED_METHODS or name in _NO_TENSOR_ARGUMENTS or _private(name):
        return None
    if not isinstance(value, _types.FunctionType):
        return None
    code = value.__code__
    if code.co_argcount == 1 and not code.co_kwonlyargcount and not code.co_flags & _VARARGS:
        return None  # a method of ``self`` alone (``x.exp()``): no other argument to look at
    wrapper = _checked.get(id(value))  # one wrapper per function (``Tensor.__idiv__`` is ``Tensor.__itruediv__``)
    if wrapper is None:
        if name in _BINARY_OPERATORS:
            wrapper = _checked[id(value)] = _operator_checked(name, value)
        elif not name.startswith("__") or name in _INDEXING_METHODS:
            wrapper = _checked[id(value)] = _argument_checked(value)
    return wrapper


# methods whose other arguments PyTorch reads as data or numbers, never as tensors that overload (its handler
# is not asked for ``plain.new_tensor(sub)``)
_NO_TENSOR_ARGUMENTS = frozenset(("new_tensor", "new_full"))
_VARARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
_CHECK_CODE: list = []  # the one code object of the argument-checking wrappers (named as warnings skip it)


def _argument_checked(func: Callable) -> Callable:
    """``Tensor`` method ``func`` that hands a call with an overloading argument to its handlers."""

    @functools.wraps(func)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the common calls, tensors and numbers only, forwarded as they are (no unpacking)
            count = len(args)
            if not count:
                return func(self)
            kind = type(args[0])
            if kind is Tensor or kind in _PLAIN_TYPES:
                if count == 1:
                    return func(self, args[0])
                kind = type(args[1])
                if count == 2 and (kind is Tensor or kind in _PLAIN_TYPES):
                    return func(self, args[0], args[1])
        for value in args:
            kind = type(value)
            if kind is not Tensor and kind not in _PLAIN_TYPES:
                break
        else:
            if not kwargs:  # tensors and numbers only
                return func(self, *args)
        if not _STATE.subclasses_off:
            overloaded = _overloaded_args(_relevant(args, kwargs))
            if overloaded:
                return _handle(method, overloaded, (self, *args), kwargs or None)
        return func(self, *args, **kwargs)

    if not _CHECK_CODE:
        _CHECK_CODE.append(_hidden_from_warnings(method).__code__)
    method.__code__ = _CHECK_CODE[0]
    method._ember_wrapped = func  # type: ignore[attr-defined]
    method._ember_checked = True  # type: ignore[attr-defined]
    return method


def _operator_checked(name: str, func: Callable) -> Callable:
    """``Tensor``'s binary operator ``func`` (``__add__``) that hands a call with an overloading operand,
    ``self`` or the other, to its handlers: they see the method PyTorch passes (``Tensor.add``) or the
    operator itself (``Tensor.__rsub__``). Subclasses inherit it instead of wrapping it, so that Python runs
    ``plain + sub`` as ``plain.__add__(sub)``, as PyTorch does (a subclass's own ``__radd__`` would run first);
    an operand that is neither a tensor nor a number is left to the operator (which may give way to it).
    Keywords as :func:`_takes_keywords` says."""
    mapped = _OPERATOR_METHODS.get(name)
    if mapped is None and name not in _OPERATORS_AS_THEMSELVES and hasattr(func, "__wrapped__"):
        op = func.__wrapped__  # the method the operator computes (``x - y``: ``Tensor.sub``)
        public = _checked.get(id(op), op)
    else:
        public = mapped and _MODE_PATCHED.get(mapped, vars(Tensor)[mapped])
    plain = _PLAIN_SELF_OPERATOR_METHODS.get(name)
    plain_public = _MODE_PATCHED.get(plain, vars(Tensor)[plain]) if plain else public
    plain_kind = name in _PYTHON_OPERATORS
    # the op an operator computes where it does not give way (``Tensor.__mul__``'s ``mul`` for a tensor, float
    # or int operand), called without the operator's frame; the operator itself for the others
    computes = getattr(func, "_ember_computes", func)

    @functools.wraps(func)
    def operator(self: Any, other: Any, **given: Any) -> Any:
        if given:
            if not _takes_keywords(func, given):
                return NotImplemented
        elif not _mode_users and type(self) is Tensor:  # the common calls: tensors and numbers only
            kind = type(other)
            if kind is Tensor or kind is float or kind is int:
                return computes(self, other)
            if kind in _PLAIN_TYPES:
                return func(self, other)
        if _STATE.subclasses_off and not _STATE.modes:
            return func(self, other, **given)
        known = isinstance(other, Tensor) or type(other) in _PLAIN_TYPES
        if not (known or given) and type(self) is Tensor and not _modes_on():
            return func(self, other)  # the operator gives way to the other operand's (an fx Proxy's)
        overloaded = [] if _STATE.subclasses_off else _overloaded_args((self, other))
        if not overloaded and not _modes_on():
            return func(self, other, **given)
        if not known:
            return _given_way(_handle, func, overloaded, (self, other), given or None)
        seen = plain_public if type(self) is Tensor and not _modes_on() else public
        return _given_way(_handle, seen or operator, overloaded, (self, other), given or None, plain_kind)

    operator._ember_wrapped = func  # type: ignore[attr-defined]
    operator._ember_method = True  # type: ignore[attr-defined]
    operator._ember_checked = True  # type: ignore[attr-defined]
    return _hidden_from_warnings(operator)


def _private(name: str) -> bool:
    """ember's own plumbing (``Tensor._make``): not a method PyTorch has, so no handler sees it."""
    return name.startswith("_") and not name.startswith("__")


def _owner(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass
    return None


def make_subclass(cls: type, data: Tensor, require_grad: bool = False, **kwargs: Any) -> Tensor:
    """``Tensor._make_subclass(cls, data, require_grad=False)``: a leaf of class ``cls`` over the memory of
    ``data`` (detached), requiring grad as ``require_grad`` says; what a subclass's ``__new__`` calls.

    Args:
        cls (type): a subclass of :class:`~ember.Tensor`.
        data (Tensor): the tensor whose memory the new one shares.
        require_grad (bool, optional): whether the new leaf requires grad. Default: ``False``.

    Example::

        >>> class Tagged(ember.Tensor):
        ...     def __new__(cls, data, tag):
        ...         t = ember.Tensor._make_subclass(cls, data, True)
        ...         t.tag = tag
        ...         return t
        >>> t = Tagged(ember.ones(2), "w")
        >>> type(t).__name__, t.tag, t.requires_grad, t.is_leaf
        ('Tagged', 'w', True, True)
    """
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"cls must be a type (got {cls!r})")
    if not isinstance(data, Tensor):
        raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, not {type_name(data)}")
    with DisableTorchFunctionSubclass():
        source = data.detach()
    result = object.__new__(cls)
    _copy_slots(source, result)
    if not source._data.shape:  # NumPy gives 0-d results as immutable scalars; a leaf is updated in place
        result._data = source._backend.xp.asarray(source._data)
    result._requires_grad = False
    result._grad = None
    if require_grad:
        Tensor.requires_grad_(result, True)
    return result


# -- the function side: checking wrappers of the public functions, switched on once -----------------
# the modules whose public functions take part: all of them, or only the names given (as PyTorch's
# torch.autograd, whose grad and backward are overridable)
_FUNCTION_MODULES: dict[str, frozenset | None] = {
    "ember": None,
    "ember.nn.functional": None,
    "ember.autograd": frozenset(("grad", "backward")),
    "ember.linalg": None,
    "ember.fft": None,
    "ember.special": None,
    # modules that hold some of the functions above under PyTorch's other paths to them
    "ember.functional": None,
    "ember.utils.dlpack": None,
}
_TOP_LEVEL_ALIASES = frozenset(("ember", "ember.functional", "ember.utils.dlpack"))
_enabled = False
_wrapped_modules: set[str] = set()


def _function_wrapper(func: Callable, public: Callable | None = None, modes_only: bool = False) -> Callable:
    """``func`` with the protocol's check: handlers see ``public`` (by default the wrapper itself); with
    ``modes_only``, only modes are asked."""

    if modes_only:

        @functools.wraps(func)
        def seen_by_modes(*args: Any, **kwargs: Any) -> Any:
            if not _mode_users or not _modes_on():
                return func(*args, **kwargs)
            return _handle(public or seen_by_modes, [], args, kwargs or None)

        seen_by_modes._ember_wrapped = func  # type: ignore[attr-defined]
        return _hidden_from_warnings(seen_by_modes)

    @functools.wraps(func)
    def function(*args: Any, **kwargs: Any) -> Any:
        if not kwargs and not _mode_users:  # the common case, checked first: plain tensors and numbers
            for value in args:
                kind = type(value)
                if kind is not Tensor and kind not in _PLAIN_TYPES:
                    break
            else:
                return func(*args)
        if _STATE.subclasses_off and not _STATE.modes:
            return func(*args, **kwargs)
        overloaded = [] if _STATE.subclasses_off else _overloaded_args(_relevant(args, kwargs))
        if not overloaded and not _modes_on():
            return func(*args, **kwargs)
        return _handle(public or function, overloaded, args, kwargs or None)

    function._ember_wrapped = func  # type: ignore[attr-defined]
    return _hidden_from_warnings(function)


# CPython's warnings machinery passes over frames whose file name holds both "importlib" and "_bootstrap"
# (its import system's) when it counts ``stacklevel``; the wrappers' frames are named so, and a warning
# that ember issues for its caller still points at the user's line once the checks are on
_WRAPPER_FILENAME = "<ember.overrides wrapper, skipped by warnings as importlib._bootstrap frames are>"


def _hidden_from_warnings(wrapper: _types.FunctionType) -> _types.FunctionType:
    wrapper.__code__ = wrapper.__code__.replace(co_filename=_WRAPPER_FILENAME)
    return wrapper


def wrap_module_functions(namespace: dict, module_name: str) -> None:
    """Put the checks on the public functions in ``namespace`` (a module's globals), once, if the checks
    are on (a module imported after they were switched on calls this itself).

    The functions ``ember.nn.functional`` defines get the check in their own code object (the function
    object stays the same, so ``F.relu`` reached through any name, a layer's ``forward`` included, is
    checked); the others (``ember.add``, also ``Tensor.add``) are replaced in the module's namespace only,
    so that ember's own calls of them, and plain tensors' methods, stay unchecked."""
    if not _enabled or module_name in _wrapped_modules:
        return
    _wrapped_modules.add(module_name)
    top_level = module_name in _TOP_LEVEL_ALIASES  # ember, or a module holding some of its functions
    only = _FUNCTION_MODULES.get(module_name)
    for name, value in list(namespace.items()):
        if name.startswith("_") or not isinstance(value, _types.FunctionType):
            continue
        if top_level and (name in _UNCHECKED or name.startswith("set_")):
            continue
        if only is not None and name not in only:
            continue
        if hasattr(value, "_ember_wrapped") or id(value) in _CHECKED_IN_PLACE:
            continue
        if (value.__module__ or "").startswith("ember.nn.functional"):
            _check_in_place(value)
        else:  # one wrapper per function, whichever module names it (ember.einsum is ember.functional.einsum)
            namespace[name] = _shared_wrapper(value, modes_only=top_level and name in _MODE_ONLY)


_WRAPPERS: dict[int, Callable] = {}  # id(function) -> its checking wrapper, shared by the modules naming it


def checked(func: Callable) -> Callable:
    """``func`` as ember's namespace hands it out: its checking wrapper once the checks are on (for the
    top-level functions ``ember`` loads on first access), else ``func`` itself."""
    if not _enabled or not isinstance(func, _types.FunctionType) or hasattr(func, "_ember_wrapped"):
        return func
    return _shared_wrapper(func)


def _shared_wrapper(func: Callable, modes_only: bool = False) -> Callable:
    """The one checking wrapper of ``func``, made on first request."""
    wrapper = _WRAPPERS.get(id(func))
    if wrapper is None:
        wrapper = _WRAPPERS[id(func)] = _function_wrapper(func, modes_only=modes_only)
    return wrapper


_DISPATCH = "__ember_torch_function__"  # the name of the checked functions' table in their module's globals
_CHECKED_IN_PLACE: set[int] = set()


def _check_in_place(func: _types.FunctionType) -> None:
    """Give ``func`` a code object that calls a checking wrapper of a copy of its original code (the
    handlers see ``func`` itself); its signature stays what ``inspect`` reports."""
    original = _types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    original.__kwdefaults__ = func.__kwdefaults__
    original.__qualname__ = func.__qualname__
    original.__module__ = func.__module__
    signature = inspect.signature(original)
    func.__globals__.setdefault(_DISPATCH, {})[id(func)] = _function_wrapper(original, public=func)
    free = [f"_v{i}" for i in range(len(func.__code__.co_freevars))]
    lines = ["def outer():"]
    if free:  # as many free variables as the function's closure has cells; never read
        lines.append(f"    {' = '.join(free)} = None")
    lines.append("    def trampoline(*args, **kwargs):")
    if free:
        lines += ["        if False:", f"            ({', '.join(free)},)"]
    lines += [f"        return {_DISPATCH}[{id(func)}](*args, **kwargs)", "    return trampoline"]
    scope: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", _WRAPPER_FILENAME, "exec"), scope)  # noqa: S102
    code = scope["outer"]().__code__
    func.__code__ = code.replace(co_name=func.__code__.co_name, co_qualname=func.__code__.co_qualname)
    func.__signature__ = signature  # type: ignore[attr-defined]
    _CHECKED_IN_PLACE.add(id(func))


def overloading_among(values: Iterable[Any]) -> bool:
    """Whether any of ``values`` (a node's gradients, None among them) is of a tensor subclass with its own
    ``__torch_function__`` that is not switched off (modes aside): the engine runs the backward formula of
    such a gradient with tensor ops, which its handler sees. False at once before any such subclass was
    defined or mode entered (the checks are off)."""
    return _enabled and not _STATE.subclasses_off and bool(_overloaded_args(values))


def enable_function_checks() -> None:
    """Switch on the checking wrappers of ``ember``'s and ``ember.nn.functional``'s public functions
    (done when the first subclass with the protocol is defined or the first mode entered)."""
    global _enabled
    _enabled = True
    for module_name in _FUNCTION_MODULES:
        module = sys.modules.get(module_name)
        if module is not None:
            wrap_module_functions(vars(module), module_name)


# -- modes ------------------------------------------------------------------------------------------
_MODE_PATCHED: dict[str, Any] = {}  # while a mode is active: Tensor's own methods and properties
_surface: dict[str, Callable] = {}


def connect(wrap_surface: Callable, restore_surface: Callable, check_surface: Callable) -> None:
    """Called once by :mod:`ember.tensor_methods`: how to swap ``Tensor``'s surface for wrappers while a
    :class:`TorchFunctionMode` is active, how to put it back, and how to put the argument checks on it."""
    _surface.update(wrap=wrap_surface, restore=restore_surface, check=check_surface)


def _mode_wrapper(name: str, value: Any) -> Any:
    if name in _IGNORED_METHODS or _private(name):
        return None
    return _surface_wrapper(name, value)


_PATCHED_SURFACE: dict[int, Any] = {}  # while a mode is active: id(original) -> what Tensor holds instead


def _current_surface(func: Any) -> Any:
    """The wrapper Tensor holds now in place of ``func`` (a method, or a property's ``__get__``), so that a
    handler's ``func is ember.Tensor.sum`` holds and calling ``func`` passes through the protocol again."""
    replacement = _PATCHED_SURFACE.get(id(func))
    if replacement is not None:
        return replacement
    owner = getattr(func, "__self__", None)
    if isinstance(owner, property) and getattr(func, "__name__", None) == "__get__":
        patched = _PATCHED_SURFACE.get(id(owner))
        if patched is not None:
            return patched.__get__
    return func


def _patch_tensor_for_modes() -> None:
    """While a mode is active, plain tensors' methods and properties pass through the protocol too
    (put back when the last mode exits, so that plain tensors are as fast as ever without one)."""
    global _MODE_PATCHED
    _MODE_PATCHED = _surface["wrap"](_mode_wrapper)
    _PATCHED_SURFACE.update({id(original): vars(Tensor)[name] for name, original in _MODE_PATCHED.items()})


def _unpatch_tensor() -> None:
    global _MODE_PATCHED
    _PATCHED_SURFACE.clear()
    _surface["restore"]()
    _MODE_PATCHED = {}


_mode_lock = threading.Lock()


class TorchFunctionMode:
    """A context manager whose ``__torch_function__(self, func, types, args=(), kwargs=None)`` sees every
    call of a Tensor method, operator or property and of the public functions of ``ember`` and
    ``ember.nn.functional`` made inside its ``with`` block, on plain tensors as well as subclasses. The
    mode is switched off while its own ``__torch_function__`` runs, so calling ``func`` there runs the op.

    Example::

        >>> class Count(ember.overrides.TorchFunctionMode):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.names = []
        ...     def __torch_function__(self, func, types, args=(), kwargs=None):
        ...         self.names.append(func.__name__)
        ...         return func(*args, **(kwargs or {}))
        >>> with Count() as mode:
        ...     y = ember.add(ember.ones(2), 1).sum()
        >>> mode.names
        ['ones', 'add', 'sum']
    """

    def __init__(self) -> None:
        pass

    def __torch_function__(self, func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        global _mode_users
        with _mode_lock:
            if _mode_users == 0:
                enable_function_checks()
                _patch_tensor_for_modes()
            _mode_users += 1
        _STATE.modes.append(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _mode_users
        _STATE.modes.remove(self)
        with _mode_lock:
            _mode_users -= 1
            if _mode_users == 0:
                _unpatch_tensor()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:
        """Make a mode and enter it; leave it with its ``__exit__``."""
        mode = cls(*args, **kwargs)
        mode.__enter__()
        return mode


class BaseTorchFunctionMode(TorchFunctionMode):
    """A :class:`TorchFunctionMode` whose ``__torch_function__`` runs the call as it is."""

    def __torch_function__(self, func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        return func(*args, **(kwargs or {}))
