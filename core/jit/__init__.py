"""``ember.jit``: the TorchScript names model code uses, for eager execution.

ember has no TorchScript. :func:`script` and :func:`trace` return the module or function
itself, which computes what the scripted/traced one computes on the inputs it was written for
(a trace in PyTorch freezes data-dependent control flow; the eager function keeps it). The
decorators (:func:`ignore`, :func:`unused`, :func:`export`, ...) return what they decorate,
and :func:`is_scripting`/:func:`is_tracing` are ``False``: the code is always eager.
"""

import builtins
import contextlib
import functools
import pickle
import typing
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from . import annotations  # the submodule (no ``from __future__ import annotations`` here: it would shadow it)

__all__ = [
    "script",
    "trace",
    "ignore",
    "unused",
    "export",
    "is_scripting",
    "is_tracing",
    "annotate",
    "interface",
    "Final",
    "annotations",
    "fork",
    "wait",
    "freeze",
    "optimize_for_inference",
    "optimized_execution",
    "script_if_tracing",
    "isinstance",
    "load",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None) -> Any:
    """``torch.jit.script`` for eager ember: returns ``obj`` (a module, function or class) itself.

    Args:
        obj: what to script.
        optimize, example_inputs: accepted.

    Example::

        >>> model = nn.Linear(3, 1)
        >>> ember.jit.script(model) is model
        True
    """
    return obj


def trace(
    func: Any,
    example_inputs: Any = None,
    optimize: Any = None,
    check_trace: bool = True,
    check_inputs: Any = None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    example_kwarg_inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``torch.jit.trace`` for eager ember: runs ``func`` once on the example inputs (as the
    trace does, so an input it cannot take fails here) and returns ``func`` itself.

    Args:
        func: the module or function.
        example_inputs (tuple or Tensor): positional example inputs.
        example_kwarg_inputs (dict): keyword example inputs.
        optimize, check_trace, check_inputs, check_tolerance, strict: accepted.

    Example::

        >>> model = nn.Linear(3, 1)
        >>> ember.jit.trace(model, ember.randn(2, 3)) is model
        True
    """
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided")
    args = (
        example_inputs
        if builtins.isinstance(example_inputs, tuple)
        else ()
        if example_inputs is None
        else (example_inputs,)
    )
    func(*args, **(example_kwarg_inputs or {}))
    return func


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Leave a function to Python (``@ember.jit.ignore`` or ``@ember.jit.ignore(drop=True)``):
    it is returned as is.

    Example::

        >>> @ember.jit.ignore
        ... def debug(x):
        ...     return x
        >>> debug(3)
        3
    """
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: _F) -> _F:
    """Mark a method the compiler should skip: it is returned as is.

    Example::

        >>> ember.jit.unused(abs)(-2)
        2
    """
    return fn


def export(fn: _F) -> _F:
    """Mark a method as a compilation entry point: it is returned as is.

    Example::

        >>> ember.jit.export(abs)(-2)
        2
    """
    return fn


def interface(obj: Any) -> Any:
    """Declare a TorchScript interface class: the class is returned as is.

    Example::

        >>> @ember.jit.interface
        ... class Encoder:
        ...     def forward(self, x): ...
        >>> Encoder.__name__
        'Encoder'
    """
    return obj


def is_scripting() -> bool:
    """Whether the code runs under TorchScript: never, in ember.

    Example::

        >>> ember.jit.is_scripting()
        False
    """
    return False


def is_tracing() -> bool:
    """Whether the code runs under ``jit.trace``: never, in ember.

    Example::

        >>> ember.jit.is_tracing()
        False
    """
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """Give TorchScript the type of ``the_value``: in eager code, ``the_value`` itself.

    Example::

        >>> ember.jit.annotate(list, [])
        []
    """
    return the_value


