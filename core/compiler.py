"""``ember.compile`` and ``ember.compiler``: ember runs every program eagerly.

PyTorch's contract for :func:`torch.compile` is "the same results, maybe faster". ember has no
graph compiler, so :func:`compile` returns the module or function itself: it behaves exactly as
before (including its ``state_dict`` keys, which PyTorch's wrapper would prefix with
``_orig_mod.``), and nothing is ever compiling.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "compile",
    "cudagraph_mark_step_begin",
    "disable",
    "is_compiling",
    "is_dynamo_compiling",
    "list_backends",
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
        backend = "inductor"
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
