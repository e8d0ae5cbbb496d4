"""``ember.library``: user-defined operators, PyTorch's ``torch.library``.

An operator has a name ``namespace::name``, a schema (its typed arguments and results) and kernels
chosen when it is called:

- :func:`custom_op` makes one from a Python function whose type hints give the schema; the
  function is its kernel for every device (or the ``device_types`` named).
- :func:`register_kernel` gives a device type its own kernel; :func:`register_fake` the kernel for
  meta tensors, which computes only the shapes and dtypes of the results (without it the operator
  refuses meta tensors).
- :func:`register_autograd` gives its gradient: ``setup_context(ctx, inputs, output)`` saves what
  ``backward(ctx, *grads)`` needs. An operator without one records a node whose backward raises,
  as PyTorch's does (the kernel is opaque to autograd).
- :class:`Library`, :func:`define` and :func:`impl` are the older interface: a schema string and
  kernels per dispatch key (``"CPU"``, ``"CUDA"``, ``"Meta"``, ``"Autograd"``,
  ``"CompositeImplicitAutograd"``, whose kernel is differentiated through, and
  ``"CompositeExplicitAutograd"``).

Every operator is also reachable as ``ember.ops.<namespace>.<name>``, as ``torch.ops``;
:func:`opcheck` tests a registration as PyTorch's does.

Example::

    >>> @ember.library.custom_op("demo::scaled_sin", mutates_args=())
    ... def scaled_sin(x: ember.Tensor, scale: float = 2.0) -> ember.Tensor:
    ...     return x.sin() * scale
    >>> @scaled_sin.register_fake
    ... def _(x, scale=2.0):
    ...     return ember.empty_like(x)
    >>> def setup_context(ctx, inputs, output):
    ...     ctx.save_for_backward(inputs[0])
    ...     ctx.scale = inputs[1]
    >>> def backward(ctx, grad):
    ...     (x,) = ctx.saved_tensors
    ...     return grad * x.cos() * ctx.scale, None
    >>> scaled_sin.register_autograd(backward, setup_context=setup_context)
    >>> x = ember.tensor([0.0, 1.0], requires_grad=True)
    >>> ember.ops.demo.scaled_sin(x).sum().backward()
    >>> x.grad
    tensor([2.0000, 1.0806])
    >>> scaled_sin(ember.empty(4, device="meta")).shape
    ember.Size([4])
"""

from __future__ import annotations

import ast
import collections.abc
import contextlib
import inspect
import types
import typing
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from . import dtypes
from .amp.autocast_mode import autocast, is_autocast_available, is_autocast_enabled
from .autograd import function as autograd_function
from .autograd.engine import grad
from .autograd.function import RUN_FORWARD, Function
from .autograd.grad_mode import is_grad_enabled, no_grad
from .device import device as _device
from .ops.creation import ones_like
from .tensor import Tensor
from .type_names import type_name

__all__ = [
    "CustomOpDef",
    "FakeImplCtx",
    "Library",
    "OpCheckError",
    "custom_op",
    "define",
    "get_ctx",
    "impl",
    "impl_abstract",
    "infer_schema",
    "opcheck",
    "register_autocast",
    "register_autograd",
    "register_fake",
    "register_kernel",
    "register_vmap",
]

_Kernel = Callable[..., Any]
_namespaces: dict[str, dict[str, CustomOpDef]] = {}  # every operator, by namespace and name

# -- schemas --------------------------------------------------------------------------------------
_BASE_TYPES: dict[Any, str] = {
    Tensor: "Tensor",
    int: "SymInt",
    float: "float",
    bool: "bool",
    str: "str",
    dtypes.dtype: "ScalarType",
    _device: "Device",
}
_OPTIONAL_OK = {
    "Tensor",
    "SymInt",
    "float",
    "bool",
    "str",
    "ScalarType",
    "Device",
    "Scalar",
    "SymInt[]",
    "float[]",
    "bool[]",
}
_LIST_OK = {"Tensor", "Tensor?", "SymInt", "float", "bool", "Scalar"}
_RETURN_OK = {"Tensor", "Tensor[]", "SymInt", "float", "bool", "Scalar"}


def _type_name(annotation: Any) -> str | None:
    """The schema type of a parameter's annotation (``Optional[Tensor]`` -> ``"Tensor?"``), or None."""
    if annotation in _BASE_TYPES:
        return _BASE_TYPES[annotation]
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in arguments if a is not type(None)]
        if set(present) == {int, float, bool}:
            return "Scalar" if len(present) == len(arguments) else "Scalar?"
        inner = _type_name(present[0]) if len(present) == 1 < len(arguments) else None
        return inner + "?" if inner in _OPTIONAL_OK else None
    if origin in (list, collections.abc.Sequence) and len(arguments) == 1:
        inner = _type_name(arguments[0])
        return inner + "[]" if inner in _LIST_OK else None
    return None


def _return_name(annotation: Any) -> str | None:
    if annotation is None or annotation is type(None):
        return "()"
    if typing.get_origin(annotation) is tuple:
        names = [_type_name(a) for a in typing.get_args(annotation)]
        return None if any(n not in _RETURN_OK for n in names) else "(" + ", ".join(names) + ")"  # type: ignore[arg-type]
    name = _type_name(annotation)
    return name if name in _RETURN_OK else None


def _default_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dtypes.dtype):
        return value.name
    return None