def fork(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)`` as a task, as ``torch.jit.fork`` does in eager code: at once, its
    result held by a completed :class:`ember.futures.Future` (an exception raises here).

    Args:
        func (callable): the function to run.
        *args, **kwargs: its arguments.

    Example::

        >>> fut = ember.jit.fork(lambda a, b: a + b, 1, b=2)
        >>> ember.jit.wait(fut)
        3
    """
    from ..futures import Future

    future: Future[Any] = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Any) -> Any:
    """The result of a :func:`fork`-ed task: ``future.wait()``.

    Example::

        >>> ember.jit.wait(ember.jit.fork(abs, -2))
        2
    """
    return future.wait()


def freeze(mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True) -> Any:
    """``torch.jit.freeze`` for eager ember: the (scripted, that is the same) module ``mod`` itself,
    which must be in eval mode as PyTorch requires.

    Args:
        mod (nn.Module): the module, in eval mode.
        preserved_attrs, optimize_numerics: accepted.

    Example::

        >>> model = ember.jit.script(nn.Linear(3, 1).eval())
        >>> ember.jit.freeze(model) is model
        True
    """
    if mod.training:
        raise RuntimeError(
            "Freezing is currently only implemented for modules in eval mode. Please call .eval() on your "
            "module before freezing."
        )
    return mod


def optimize_for_inference(mod: Any, other_methods: list[str] | None = None) -> Any:
    """``torch.jit.optimize_for_inference`` for eager ember: ``mod`` put in eval mode, and returned.

    Args:
        mod (nn.Module): the (scripted, that is the same) module.
        other_methods: accepted.

    Example::

        >>> model = ember.jit.optimize_for_inference(ember.jit.script(nn.Dropout()))
        >>> model.training
        False
    """
    return freeze(mod.eval())


@contextlib.contextmanager
def optimized_execution(should_optimize: bool) -> Iterator[None]:
    """Switch TorchScript's graph optimizations within a ``with`` block: nothing to switch in eager
    ember.

    Example::

        >>> with ember.jit.optimized_execution(False):
        ...     print(ember.tensor([1.0]) * 2)
        tensor([2.])
    """
    yield


def script_if_tracing(fn: _F) -> _F:
    """Compile ``fn`` when a trace first calls it: in eager ember, ``fn`` itself.

    Example::

        >>> ember.jit.script_if_tracing(abs)(-2)
        2
    """
    return fn


_CONTAINERS = {list: "list[int]", tuple: "tuple[int]", dict: "dict[int, int]"}


def isinstance(obj: Any, target_type: Any) -> bool:
    """Whether ``obj`` is of ``target_type``, a type or a typing form (``list[int]``,
    ``dict[str, Tensor]``, ``tuple[int, str]``, ``Optional[int]``, ``Union[...]``) checked element by
    element, as ``torch.jit.isinstance`` in eager code. A bare container type is refused, as in PyTorch.

    Args:
        obj: the object.
        target_type: the type.

    Example::

        >>> ember.jit.isinstance([1, 2], list[int]), ember.jit.isinstance({"a": 1}, dict[str, ember.Tensor])
        (True, False)
    """
    if builtins.isinstance(target_type, tuple):
        return any(isinstance(obj, t) for t in target_type)
    if target_type in _CONTAINERS:
        name, example = target_type.__name__, _CONTAINERS[target_type]
        if target_type is dict:
            raise RuntimeError(
                f"Attempted to use dict without contained types. Please add contained type, e.g. {example}"
            )
        raise RuntimeError(
            f"Attempted to use {name} without a contained type. Please add a contained type, e.g. {example}"
        )
    origin, args = typing.get_origin(target_type), typing.get_args(target_type)
    if origin is None:
        if not builtins.isinstance(target_type, type):
            raise RuntimeError("The second argument to `torch.jit.isinstance` must be a type or a tuple of types")
        return builtins.isinstance(obj, target_type)
    if origin is typing.Union or type(target_type).__name__ == "UnionType":
        return any(isinstance(obj, t) for t in args)
    if not builtins.isinstance(obj, origin):
        return False
    if not obj:
        warnings.warn(
            "The inner type of a container is lost when calling torch.jit.isinstance in eager mode. For example, "
            "List[int] would become list and therefore falsely return True for List[float] or List[str].",
            stacklevel=2,
        )
    if origin is list:
        return all(isinstance(item, args[0]) for item in obj)
    if origin is dict:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        return len(obj) == len(args) and all(isinstance(item, t) for item, t in zip(obj, args))
    return True


def load(
    f: Any, map_location: Any = None, _extra_files: dict[str, Any] | None = None, _restore_shapes: bool = False
) -> Any:
    """Read the parameters and buffers of a TorchScript archive (a file ``torch.jit.save`` wrote) into a module tree.

    ember does not run TorchScript code: the result is an ``nn.Module`` of the archive's structure (submodules
    under their names, each ``original_name`` the scripted class's name), whose parameters, buffers and
    ``training`` flags are the saved ones, so that ``state_dict()`` gives the same keys and values as
    ``torch.jit.load(f).state_dict()`` and loads into the ember model of the same architecture. Calling it
    raises ``NotImplementedError``. Nothing in the file runs: tensors and plain data are rebuilt as
    ``ember.load(weights_only=True)`` rebuilds them.

    Args:
        f: a path or a seekable binary file object.
        map_location: where to put the tensors, as :func:`ember.load`'s. Default: where they were saved.
        _extra_files (dict): names of the archive's extra files (``torch.jit.save(..., _extra_files=...)``);
            each is set to its contents (``bytes``), as in PyTorch.
        _restore_shapes: accepted.

    Raises:
        ValueError: ``f`` is a path to a file that does not exist (PyTorch's error).
        RuntimeError: the file is not a TorchScript archive (a ``torch.save`` checkpoint is read by
            :func:`ember.load`), or is corrupt.

    Example::

        >>> import io, torch
        >>> buffer = io.BytesIO()
        >>> torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), buffer)
        >>> _ = buffer.seek(0)
        >>> weights = ember.jit.load(buffer)
        >>> weights
        RecursiveScriptModule(original_name=Linear)
        >>> model = ember.nn.Linear(3, 2)
        >>> model.load_state_dict(weights.state_dict())
        <All keys matched successfully>
    """
    import os

    from ember import serialization
    from ember.plugins.checkpoint_torch import load_torchscript  # deferred: the plugin is built on ember

    if builtins.isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {os.fspath(f)} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {os.fspath(f)} is a directory")
    name = os.fspath(f) if builtins.isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    with open(f, "rb") if builtins.isinstance(f, (str, os.PathLike)) else contextlib.nullcontext(f) as stream:
        try:
            root, classes = load_torchscript(stream, map_location, _extra_files)
        except serialization._PlacementFailed as exc:
            raise exc.original from None
        except (ImportError, pickle.UnpicklingError):
            raise
        except Exception as exc:  # anything a decoder raises means the bytes are bad
            raise RuntimeError(f"ember.jit.load: {name} is not a valid TorchScript archive: {exc}") from exc
    return _scripted_module(root, classes)


def _scripted_module(record: Any, classes: dict[str, tuple[list[str], list[str], dict[str, Any]]]) -> Any:
    from ember import nn
    from ember.plugins.checkpoint_torch import _ScriptObject

    if not builtins.isinstance(record, _ScriptObject) or record.qualified_name not in classes:
        raise RuntimeError("ember.jit.load: the archive's data.pkl does not hold a scripted module")
    parameters, buffers, constants = classes[record.qualified_name]
    module = _loaded_script_module_class()(record.qualified_name.rsplit(".", 1)[-1])
    for key, value in constants.items():
        setattr(module, key, value)
    for key, value in record.state.items():
        if key in parameters:
            if value is None or builtins.isinstance(value, nn.Parameter):
                module.register_parameter(key, value)
            else:
                module.register_parameter(key, nn.Parameter(value, requires_grad=value.requires_grad))
        elif key in buffers:
            module.register_buffer(key, value)
        elif key == "training":
            module.training = bool(value)
        elif key == "_is_full_backward_hook":
            continue
        elif builtins.isinstance(value, _ScriptObject) and value.qualified_name in classes:
            module.add_module(key, _scripted_module(value, classes))
        elif builtins.isinstance(value, _ScriptObject):
            raise RuntimeError(
                f"ember.jit.load: the module's attribute {key!r} is an object of the TorchScript class "
                f"{value.qualified_name}, which ember cannot rebuild"
            )
        else:
            setattr(module, key, value)
    return module


@functools.cache
def _loaded_script_module_class() -> type:
    from ember import nn

    class RecursiveScriptModule(nn.Module):
        """The weights of one scripted module that :func:`load` read; its code does not run in ember."""

        def __init__(self, original_name: str) -> None:
            super().__init__()
            self.original_name = original_name

        def extra_repr(self) -> str:
            return f"original_name={self.original_name}"

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError(
                f"ember.jit.load: the TorchScript code of {self.original_name} does not run in ember (ember has no "
                "TorchScript); load this module's state_dict() into the ember model of the same architecture, "
                "or run the archive with torch.jit.load"
            )

    RecursiveScriptModule.__module__ = __name__
    return RecursiveScriptModule
