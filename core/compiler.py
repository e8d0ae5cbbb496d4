"""``ember.compile`` and ``ember.compiler``: ember runs every program eagerly.

PyTorch's contract for :func:`torch.compile` is "the same results, maybe faster". ember has no
graph compiler, so :func:`compile` returns the module or function itself: it behaves exactly as
before (including its ``state_dict`` keys, which PyTorch's wrapper would prefix with
``_orig_mod.``), and nothing is ever compiling.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "allow_in_graph",
    "assume_constant_result",
    "compile",
    "cudagraph_mark_step_begin",
    "disable",
    "get_default_backend",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "list_backends",
    "nested_compile_region",
    "reset",
    "set_default_backend",
    "set_stance",
    "substitute_in_graph",
    "wrap_numpy",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")

#: PyTorch's registered compiler backends (``torch._dynamo.list_backends(None)``) with their tags: ember
#: accepts each name (and runs eagerly whichever is named); any other name is PyTorch's InvalidBackend
_BACKENDS = {
    **dict.fromkeys(("cudagraphs", "inductor", "openxla", "tvm"), ()),
    "openxla_eval": ("experimental",),
    **dict.fromkeys(
        (
            "aot_eager",
            "aot_eager_decomp_partition",
            "aot_eager_decomp_partition_crossref",
            "aot_eager_decomp_partition_with_mode",
            "aot_eager_default_partitioner",
            "aot_ts",
            "dynamo_accuracy_minifier_backend",
            "dynamo_minifier_backend",
            "eager",
            "eager_debug",
            "eager_noexcept",
            "invoke_subgraph",
            "non_leaf_compile_error_TESTING_ONLY",
            "pre_dispatch_eager",
            "relu_accuracy_error_TESTING_ONLY",
            "relu_compile_error_TESTING_ONLY",
            "relu_runtime_error_TESTING_ONLY",
            "ts",
        ),  # fmt: skip
        ("debug",),
    ),
}


def list_backends(exclude_tags: tuple[str, ...] | None = ("debug", "experimental")) -> list[str]:
    """The names ``compile(..., backend=name)`` accepts: PyTorch's registered backends, sorted (ember runs
    the model eagerly whichever is named).

    Args:
        exclude_tags (tuple of str, optional): leave out the backends with any of these tags
            (``"debug"``, ``"experimental"``); ``None`` lists all. Default: ``("debug", "experimental")``.

    Example::

        >>> ember.compiler.list_backends()
        ['cudagraphs', 'inductor', 'openxla', 'tvm']
        >>> "eager" in ember.compiler.list_backends(exclude_tags=None)
        True
    """
    excluded = set(exclude_tags or ())
    return sorted(name for name, tags in _BACKENDS.items() if not excluded.intersection(tags))


def compile(  # noqa: A001 - PyTorch's name
    model: Any = None,
    *,
    fullgraph: builtins.bool = False,
    dynamic: builtins.bool | None = None,
    backend: str | Callable[..., Any] | None = None,
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    name: str | None = None,
    disable: builtins.bool = False,
    recompile_limit: builtins.int | None = None,
    isolate_recompiles: builtins.bool = False,
    shapes_spec: Any = None,
) -> Any:
    r"""PyTorch's ``torch.compile`` for ember: returns ``model`` itself, to run eagerly.

    ember has no compiler: the result is the very module or function given, so it computes
    exactly what it did (PyTorch's contract: the same results, maybe faster). The keyword
    arguments are checked as PyTorch checks them and otherwise ignored.

    Args:
        model (Module or callable): what to "compile"; ``None`` returns a decorator.
        fullgraph, dynamic, backend, mode, options, name, disable, recompile_limit, isolate_recompiles, shapes_spec:
            PyTorch's options, accepted.

    Returns:
        ``model``.

    Example::

        >>> model = nn.Linear(4, 2)
        >>> ember.compile(model) is model
        True
        >>> @ember.compile(mode="reduce-overhead")
        ... def f(x):
        ...     return x.sin() + 1
        >>> f(ember.zeros(2))
        tensor([1., 1.])
    """
    if model is None:

        def decorate(model: Any) -> Any:
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(
                model,
                fullgraph=fullgraph,
                dynamic=dynamic,
                backend=backend,
                mode=mode,
                options=options,
                name=name,
                disable=disable,
                recompile_limit=recompile_limit,
                isolate_recompiles=isolate_recompiles,
                shapes_spec=shapes_spec,
            )

        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if backend is None:
        backend = _default_backend
    if isinstance(backend, str) and backend not in _BACKENDS:  # checked as PyTorch's registry looks it up
        from ._dynamo.exc import InvalidBackend

        raise InvalidBackend(backend)
    if backend == "inductor" and mode is not None and mode not in _MODES:  # the inductor's own modes
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    return model


def is_compiling() -> bool:
    """Whether the code runs inside a compiled region: never, in ember.

    Example::

        >>> ember.compiler.is_compiling()
        False
    """
    return False


def is_dynamo_compiling() -> bool:
    """Whether the code is being traced by a graph compiler: never, in ember.

    Example::

        >>> ember.compiler.is_dynamo_compiling()
        False
    """
    return False


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Exclude ``fn`` from compilation: it is returned as is (ember compiles nothing).

    Args:
        fn (callable): the function; ``None`` returns a decorator.
        recursive (bool): accepted.
        reason (str): accepted.

    Example::

        >>> @ember.compiler.disable
        ... def f(x):
        ...     return x + 1
        >>> f(1)
        2
    """
    if fn is None:
        return lambda f: f
    return fn


def cudagraph_mark_step_begin() -> None:
    """Mark the start of a training or inference step for the CUDA graphs of ``mode="reduce-overhead"``
    compilation: ember compiles nothing, so there is no graph to step.

    Example::

        >>> ember.compiler.cudagraph_mark_step_begin()
    """


#: what :func:`compile` takes when no backend is named (:func:`set_default_backend`)
_default_backend: str | Callable[..., Any] = "inductor"
_exporting = 0  # how many ember.export.export calls are tracing now (is_exporting)


def set_default_backend(backend: str | Callable[..., Any] | None) -> None:
    """Set the backend :func:`compile` takes when none is named; ``None`` puts back ``"inductor"``. ember runs
    eagerly whichever it is; a name is checked when :func:`compile` is called, as PyTorch's.

    Args:
        backend (str, callable or None): a backend name, a callable backend, or ``None``.

    Example::

        >>> ember.compiler.set_default_backend("eager")
        >>> ember.compiler.get_default_backend()
        'eager'
        >>> ember.compiler.set_default_backend(None)
        >>> ember.compiler.get_default_backend()
        'inductor'
    """
    global _default_backend
    _default_backend = "inductor" if backend is None else backend


def get_default_backend() -> str | Callable[..., Any]:
    """The backend :func:`compile` takes when none is named (:func:`set_default_backend`); at first
    ``"inductor"``.

    Example::

        >>> ember.compiler.get_default_backend()
        'inductor'
    """
    return _default_backend


def reset() -> None:
    """Clear the compiler's in-process caches: ember keeps none, so there is nothing to clear.

    Example::

        >>> ember.compiler.reset()
    """


def allow_in_graph(fn: Any) -> Any:
    """Mark ``fn`` to be written into a compiled graph without being traced through: returned as is (ember
    traces nothing). A list or tuple of callables gives a list of them, as PyTorch's.

    Args:
        fn (callable, or a list or tuple of them): the function(s).

    Raises:
        AssertionError: ``fn`` is not callable (PyTorch's check).

    Example::

        >>> def f(x):
        ...     return x + 1
        >>> ember.compiler.allow_in_graph(f) is f
        True
    """
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(f) for f in fn]
    if not callable(fn):
        raise AssertionError("allow_in_graph expects a callable")
    return fn