def infer_schema(
    prototype_function: Callable[..., Any],
    /,
    *,
    mutates_args: str | Iterable[str],
    op_name: str | None = None,
) -> str:
    r"""The schema of an operator whose kernel is ``prototype_function``, from its type hints.

    Parameters annotated ``Tensor``, ``int``, ``float``, ``bool``, ``str``, ``ember.dtype``,
    ``ember.device``, ``Optional`` and ``Sequence`` of these map to PyTorch's schema types;
    the arguments named in ``mutates_args`` (or every tensor, for ``"unknown"``) are marked
    as written (``Tensor(a0!)``).

    Args:
        prototype_function (Callable): the annotated function.
        mutates_args (str or Iterable[str]): the names of the arguments it writes to, or
            ``"unknown"``.
        op_name (str, optional): a name to put before the arguments. Default: ``None``.

    Example::

        >>> def f(x: ember.Tensor, n: int, *, alpha: float = 1.0) -> ember.Tensor: ...
        >>> ember.library.infer_schema(f, mutates_args=())
        '(Tensor x, SymInt n, *, float alpha=1.0) -> Tensor'
    """
    signature = inspect.signature(prototype_function)

    def error(what: str) -> typing.NoReturn:
        raise ValueError(f"infer_schema(func): {what} Got func with signature {signature})")

    try:
        hints = typing.get_type_hints(prototype_function)
    except NameError as exc:
        error(f"Could not resolve the type hints ({exc}).")
    mutated = set(mutates_args) if not isinstance(mutates_args, str) else set()
    arguments, keyword_only, alias = [], False, 0
    for name, parameter in signature.parameters.items():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            error("We do not support positional-only args, varargs, or varkwargs.")
        if parameter.annotation is parameter.empty:
            error(f"Parameter {name} must have a type annotation.")
        kind = _type_name(hints[name])
        if kind is None:
            error(
                f"Parameter {name} has unsupported type {hints[name]}. The valid types are Tensor, int, float, "
                "bool, str, ember.dtype, ember.device, and Optional and Sequence of these."
            )
        if name in mutated or (mutates_args == "unknown" and kind.startswith("Tensor")):
            kind = kind.replace("Tensor", f"Tensor(a{alias}!)", 1)
            alias += 1
        if parameter.kind == parameter.KEYWORD_ONLY and not keyword_only:
            arguments.append("*")
            keyword_only = True
        text = f"{kind} {name}"
        if parameter.default is not parameter.empty:
            default = _default_text(parameter.default)
            if default is None:
                error(f"Parameter {name} has an unsupported default value type {type(parameter.default)}.")
            text += f"={default}"
        arguments.append(text)
    unknown = mutated - set(signature.parameters)
    if unknown:
        error(
            f"{unknown} in mutates_args were not found in the custom op's signature. mutates_args should contain the "
            "names of all args that the custom op mutates, or just the string 'unknown' if you don't know."
        )
    if signature.return_annotation is signature.empty:
        error("No return type annotation was provided. Please add one.")
    returns = _return_name(hints.get("return"))
    if returns is None:
        error(f"Return has unsupported type {hints.get('return')}.")
    return f"{op_name or ''}({', '.join(arguments)}) -> {returns}"


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([" and 1 or (-1 if char in ")]" else 0)
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _has_keyword_only_tensors(schema: str) -> bool:
    """Whether ``schema`` (``"name(args) -> returns"`` or ``"(args) -> returns"``) has a tensor after ``*``."""
    arguments = schema[schema.index("(") + 1 : schema.rindex(") ->")]
    return any(p.startswith("Tensor") for p in _split_top_level(arguments.partition("*")[2]))


def _parse_default(text: str) -> Any:
    if hasattr(dtypes, text) and isinstance(getattr(dtypes, text), dtypes.dtype):
        return getattr(dtypes, text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _schema_signature(schema: str) -> tuple[inspect.Signature, set[str]]:
    """The Python signature of a schema's arguments, and the names of those it marks as written."""
    head, _, _ = schema.partition("->")
    inner = head[head.index("(") + 1 : head.rindex(")")]
    parameters: list[inspect.Parameter] = []
    mutated: set[str] = set()
    kind: inspect._ParameterKind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for argument in _split_top_level(inner):
        if argument == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        declaration, _, default = argument.partition("=")
        type_text, _, name = declaration.strip().rpartition(" ")
        if "!" in type_text:
            mutated.add(name)
        value = _parse_default(default.strip()) if default else inspect.Parameter.empty
        parameters.append(inspect.Parameter(name, kind, default=value))
    return inspect.Signature(parameters), mutated


# -- operators ------------------------------------------------------------------------------------
def _tensors_in(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, Tensor)]
    return []


def _flatten(values: tuple[Any, ...]) -> tuple[list[Any], tuple[int | None, ...]]:
    """``values`` with their lists of tensors spread out (so that autograd sees each tensor), and
    each value's list length (None for a value that is no list of tensors)."""
    flat: list[Any] = []
    lengths: list[int | None] = []
    for value in values:
        if isinstance(value, list | tuple) and any(isinstance(v, Tensor) for v in value):
            flat.extend(value)
            lengths.append(len(value))
        else:
            flat.append(value)
            lengths.append(None)
    return flat, tuple(lengths)


def _unflatten(flat: tuple[Any, ...], lengths: tuple[int | None, ...]) -> tuple[Any, ...]:
    values, start = [], 0
    for length in lengths:
        values.append(flat[start] if length is None else list(flat[start : start + length]))
        start += 1 if length is None else length
    return tuple(values)


def _same_storage(a: Tensor, b: Tensor) -> bool:
    return a is b or (a._base if a._base is not None else a) is (b._base if b._base is not None else b)


