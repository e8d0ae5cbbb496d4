"""Recording a forward pass: the catalogue's modules and the tensor operations, while the model runs.

For the duration of an export, ``Module.__call__`` and the tensor operations listed in
:mod:`ember.onnx._ops`, :mod:`ember.onnx._tensor_ops` and :mod:`ember.onnx._nn_ops` are
replaced by wrappers that run the original and, when an argument is a traced value, hand
the call and its result to the matching converter. Calls made inside a recorded call (a
layer's own arithmetic) are not recorded again.

Every other Tensor method, ``ember`` and ``ember.nn.functional`` function, and
``autograd.Function.apply``, is wrapped too: the tensors such a call computes from traced
values that its own recorded operations did not produce are marked, and reading a marked
tensor into the graph is an error naming the operation (never a constant frozen from the
example input).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import types
from typing import Any

import ember
import ember.nn.functional as F

from ..autograd.function import Function
from ..nn.modules.module import Module
from ..tensor import Tensor
from . import _nn_ops, _ops, _tensor_ops
from ._modules import module_converters
from ._ops import PATCHED_PROPERTIES
from .errors import UnsupportedOperatorError

#: every converter of a tensor operation, by name
OP_CONVERTERS = {**_ops.OP_CONVERTERS, **_tensor_ops.CONVERTERS, **_nn_ops.CONVERTERS}
PATCHED_METHODS = list(dict.fromkeys([*_ops.PATCHED_METHODS, *_tensor_ops.METHODS]))
PATCHED_FUNCTIONS = list(dict.fromkeys([*_ops.PATCHED_FUNCTIONS, *_tensor_ops.FUNCTIONS]))
PATCHED_FUNCTIONAL = list(dict.fromkeys([*_ops.PATCHED_FUNCTIONAL, *_nn_ops.FUNCTIONAL]))

__all__ = ["tracing"]

_active: list[Any] = []  # the builder of the export under way (a stack of at most one)


def is_in_onnx_export() -> bool:
    """True while :func:`ember.onnx.export` runs the model's forward pass.

    Example::

        >>> ember.onnx.is_in_onnx_export()
        False
    """
    return bool(_active)


class _Recorder:
    def __init__(self, builder):
        self.builder = builder
        self.depth = 0

    def involves_traced(self, args, kwargs):
        def traced(value):
            if isinstance(value, Tensor):
                return self.builder.is_traced(value) or self.builder.is_tainted(value)
            if isinstance(value, (list, tuple)):
                return any(traced(v) for v in value)
            return False

        return traced(args) or traced(tuple(kwargs.values()))

    def call(self, fn, convert, args, kwargs):
        if self.depth or not self.involves_traced(args, kwargs):
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
            convert(self.builder, args, kwargs, out)  # at depth > 0: the converter's own tensor calls are not traced
        finally:
            self.depth -= 1
        return out

    def call_function(self, fn, op, args, kwargs):
        """Run a custom autograd ``Function`` as one unrecorded operation (its forward runs without
        autograd, so a tensor computed inside it could not be told from a constant)."""
        if self.depth or not self.involves_traced(args, kwargs):
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        self.builder.taint(out, op)
        return out

    def call_unrecorded(self, fn, op, args, kwargs):
        """Run an operation the exporter has no converter for; mark the tensors it computes from traced values.

        The operations it is made of are recorded as usual: a result that they produced is a traced
        value; any other tensor result would be a frozen constant in the graph, so it is marked.
        """
        if self.depth or not self.involves_traced(args, kwargs):
            return fn(*args, **kwargs)
        try:
            out = fn(*args, **kwargs)
        except UnsupportedOperatorError as exc:  # name the operation the forward code called (the outermost)
            base = getattr(exc, "onnx_base_message", str(exc))
            error = UnsupportedOperatorError(f"{base} (in '{op}', called by the model)")
            error.onnx_base_message = base
            raise error from exc
        self.builder.taint(out, op)
        return out


def _wrap_op(recorder, fn, convert):
    @functools.wraps(fn)
    def traced(*args, **kwargs):
        return recorder.call(fn, convert, args, kwargs)

    return traced


def _wrap_unrecorded(recorder, fn, op):
    @functools.wraps(fn)
    def untraced(*args, **kwargs):
        return recorder.call_unrecorded(fn, op, args, kwargs)

    return untraced


def _wrap_function_apply(recorder, apply):
    def traced(cls, *args, **kwargs):
        return recorder.call_function(apply.__get__(None, cls), cls.__name__, args, kwargs)

    return classmethod(traced)


def _wrap_property(recorder, prop, convert):
    return property(lambda self: recorder.call(prop.fget, convert, (self,), {}))


# Tensor methods that never compute a tensor from the traced values (or that the exporter itself needs)
_NOT_OPS = {
    "size", "dim", "ndimension", "numel", "nelement", "item", "tolist", "numpy", "data_ptr", "element_size",
    "stride", "storage_offset", "is_contiguous", "is_floating_point", "is_complex", "is_signed", "get_device",
    "register_hook", "register_post_accumulate_grad_hook", "backward", "retain_grad", "requires_grad_",
    "untyped_storage", "storage", "is_shared", "is_pinned", "is_set_to", "has_names", "dim_order",
    # a new tensor of a given size: the source lends only its dtype and device, the values are constants
    "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor",
}  # fmt: skip
# dunder methods that are tensor operations
_DUNDER_OPS = {
    "__abs__", "__add__", "__and__", "__eq__", "__floordiv__", "__ge__", "__getitem__", "__gt__", "__invert__",
    "__le__", "__lshift__", "__lt__", "__matmul__", "__mod__", "__mul__", "__ne__", "__neg__", "__or__", "__pos__",
    "__pow__", "__radd__", "__rand__", "__rfloordiv__", "__rlshift__", "__rmatmul__", "__rmod__", "__rmul__",
    "__ror__", "__rpow__", "__rrshift__", "__rshift__", "__rsub__", "__rtruediv__", "__rxor__", "__sub__",
    "__truediv__", "__xor__", "__iter__", "__reversed__",
}  # fmt: skip


def _unrecorded_methods():
    """The Tensor methods without a converter: their results computed from traced values are marked."""
    for name in dir(Tensor):
        value = inspect.getattr_static(Tensor, name)
        if not isinstance(value, types.FunctionType) or name in PATCHED_METHODS or name in _NOT_OPS:
            continue
        if name.startswith("_") and name not in _DUNDER_OPS:
            continue
        yield name, value


def _unrecorded_functions(owner, recorded):
    for name, value in list(vars(owner).items()):
        if name.startswith("_") or name in recorded or not isinstance(value, types.FunctionType):
            continue
        yield name, value


def _layers_with_functions():
    """The catalogue's layer classes whose forward calls the functional form they hold as ``_fn``."""
    for cls in vars(ember.nn).values():
        if isinstance(cls, type) and issubclass(cls, Module) and isinstance(vars(cls).get("_fn"), staticmethod):
            if getattr(F, vars(cls)["_fn"].__func__.__name__, None) is not None:
                yield cls