def assume_constant_result(fn: _F) -> _F:
    """Mark ``fn`` as returning a constant a compiler may fold: returned as is.

    Args:
        fn (callable): the function.

    Example::

        >>> def f():
        ...     return 3
        >>> ember.compiler.assume_constant_result(f) is f
        True
    """
    return fn


_substituted: set[int] = set()  # the ids of the functions substitute_in_graph has a stand-in for


def substitute_in_graph(
    original_fn: Callable[..., Any],
    *,
    can_constant_fold_through: builtins.bool = False,
    skip_signature_check: builtins.bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator registering a Python stand-in ("polyfill") that a compiler traces in place of
    ``original_fn``. The decorated name calls ``original_fn`` itself when run eagerly, as PyTorch's does,
    so ember (which runs everything eagerly) always runs the original.

    Args:
        original_fn (callable): the function the stand-in replaces in compiled code.
        can_constant_fold_through (bool, optional): accepted. Default: ``False``.
        skip_signature_check (bool, optional): do not require the stand-in's parameters (names and
            defaults) to be the original's. Default: ``False``.

    Raises:
        TypeError: the stand-in is not a function, or its signature is not the original's.
        ValueError: ``original_fn`` already has a stand-in.

    Example::

        >>> import operator
        >>> @ember.compiler.substitute_in_graph(operator.countOf)
        ... def count_of(a, b, /):
        ...     return sum(1 for item in a if item is b or item == b)
        >>> count_of([1, 2, 2], 2)
        2
    """

    def register(polyfill: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(polyfill, types.FunctionType):
            raise TypeError(f"@substitute_in_graph(...) expects a function but got {type(polyfill)!r}")
        if not skip_signature_check:
            _check_same_signature(original_fn, polyfill)
        if id(original_fn) in _substituted:
            raise ValueError(f"Duplicate polyfilled object {original_fn}")
        _substituted.add(id(original_fn))

        @functools.wraps(polyfill)
        def run(*args: Any, **kwargs: Any) -> Any:
            return original_fn(*args, **kwargs)

        run.__torch_dynamo_original__ = original_fn  # type: ignore[attr-defined]
        run.__torch_dynamo_polyfill__ = polyfill  # type: ignore[attr-defined]
        return run

    return register


def _check_same_signature(original: Callable[..., Any], polyfill: Callable[..., Any]) -> None:
    """PyTorch's rule: the positional parameters' names, the keyword-only names and every named
    parameter's default must agree (annotations and the names of ``*args``/``**kwargs`` aside), unless
    either side takes just ``(*args, **kwargs)`` or the original's signature cannot be read."""
    try:
        original_signature = inspect.signature(original)
    except ValueError:
        return
    polyfill_signature = inspect.signature(polyfill)
    anything = _signature_key(inspect.signature(lambda *args, **kwargs: None))
    keys = _signature_key(original_signature), _signature_key(polyfill_signature)
    if keys[0] != keys[1] and anything not in keys:
        raise TypeError(
            f"Signature mismatch between {original} and {polyfill}: {original_signature} != {polyfill_signature}"
        )