class CustomOpDef:
    """An operator: its schema and the kernels that compute it (made by :func:`custom_op` or
    :meth:`Library.define`). Calling it dispatches on its inputs' device and autograd state."""

    def __init__(self, namespace: str, name: str, schema: str, signature: inspect.Signature, mutated: set[str]) -> None:
        self._namespace, self._name = namespace, name
        self._schema = f"{namespace}::{name}{schema[schema.index('(') :]}"
        self._signature, self._mutated = signature, mutated
        # the keyword-only arguments: setup_context gets them apart, as keyword_only_inputs, and
        # backward returns no gradient for them
        self._keyword_only = [p.name for p in signature.parameters.values() if p.kind == p.KEYWORD_ONLY]
        self._kernels: dict[str, _Kernel] = {}  # device type -> kernel
        self._default: _Kernel | None = None  # every device type's kernel (CompositeExplicitAutograd)
        self._default_devices: frozenset[str] | None = None  # the device types the default serves (None: all)
        self._composite: _Kernel | None = None  # CompositeImplicitAutograd: differentiated through
        self._autograd_kernel: _Kernel | None = None  # the Autograd key's kernel: handles autograd itself
        self._fake: _Kernel | None = None
        self._backward: _Kernel | None = None
        self._setup_context: _Kernel | None = None
        self._vmap: _Kernel | None = None  # the batching rule of register_vmap
        self._autocast: dict[str, dtypes.dtype] = {}  # device type -> the dtype register_autocast casts to
        self._from_custom_op = False  # made by custom_op: its autograd is registered (a raising backward)
        self._function = _gradient_function(self)

    @property
    def default(self) -> CustomOpDef:
        """The operator itself (PyTorch's ``torch.ops.ns.name.default`` overload)."""
        return self

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._namespace}::{self._name})>"

    # -- registration ---------------------------------------------------------------------------
    def register_fake(self, fn: _Kernel, /) -> _Kernel:
        """Registers ``fn`` as the kernel for meta tensors: it returns results of the right shapes
        and dtypes (``ember.empty_like``, ``input.new_empty``) without computing them."""
        self._fake = fn
        return fn

    def register_kernel(self, device_types: str | Sequence[str] | None, fn: _Kernel | None = None, /) -> Any:
        """Registers ``fn`` as the kernel for ``device_types`` (``"cpu"``, ``"cuda"``, ...; ``None``: all)."""

        def register(kernel: _Kernel) -> _Kernel:
            if device_types is None:
                self._default, self._default_devices = kernel, None
            else:
                for device_type in [device_types] if isinstance(device_types, str) else device_types:
                    self._kernels[_device(device_type).type] = kernel
            return kernel

        return register if fn is None else register(fn)

    def register_autograd(self, backward: _Kernel, /, *, setup_context: _Kernel | None = None) -> None:
        """Registers the gradient: ``setup_context(ctx=, inputs=, output=)`` after the kernel (with
        ``keyword_only_inputs=``, a dict, where the operator has keyword-only arguments), then
        ``backward(ctx, *grads)`` returning one gradient (or None) per positional input."""
        if self._mutated:
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with schema {self._schema}. "
                "Please create a functional operator and register an autograd formula for that."
            )
        self._backward, self._setup_context = backward, setup_context

    def register_vmap(self, func: _Kernel | None = None, /) -> Any:
        """Registers ``func(info, in_dims, *args, **kwargs) -> (output, out_dims)`` as the batching
        rule that :func:`ember.vmap` calls on the batched arguments (``in_dims``: one int or None per
        positional argument; ``info.batch_size``, ``info.randomness``); a decorator without ``func``."""
        if _has_keyword_only_tensors(self._schema):
            raise NotImplementedError(
                "register_vmap with kwarg-only Tensor args. In the original definition of the op, please make "
                f"your tensors not kwarg-only. Got: {self._schema}"
            )

        def register(rule: _Kernel) -> _Kernel:
            self._vmap = rule
            return rule

        return register if func is None else register(func)

    def register_autocast(self, device_type: str, cast_inputs: dtypes.dtype) -> None:
        """Registers the operator's autocast rule for ``device_type``: in a region where autocast is on
        for that device type, its floating-point tensor inputs there (but float64 ones) are cast to
        ``cast_inputs`` and it runs with autocast off. The first registration for a device type stands."""
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise ValueError(f"Device type '{device_type}' does not support autocast.")
        self._autocast.setdefault(device_type, cast_inputs)

    def _autocast_call(self, device_type: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call under autocast: the inputs cast as :meth:`register_autocast` says, autocast off."""
        dtype = self._autocast[device_type]
        with autocast(device_type, enabled=False):
            return self(*_autocast_cast(args, device_type, dtype), **kwargs)

    # -- calls ----------------------------------------------------------------------------------
    def _kernel_for(self, device_type: str) -> _Kernel:
        if device_type == "meta" and (self._fake is not None or self._from_custom_op):
            return self._run_fake if self._fake is not None else self._no_fake
        kernel = self._kernels.get(device_type)
        if kernel is not None:
            return kernel
        if self._default is not None and (self._default_devices is None or device_type in self._default_devices):
            return self._default
        if self._composite is not None:
            return self._composite
        if device_type == "meta":
            self._no_fake()
        served = sorted({*self._kernels, *(self._default_devices or ()), *(["meta"] if self._fake else [])})
        raise NotImplementedError(
            f"Could not run '{self._namespace}::{self._name}' with arguments from the '{device_type.upper()}' "
            f"backend. '{self._namespace}::{self._name}' is only available for these backends: "
            f"[{', '.join(d.upper() for d in served)}]."
        )

    def _run_fake(self, *args: Any, **kwargs: Any) -> Any:
        """The fake kernel, with what :func:`get_ctx` gives it: :func:`opcheck`'s context, or an error
        (meta tensors have no data-dependent sizes, as PyTorch's meta tensors have none)."""
        global _ctx_getter
        ctx = _opcheck_ctx
        outer = _ctx_getter
        _ctx_getter = (lambda: ctx) if ctx is not None else self._meta_ctx_error
        try:
            return typing.cast(_Kernel, self._fake)(*args, **kwargs)
        finally:
            _ctx_getter = outer

    def _meta_ctx_error(self) -> typing.NoReturn:
        raise RuntimeError(
            f"{self._namespace}::{self._name}: You're trying to run this operator with meta Tensors (as opposed to "
            "FakeTensors), but this operator may return an output Tensor with data-dependent shape. Meta Tensors "
            "don't support operators with outputs that have data-dependent shapes but FakeTensors do. If your "
            "operator does not return an output with data-dependent shape, make sure the FakeTensor and/or meta "
            "kernel does not call ember.library.get_ctx(). Otherwise, please use FakeTensors."
        )

    def _no_fake(self, *args: Any, **kwargs: Any) -> typing.NoReturn:
        raise RuntimeError(
            f"There was no fake impl registered for {self}. This is necessary for ember's meta device to work. "
            f"Please use `{self._name}.register_fake` to add an fake impl."
        )

    def _invoke(self, kernel: _Kernel, values: tuple[Any, ...]) -> Any:
        arguments = inspect.BoundArguments(self._signature, dict(zip(self._signature.parameters, values)))
        output = kernel(*arguments.args, **arguments.kwargs)
        inputs = [t for value in values for t in _tensors_in(value)]
        if any(_same_storage(o, i) for o in _tensors_in(output) for i in inputs):
            raise RuntimeError(
                f"{self._namespace}::{self._name}: The output of this custom operator (1) must not also be an input "
                "to this custom operator and (2) may not alias any inputs to this custom operator or other returns. "
                "The most common way to trigger this error is if we have y = custom_op(x) and y and x are the same "
                "Tensor. Please instead return a clone of the offending output tensor(s) (e.g. return x.clone()) or "
                "refactor the custom operator to not return y."
            )
        return output

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        level = autograd_function.vmap_level
        if level is not None and self._vmap is not None:  # under ember.vmap: the registered batching rule
            output = level.apply_rule(self._vmap, bound.args, bound.kwargs)
            if output is not RUN_FORWARD:
                return output
        elif level is not None and self._mutated and level.maps_any(bound.arguments.values()):
            raise RuntimeError(
                f"Batching rule not implemented for {self._namespace}::{self._name}; the fallback path doesn't work "
                "on out= or view ops."
            )
        values = tuple(bound.arguments.values())
        tensors = [t for value in values for t in _tensors_in(value)]
        if self._autocast:  # register_autocast's rule, where autocast is on for the inputs' device type
            device_type = tensors[0].device.type if tensors else "cpu"
            if device_type in self._autocast and is_autocast_enabled(device_type):
                return self._autocast_call(device_type, bound.args, bound.kwargs)
        needs_grad = is_grad_enabled() and any(t.requires_grad for t in tensors)
        if needs_grad and self._autograd_kernel is not None:
            return self._autograd_kernel(*args, **kwargs)
        kernel = self._kernel_for(tensors[0].device.type if tensors else "cpu")
        if kernel is self._composite or not needs_grad or self._schema.endswith("-> ()"):
            return self._invoke(kernel, values)
        if self._backward is None and not self._from_custom_op:
            return self._differentiated_through(kernel, values)
        flat, lengths = _flatten(values)
        output = self._function.apply(kernel, lengths, *flat)
        return list(output) if isinstance(output, tuple) and self._schema.endswith("[]") else output

    def _differentiated_through(self, kernel: _Kernel, values: tuple[Any, ...]) -> Any:
        """A kernel of :meth:`Library.impl` for a device, without a gradient formula: autograd records
        its ops, and its backward warns (PyTorch's deprecated fallback)."""
        output = self._invoke(kernel, values)

        def warn(grad: Tensor) -> None:
            warnings.warn(
                f"{self._namespace}::{self._name}: an autograd kernel was not registered to the Autograd key(s) but "
                "we are trying to backprop through it. This may lead to silently incorrect behavior. This behavior "
                "is deprecated and will be removed in a future version of PyTorch. If your operator is "
                "differentiable, please ensure you have registered an autograd kernel to the correct Autograd key "
                "(e.g. DispatchKey::Autograd, DispatchKey::CompositeImplicitAutograd).",
                UserWarning,
                stacklevel=2,
            )

        for tensor in _tensors_in(output):
            if tensor.requires_grad:
                tensor.register_hook(warn)
        return output


def _autocast_cast(value: Any, device_type: str, dtype: dtypes.dtype) -> Any:
    """``value`` with its floating-point tensors on ``device_type`` (but float64 ones) cast to ``dtype``,
    also inside lists and tuples (PyTorch's rule for a custom operator's autocast)."""
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type and value.dtype is not dtypes.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (list, tuple)):
        return type(value)(_autocast_cast(v, device_type, dtype) for v in value)
    return value


class FakeImplCtx:
    """What :func:`get_ctx` gives a fake kernel while :func:`opcheck` runs it (PyTorch's FakeTensors;
    ember's meta tensors have fixed sizes)."""

    def __init__(self) -> None:
        self.dynamic_sizes = 0  # how many new_dynamic_size made: the fake results' sizes are not compared

    def new_dynamic_size(self, *, min: int = 0, max: int | None = None) -> int:
        """A size that depends on the data of the inputs (``x.nonzero()``'s row count), at least ``min``.

        Example::

            >>> @ember.library.custom_op("demo::positive", mutates_args=())
            ... def positive(x: ember.Tensor) -> ember.Tensor:
            ...     return x[x > 0]
            >>> @positive.register_fake
            ... def _(x):
            ...     return x.new_empty(ember.library.get_ctx().new_dynamic_size())
            >>> ember.library.opcheck(positive, (ember.randn(4),))["test_faketensor"]
            'SUCCESS'
        """
        if min < 0:
            raise ValueError(
                f"ctx.new_dynamic_size(min={min}, ...): expected min to be greater than or equal to 0: this API can "
                "only create non-negative sizes."
            )
        self.dynamic_sizes += 1
        return min


def _outside_fake_kernels() -> None:
    return None


_ctx_getter: Callable[[], FakeImplCtx | None] = _outside_fake_kernels
_opcheck_ctx: FakeImplCtx | None = None  # set while opcheck runs a fake kernel


def get_ctx() -> FakeImplCtx | None:
    """The context of the fake kernel that is running (see :meth:`FakeImplCtx.new_dynamic_size`):
    only :func:`opcheck` gives one; on meta tensors it raises a ``RuntimeError`` (no sizes depend on
    data there); None outside a fake kernel."""
    return _ctx_getter()


@contextlib.contextmanager
def _needs_input_grad_as(ctx: Any, flags: tuple[Any, ...]) -> Iterator[None]:
    """``ctx.needs_input_grad`` is ``flags`` inside (what the user's setup_context or backward sees)."""
    full = ctx.needs_input_grad
    ctx.needs_input_grad = flags
    try:
        yield
    finally:
        ctx.needs_input_grad = full


def _gradient_function(op: CustomOpDef) -> type[Function]:
    """The autograd Function of ``op``: the kernel forward, the registered backward (or an error)."""

    def forward(ctx: Any, kernel: _Kernel, lengths: tuple[int | None, ...], *flat: Any) -> Any:
        values = _unflatten(flat, lengths)
        output = op._invoke(kernel, values)
        positional = len(values) - len(op._keyword_only)
        ctx._custom_op_tensor_inputs = [bool(_tensors_in(v)) for v in values[:positional]]
        ctx._custom_op_lengths = lengths
        # PyTorch's setup_context sees one flag per positional tensor (a list's one each), then its
        # metadata arguments' (False; a second one where a list of tensors is); the kernel and lengths
        # are not the user's
        flat_count = sum(1 if length is None else length for length in lengths[:positional])
        metadata = (False, False) if any(length is not None for length in lengths[:positional]) else (False,)
        with _needs_input_grad_as(ctx, (*ctx.needs_input_grad[2 : 2 + flat_count], *metadata)):
            if op._setup_context is not None and op._keyword_only:
                keyword_only = dict(zip(op._keyword_only, values[positional:]))
                op._setup_context(ctx=ctx, inputs=values[:positional], keyword_only_inputs=keyword_only, output=output)
            elif op._setup_context is not None:
                op._setup_context(ctx=ctx, inputs=values, output=output)
        return tuple(output) if isinstance(output, list) else output

    def backward(ctx: Any, *grads: Any) -> Any:
        if op._backward is None:
            raise RuntimeError(
                f"Trying to backward through {op._namespace}.{op._name}.default but no autograd formula was "
                "registered. Please use register_autograd to add one."
            )
        flags, structured = iter(ctx.needs_input_grad[2:]), []  # backward's: one per input (a list for a list)
        for length, _ in zip(ctx._custom_op_lengths, ctx._custom_op_tensor_inputs):
            structured.append(next(flags) if length is None else [next(flags) for _ in range(length)])
        with _needs_input_grad_as(ctx, tuple(structured)):
            result = op._backward(ctx, *grads)
        result = result if isinstance(result, tuple | list) else (result,)
        function = f"GeneratedBackwardFor_{op._namespace}_{op._name}_defaultBackward"
        tensor_inputs = ctx._custom_op_tensor_inputs
        # PyTorch lets the gradients of trailing non-tensor inputs be left out (where their values are
        # the defaults; ember wherever): they are None
        if len(result) < len(tensor_inputs) and not any(tensor_inputs[len(result) :]):
            result = (*result, *[None] * (len(tensor_inputs) - len(result)))
        if len(result) > len(tensor_inputs) and all(g is None for g in result[len(tensor_inputs) :]):
            result = result[: len(tensor_inputs)]  # surplus Nones, as PyTorch accepts them
        if len(result) != len(tensor_inputs):  # counted as PyTorch does, with the kernel's slot
            raise RuntimeError(
                f"function {function} returned an incorrect number of gradients "
                f"(expected {len(tensor_inputs) + 1}, got {len(result) + 1})"
            )
        for position, (gradient, is_tensor) in enumerate(zip(result, tensor_inputs), 1):
            if gradient is not None and not is_tensor:
                raise RuntimeError(
                    f"function {function} returned a gradient different than None at position {position}, but the "
                    "corresponding forward input was not a Variable"
                )
        flat_grads = []
        for gradient, length in zip(result, ctx._custom_op_lengths):
            if length is None:
                flat_grads.append(gradient)
            else:  # a list of tensors: a list of gradients (or None for all)
                flat_grads.extend([None] * length if gradient is None else gradient)
        for length in ctx._custom_op_lengths[len(result) :]:  # the keyword-only inputs
            flat_grads.extend([None] * (1 if length is None else length))
        return (None, None, *flat_grads)

    name = f"GeneratedBackwardFor_{op._namespace}_{op._name}_default"
    # a module outside ember's: the engine checks the user's gradients as it does a user's Function's
    attributes = {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__module__": "ember_custom_ops",
        "_vmap_runs_forward": True,  # under ember.vmap, once per entry (or by the op's own rule, before)
    }
    return typing.cast(type[Function], type(name, (Function,), attributes))


def _register(qualname: str, schema: str, signature: inspect.Signature, mutated: set[str]) -> CustomOpDef:
    namespace, separator, name = qualname.partition("::")
    if not separator or not namespace or not name:
        raise ValueError(
            f"Expected there to be a namespace in {qualname}, i.e. The operator name should look something like ns::foo"
        )
    ops = _namespaces.setdefault(namespace, {})
    if name in ops:
        raise RuntimeError(
            f"Tried to register an operator ({qualname}) with the same name and overload name multiple times."
        )
    op = ops[name] = CustomOpDef(namespace, name, schema, signature, mutated)
    return op


def _lookup(op: str | CustomOpDef) -> CustomOpDef:
    if isinstance(op, CustomOpDef):
        return op
    namespace, _, name = op.partition("::")
    found = _namespaces.get(namespace, {}).get(name)
    if found is None:
        raise ValueError(
            f"Could not find the operator {op}. Please make sure you have already registered the operator."
        )
    return found


def custom_op(
    name: str,
    fn: Callable[..., Any] | None = None,
    /,
    *,
    mutates_args: str | Iterable[str],
    device_types: str | Sequence[str] | None = None,
    schema: str | None = None,
) -> Any:
    r"""Makes the Python function ``fn`` an operator ``name`` (``"namespace::name"``), opaque to
    autograd and to the meta device until :meth:`CustomOpDef.register_autograd` and
    :meth:`CustomOpDef.register_fake` describe it.

    Args:
        name (str): ``"namespace::name"``; the operator is also ``ember.ops.namespace.name``.
        fn (Callable, optional): the kernel, with type hints on every parameter and the result
            (see :func:`infer_schema`). Without it, ``custom_op`` is a decorator.
        mutates_args (str or Iterable[str]): the names of the arguments that ``fn`` writes to,
            ``()`` for none, or ``"unknown"``. Required.
        device_types (str or Sequence[str], optional): the device types ``fn`` serves.
            Default: ``None`` (all).
        schema (str, optional): the schema, instead of the one inferred from the type hints.

    Example::

        >>> @ember.library.custom_op("demo::add_one", mutates_args=())
        ... def add_one(x: ember.Tensor) -> ember.Tensor:
        ...     return x + 1
        >>> add_one(ember.tensor([1.0, 2.0]))
        tensor([2., 3.])
    """

    def make(kernel: Callable[..., Any]) -> CustomOpDef:
        text = schema if schema is not None else infer_schema(kernel, mutates_args=mutates_args)
        if _has_keyword_only_tensors(text):
            raise NotImplementedError(
                "custom_op with kwarg-only Tensor args. Please make your tensors not kwarg-only. Got: "
                f"{name.partition('::')[2]}{text}"
            )
        _, mutated = _schema_signature(text)
        op = _register(name, text, inspect.signature(kernel), mutated)
        op._default, op._from_custom_op = kernel, True
        if device_types is not None:
            chosen = [device_types] if isinstance(device_types, str) else device_types
            op._default_devices = frozenset(_device(d).type for d in chosen)
        return op

    return make if fn is None else make(fn)


def register_fake(op: str | CustomOpDef, func: _Kernel | None = None, /, *, lib: Library | None = None) -> Any:
    r"""Registers ``func`` as the meta-device kernel of ``op`` (see :meth:`CustomOpDef.register_fake`);
    a decorator without ``func``.

    Example::

        >>> ember.library.define("demo::double", "(Tensor x) -> Tensor")
        >>> @ember.library.register_fake("demo::double")
        ... def _(x):
        ...     return ember.empty_like(x)
        >>> ember.ops.demo.double(ember.empty(3, device="meta")).is_meta
        True
    """
    target = _lookup(op)
    return target.register_fake if func is None else target.register_fake(func)


def impl_abstract(op: str | CustomOpDef, func: _Kernel | None = None, /, *, lib: Library | None = None) -> Any:
    r"""The former name of :func:`register_fake` (deprecated, as in PyTorch).

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.library.define("demo::legacy", "(Tensor x) -> Tensor")
        ...     fake = ember.library.impl_abstract("demo::legacy", lambda x: ember.empty_like(x))
    """
    warnings.warn(
        "ember.library.impl_abstract was renamed to ember.library.register_fake. Please use that instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return register_fake(op, func, lib=lib)


def register_autograd(
    op: str | CustomOpDef, backward: _Kernel, /, *, setup_context: _Kernel | None = None, lib: Library | None = None
) -> None:
    r"""Registers the gradient of ``op`` (see :meth:`CustomOpDef.register_autograd`).

    Example::

        >>> ember.library.define("demo::square", "(Tensor x) -> Tensor")
        >>> ember.library.impl("demo::square", "cpu", lambda x: x * x)
        >>> def setup_context(ctx, inputs, output):
        ...     ctx.save_for_backward(inputs[0])
        >>> ember.library.register_autograd(
        ...     "demo::square", lambda ctx, g: 2 * ctx.saved_tensors[0] * g, setup_context=setup_context
        ... )
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> ember.ops.demo.square(x).backward()
        >>> x.grad
        tensor([6.])
    """
    _lookup(op).register_autograd(backward, setup_context=setup_context)


def register_vmap(op: str | CustomOpDef, func: _Kernel | None = None, /, *, lib: Library | None = None) -> Any:
    r"""Registers ``func`` as the batching rule of ``op`` for :func:`ember.vmap` (see
    :meth:`CustomOpDef.register_vmap`); a decorator without ``func``. An operator without one is
    mapped over the batch entries, one call each.

    Example::

        >>> @ember.library.custom_op("demo::scale", mutates_args=())
        ... def scale(x: ember.Tensor, k: float) -> ember.Tensor:
        ...     return x * k
        >>> @ember.library.register_vmap("demo::scale")
        ... def _(info, in_dims, x, k):
        ...     return x * k, in_dims[0]
        >>> ember.vmap(scale, in_dims=(1, None))(ember.tensor([[1.0, 2.0]]), 3.0)
        tensor([[3.],
                [6.]])
    """
    return _lookup(op).register_vmap(func)


def register_kernel(
    op: str | CustomOpDef,
    device_types: str | Sequence[str] | None,
    func: _Kernel | None = None,
    /,
    *,
    lib: Library | None = None,
) -> Any:
    r"""Registers ``func`` as the kernel of ``op`` for ``device_types`` (see
    :meth:`CustomOpDef.register_kernel`); a decorator without ``func``.

    Example::

        >>> @ember.library.custom_op("demo::plus_two", mutates_args=())
        ... def plus_two(x: ember.Tensor) -> ember.Tensor:
        ...     return x + 2
        >>> _ = ember.library.register_kernel("demo::plus_two", "cpu", lambda x: x + 2.5)
        >>> plus_two(ember.zeros(1))
        tensor([2.5000])
    """
    return _lookup(op).register_kernel(device_types, func)


def register_autocast(
    op: str | CustomOpDef, device_type: str, cast_inputs: dtypes.dtype, /, *, lib: Library | None = None
) -> None:
    r"""Registers ``op``'s autocast rule (see :meth:`CustomOpDef.register_autocast`): inside an autocast
    region for ``device_type``, its floating-point tensor inputs are cast to ``cast_inputs`` and it runs
    with autocast off.

    Args:
        op (str or CustomOpDef): the operator (``"ns::name"``).
        device_type (str): a device type autocast serves (``"cpu"``, ``"cuda"``).
        cast_inputs (ember.dtype): the dtype of its floating-point inputs in an autocast region.
        lib (Library, optional): accepted.

    Example::

        >>> @ember.library.custom_op("demo::my_sin", mutates_args=())
        ... def my_sin(x: ember.Tensor) -> ember.Tensor:
        ...     return ember.sin(x)
        >>> ember.library.register_autocast("demo::my_sin", "cpu", ember.bfloat16)
        >>> with ember.autocast("cpu"):
        ...     print(my_sin(ember.zeros(2)).dtype)
        ember.bfloat16
    """
    if not isinstance(device_type, str):
        raise TypeError(f"register_autocast(): argument 'device_type' must be str, not {type_name(device_type)}")
    _device(device_type)  # an unknown device type is PyTorch's RuntimeError, before any other check
    _lookup(op).register_autocast(device_type, cast_inputs)


# -- the older interface: schema strings and dispatch keys ---------------------------------------
_DEVICE_KEYS = {"CPU": "cpu", "CUDA": "cuda", "Meta": "meta", "XPU": "xpu", "MPS": "mps"}
_AUTOGRAD_KEYS = {"Autograd", "AutogradCPU", "AutogradCUDA"}


def _register_for_key(op: CustomOpDef, fn: _Kernel, key: str) -> Callable[[], None]:
    """Registers ``fn`` as ``op``'s kernel for the dispatch key or device type ``key``; returns
    what undoes it (the previous kernel comes back, as when a PyTorch ``Library`` is destroyed)."""
    if key in _DEVICE_KEYS or key.lower() in ("cpu", "cuda", "meta", "opencl"):
        device_type = _DEVICE_KEYS.get(key, key.lower())
        if device_type != "meta":
            previous = op._kernels.get(device_type)
            op._kernels[device_type] = fn

            def restore_device_kernel() -> None:
                if previous is None:
                    op._kernels.pop(device_type, None)
                else:
                    op._kernels[device_type] = previous

            return restore_device_kernel
        attribute = "_fake"
    elif key in _AUTOGRAD_KEYS:
        attribute = "_autograd_kernel"
    elif key in ("", "CompositeImplicitAutograd"):
        attribute = "_composite"
    elif key == "CompositeExplicitAutograd":
        attribute, op._default_devices = "_default", None
    else:
        raise ValueError(f"ember.library: unsupported dispatch key {key!r}")
    replaced = getattr(op, attribute)
    setattr(op, attribute, fn)
    return lambda: setattr(op, attribute, replaced)


def _undo_all(registrations: list[Callable[[], None]]) -> None:
    for undo in reversed(registrations):
        undo()
    registrations.clear()


_keep_alive: list[Library] = []  # the libraries that define() and impl() make for themselves


class Library:
    r"""A handle to register operators of namespace ``ns`` by schema strings.

    Args:
        ns (str): the namespace.
        kind (str): ``"DEF"`` (defines operators), ``"IMPL"`` (registers kernels only) or
            ``"FRAGMENT"`` (both, for a namespace spread over several libraries).
        dispatch_key (str, optional): the key of this library's kernels when :meth:`impl`
            names none. Default: ``""`` (CompositeImplicitAutograd).

    Example::

        >>> lib = ember.library.Library("demo_lib", "DEF")
        >>> lib.define("triple(Tensor x) -> Tensor")
        'triple'
        >>> lib.impl("triple", lambda x: 3 * x, "CompositeImplicitAutograd")
        >>> ember.ops.demo_lib.triple(ember.tensor([1.0]))
        tensor([3.])
    """

    def __init__(self, ns: str, kind: str, dispatch_key: str = "") -> None:
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError("Unsupported kind: ", kind)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        _namespaces.setdefault(ns, {})
        # what this library registered, undone when it is destroyed (garbage collected, or _destroy())
        self._registrations: list[Callable[[], None]] = []
        self._finalizer = weakref.finalize(self, _undo_all, self._registrations)

    def _destroy(self) -> None:
        """Removes the operators and kernels this library registered (PyTorch does it when the
        library is garbage collected, as ember does)."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags: Any = ()) -> str:
        """Defines the operator ``schema`` names (``"name(Tensor x, int n=2) -> Tensor"``); returns its name."""
        if self.kind == "IMPL":
            raise RuntimeError(f"Library(kind=IMPL, ns={self.ns}) cannot define operators; use DEF or FRAGMENT")
        name = schema[: schema.index("(")].strip()
        signature, mutated = _schema_signature(schema)
        _register(f"{self.ns}::{name}", schema, signature, mutated)
        operators = _namespaces[self.ns]  # not self: an undo that held the library would keep it alive

        def undefine() -> None:
            operators.pop(name, None)

        self._registrations.append(undefine)
        return name

    def impl(
        self, op_name: str | CustomOpDef, fn: _Kernel, dispatch_key: str = "", *, with_keyset: bool = False
    ) -> None:
        """Registers ``fn`` as the kernel of ``op_name`` for ``dispatch_key`` (the library's when empty)."""
        op = (
            op_name
            if isinstance(op_name, CustomOpDef)
            else _lookup(op_name if "::" in op_name else f"{self.ns}::{op_name}")
        )
        self._registrations.append(_register_for_key(op, fn, dispatch_key or self.dispatch_key))


def define(qualname: str, schema: str, *, lib: Library | None = None, tags: Any = ()) -> None:
    r"""Defines the operator ``qualname`` (``"namespace::name"``) with argument schema ``schema``
    (``"(Tensor x, float alpha=1.0) -> Tensor"``); :func:`impl` gives it kernels.

    Example::

        >>> ember.library.define("demo::halve", "(Tensor x) -> Tensor")
        >>> ember.library.impl("demo::halve", "cpu", lambda x: x / 2)
        >>> ember.ops.demo.halve(ember.tensor([3.0]))
        tensor([1.5000])
    """
    namespace, _, name = qualname.partition("::")
    if lib is None:
        lib = Library(namespace, "FRAGMENT")
        _keep_alive.append(lib)
    lib.define(name + schema)


def impl(
    qualname: str | CustomOpDef, types: str | Sequence[str], func: _Kernel | None = None, *, lib: Library | None = None
) -> Any:
    r"""Registers ``func`` as the kernel of ``qualname`` for ``types``: device types (``"cpu"``,
    ``"cuda"``) or dispatch keys (``"CompositeImplicitAutograd"``); a decorator without ``func``.

    Example::

        >>> ember.library.define("demo::negate", "(Tensor x) -> Tensor")
        >>> @ember.library.impl("demo::negate", "cpu")
        ... def _(x):
        ...     return -x
        >>> ember.ops.demo.negate(ember.tensor([1.0]))
        tensor([-1.])
    """

    def register(kernel: _Kernel) -> _Kernel:
        op = _lookup(qualname)
        for key in [types] if isinstance(types, str) else types:
            undo = _register_for_key(op, kernel, key)
            if lib is not None:
                lib._registrations.append(undo)
        return kernel

    if func is None:
        return register
    register(func)
    return None


# -- ember.ops.<namespace>.<name> -----------------------------------------------------------------
class _OpNamespace(types.ModuleType):
    """``ember.ops.<namespace>``: the operators of one namespace as attributes."""

    def __getattr__(self, name: str) -> CustomOpDef:
        op = _namespaces.get(self.__name__.rpartition(".")[2], {}).get(name)
        if op is None:
            raise AttributeError(
                f"'_OpNamespace' '{self.__name__.rpartition('.')[2]}' object has no attribute '{name}'"
            )
        return op


def op_namespace(namespace: str) -> _OpNamespace | None:
    """``ember.ops.<namespace>`` where operators of that namespace were registered, else None."""
    return _OpNamespace(f"ember.ops.{namespace}") if namespace in _namespaces else None


# -- opcheck --------------------------------------------------------------------------------------
class OpCheckError(Exception):
    """A test of :func:`opcheck` failed."""


_DEFAULT_TESTS = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")


def _cloned(values: Any) -> Any:
    if isinstance(values, Tensor):
        return values.detach().clone().requires_grad_(values.requires_grad)
    if isinstance(values, list | tuple):
        return type(values)(_cloned(v) for v in values)
    if isinstance(values, dict):
        return {k: _cloned(v) for k, v in values.items()}
    return values


def _to_meta(values: Any) -> Any:
    if isinstance(values, Tensor):
        return values.detach().to("meta")
    if isinstance(values, list | tuple):
        return type(values)(_to_meta(v) for v in values)
    if isinstance(values, dict):
        return {k: _to_meta(v) for k, v in values.items()}
    return values


def _flat_tensors(value: Any) -> list[Tensor]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat_tensors(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _flat_tensors(v)]
    return [value] if isinstance(value, Tensor) else []


def _test_schema(op: CustomOpDef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The kernel writes only to the arguments its schema marks as written."""
    args, kwargs = _cloned(args), _cloned(kwargs)
    bound = op._signature.bind(*args, **kwargs)
    before = {name: [t.detach().clone() for t in _tensors_in(value)] for name, value in bound.arguments.items()}
    with no_grad():
        op(*args, **kwargs)
    for name, value in bound.arguments.items():
        if name in op._mutated:
            continue
        for old, new in zip(before[name], _tensors_in(value)):
            if not bool((old == new).all()) and not bool((old.isnan() & new.isnan()).all()):
                raise RuntimeError(f"Argument {name} is not defined as mutable but was mutated")


def _test_autograd_registration(op: CustomOpDef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """An operator with device kernels says how autograd treats it: an operator of :func:`custom_op`
    always does (its backward raises until :func:`register_autograd`); one of :meth:`Library.define`
    needs an Autograd kernel or a gradient formula when it has device kernels."""
    tensors = _flat_tensors((args, kwargs))
    if op._from_custom_op or not any(t.requires_grad for t in tensors):
        return
    device_type = tensors[0].device.type
    if op._backward is None and op._autograd_kernel is None and op._kernel_for(device_type) is not op._composite:
        raise AssertionError(
            f"{op._namespace}::{op._name}: has a kernel for {device_type} but no autograd formula, and inputs "
            "require grad. Please use register_autograd to add one."
        )


def _test_faketensor(op: CustomOpDef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The meta kernel gives results of the real kernel's shapes and dtypes."""
    with no_grad():
        real = _flat_tensors(op(*_cloned(args), **_cloned(kwargs)))
        global _opcheck_ctx
        _opcheck_ctx = ctx = FakeImplCtx()
        try:
            fake = _flat_tensors(op(*_to_meta(args), **_to_meta(kwargs)))
        finally:
            _opcheck_ctx = None
    if len(real) != len(fake):
        raise AssertionError(
            f"{op._namespace}::{op._name}: the fake impl returned {len(fake)} tensors, the kernel {len(real)}"
        )
    for r, f in zip(real, fake):
        mismatch = (
            f"Shapes {r.shape} and {f.shape} are not equal!"
            if (r.shape != f.shape if not ctx.dynamic_sizes else r.dim() != f.dim())
            else f"Dtypes {r.dtype} and {f.dtype} are not equal!"
            if r.dtype != f.dtype
            else None
        )
        if mismatch:
            raise AssertionError(
                f"When comparing the output of {op._namespace}.{op._name}.default on FakeTensor and concrete Tensors, "
                f"found mismatched tensor metadata: {mismatch}"
            )


def _test_aot_dispatch_dynamic(op: CustomOpDef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A second call, as a compiled graph would make it, gives the same results, and the
    gradients of inputs that require grad can be computed (ember compiles eagerly, so this checks
    that the kernel is repeatable and its backward runs)."""
    with no_grad():
        first = _flat_tensors(op(*_cloned(args), **_cloned(kwargs)))
    args, kwargs = _cloned(args), _cloned(kwargs)
    second = _flat_tensors(op(*args, **kwargs))
    for a, b in zip(first, second):
        if a.shape != b.shape or not bool(((a == b) | (a.isnan() & b.isnan())).all()):
            raise AssertionError(f"{op._namespace}::{op._name}: two calls on the same inputs gave different results")
    leaves = [t for t in _flat_tensors((args, kwargs)) if t.requires_grad]
    differentiable = [o for o in second if o.requires_grad]
    if leaves and differentiable:
        grad(differentiable, leaves, [ones_like(o) for o in differentiable], allow_unused=True)


_TESTS = {
    "test_schema": _test_schema,
    "test_autograd_registration": _test_autograd_registration,
    "test_faketensor": _test_faketensor,
    "test_aot_dispatch_dynamic": _test_aot_dispatch_dynamic,
}


def opcheck(
    op: str | CustomOpDef,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
    *,
    test_utils: str | Sequence[str] = _DEFAULT_TESTS,
    raise_exception: bool = True,
    atol: float | None = None,
    rtol: float | None = None,
) -> dict[str, str | Exception]:
    r"""Tests that the registration of ``op`` is consistent, on the sample ``args``/``kwargs``.

    ``test_schema``: only the arguments marked as written are written. ``test_autograd_registration``:
    with inputs that require grad, a gradient formula is registered. ``test_faketensor``: the
    meta kernel gives the kernel's result shapes and dtypes. ``test_aot_dispatch_dynamic``: a
    second call gives the same results (ember's ``compile`` runs eagerly).

    Args:
        op (str or CustomOpDef): the operator.
        args (tuple): its positional arguments.
        kwargs (dict, optional): its keyword arguments. Default: ``None``.
        test_utils (str or Sequence[str], optional): the tests to run. Default: all four.
        raise_exception (bool, optional): raise :class:`OpCheckError` at the first failure;
            otherwise report it in the result. Default: ``True``.

    Returns:
        ``{test name: "SUCCESS" or the exception}``.

    Example::

        >>> @ember.library.custom_op("demo::cube", mutates_args=())
        ... def cube(x: ember.Tensor) -> ember.Tensor:
        ...     return x**3
        >>> _ = cube.register_fake(lambda x: ember.empty_like(x))
        >>> ember.library.opcheck(cube, (ember.randn(3),))["test_faketensor"]
        'SUCCESS'
    """
    target = _lookup(op)
    kwargs = kwargs or {}
    results: dict[str, str | Exception] = {}
    for name in [test_utils] if isinstance(test_utils, str) else test_utils:
        try:
            _TESTS[name](target, args, kwargs)
            results[name] = "SUCCESS"
        except Exception as exc:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {exc}") from exc
            results[name] = exc
    return results