def _wrap_module_call(recorder, original, table):
    @functools.wraps(original)
    def traced(module, *args, **kwargs):
        convert = table.get(type(module))
        if convert is None:
            return original(module, *args, **kwargs)
        return recorder.call(
            lambda *a, **k: original(module, *a, **k), lambda b, a, k, out: convert(b, module, a, k, out), args, kwargs
        )

    return traced


@contextlib.contextmanager
def tracing(builder):
    """Record the tensor operations and module calls of the block into ``builder``."""
    if _active:
        raise RuntimeError("onnx export: an export is already under way")
    recorder = _Recorder(builder)
    saved = []

    def patch(owner, name, replacement):
        saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, replacement)

    for name, fn in _unrecorded_methods():
        patch(Tensor, name, _wrap_unrecorded(recorder, fn, f"Tensor.{name}"))
    for owner, prefix, recorded in (
        (ember, "ember", PATCHED_FUNCTIONS),
        (F, "ember.nn.functional", PATCHED_FUNCTIONAL),
    ):
        for name, fn in _unrecorded_functions(owner, set(recorded)):
            patch(owner, name, _wrap_unrecorded(recorder, fn, f"{prefix}.{name}"))
    for name in PATCHED_METHODS:
        if hasattr(Tensor, name):
            patch(Tensor, name, _wrap_op(recorder, getattr(Tensor, name), OP_CONVERTERS[name]))
    for name in PATCHED_PROPERTIES:
        patch(Tensor, name, _wrap_property(recorder, vars(Tensor)[name], OP_CONVERTERS[f"Tensor.{name}"]))
    for owner, names in ((ember, PATCHED_FUNCTIONS), (F, PATCHED_FUNCTIONAL)):
        for name in names:
            if hasattr(owner, name):
                patch(owner, name, _wrap_op(recorder, getattr(owner, name), OP_CONVERTERS[name]))
    for cls in _layers_with_functions():  # nn.ReLU6 and the like call ``type(self)._fn``, bound at import
        patch(cls, "_fn", staticmethod(getattr(F, vars(cls)["_fn"].__func__.__name__)))
    patch(Function, "apply", _wrap_function_apply(recorder, vars(Function)["apply"]))
    patch(Module, "__call__", _wrap_module_call(recorder, Module.__call__, module_converters()))
    _active.append(builder)
    try:
        yield
    finally:
        _active.pop()
        for owner, name, value in reversed(saved):
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


_MISSING = object()