def _signature_key(signature: inspect.Signature) -> tuple[Any, ...]:
    params = signature.parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return (
        tuple(p.name for p in params if p.kind not in (*variadic, inspect.Parameter.KEYWORD_ONLY)),
        {p.name for p in params if p.kind == inspect.Parameter.KEYWORD_ONLY},
        {p.name: p.default for p in params if p.kind not in variadic},
    )


class set_stance(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Set the compiler's stance (``"force_eager"``: ignore every :func:`compile`), as a call, a context
    manager or a decorator. ember compiles nothing: every stance runs the same eager code.

    Args:
        stance (str, optional): ``"default"``, ``"force_eager"``, ``"eager_on_recompile"``,
            ``"fail_on_recompile"``, ``"eager_then_compile"`` or ``"aot_eager_then_compile"``.
            Default: ``"default"``.
        skip_guard_eval_unsafe (bool, optional): accepted. Default: ``False``.
        force_backend (str or callable, optional): a backend for the ``"default"`` stance; any other
            stance with one is a RuntimeError, as in PyTorch.

    Example::

        >>> with ember.compiler.set_stance("force_eager"):
        ...     y = ember.compile(lambda x: x + 1)(ember.zeros(1))
        >>> y
        tensor([1.])
    """

    def __init__(
        self,
        stance: str = "default",
        *,
        skip_guard_eval_unsafe: builtins.bool = False,
        force_backend: str | Callable[..., Any] | None = None,
    ) -> None:
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance = stance

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass


def nested_compile_region(fn: Any = None, options: Any = None) -> Any:
    """Mark ``fn`` as a region a compiler compiles once and reuses at each call: eagerly it runs as written.
    Usable as ``@nested_compile_region`` and ``@nested_compile_region(options=...)``.

    Args:
        fn (callable, optional): the function; ``None`` gives a decorator.
        options (optional): accepted.

    Example::

        >>> @ember.compiler.nested_compile_region
        ... def block(x):
        ...     return x * 2
        >>> block(ember.ones(2))
        tensor([2., 2.])
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def region(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return region

    return mark if fn is None else mark(fn)


def wrap_numpy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, a function of NumPy arrays, made a function of tensors: the tensor arguments (also inside
    lists, tuples and dicts) reach it as NumPy arrays (``Tensor.numpy()``: a tensor that requires grad is
    refused), and the arrays it returns come back as tensors over the same memory; anything else, a NumPy
    scalar too, passes as it is, as in PyTorch.

    Args:
        fn (callable): a function of NumPy arrays.

    Example::

        >>> import numpy as np
        >>> norm = ember.compiler.wrap_numpy(lambda x: np.sqrt(np.sum(x * x, axis=0)))
        >>> norm(ember.tensor([[3.0], [4.0]]))
        tensor([5.])
    """
    import numpy as np

    from .tensor import Tensor, as_tensor
    from .utils import _pytree

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = _pytree.tree_map_only(Tensor, lambda t: t.numpy(), (args, kwargs))
        return _pytree.tree_map_only(np.ndarray, as_tensor, fn(*args, **kwargs))

    return wrapped


def is_exporting() -> bool:
    """Whether the code runs inside :func:`ember.export.export`'s tracing of a module.

    Example::

        >>> ember.compiler.is_exporting()
        False
    """
    return _exporting > 0


@contextlib.contextmanager
def _exporting_scope() -> Iterator[None]:
    """Within the block, :func:`is_exporting` is True (ember.export.export's tracing)."""
    global _exporting
    _exporting += 1
    try:
        yield
    finally:
        _exporting -= 1
