"""Recording a forward pass: the catalogue's modules and the tensor operations, while the model runs.

For the duration of an export, ``Module.__call__`` and the tensor operations listed in
:mod:`ember.onnx._ops` are replaced by wrappers that run the original and, when an argument
is a traced value, hand the call and its result to the matching converter. Calls made
inside a recorded call (a layer's own arithmetic) are not recorded again.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import ember
import ember.nn.functional as F

from ..nn.modules.module import Module
from ..tensor import Tensor
from ._modules import module_converters
from ._ops import OP_CONVERTERS, PATCHED_FUNCTIONAL, PATCHED_FUNCTIONS, PATCHED_METHODS

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
                return self.builder.is_traced(value)
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
        finally:
            self.depth -= 1
        convert(self.builder, args, kwargs, out)
        return out


def _wrap_op(recorder, fn, convert):
    @functools.wraps(fn)
    def traced(*args, **kwargs):
        return recorder.call(fn, convert, args, kwargs)

    return traced


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

    for name in PATCHED_METHODS:
        patch(Tensor, name, _wrap_op(recorder, getattr(Tensor, name), OP_CONVERTERS[name]))
    for owner, names in ((ember, PATCHED_FUNCTIONS), (F, PATCHED_FUNCTIONAL)):
        for name in names:
            patch(owner, name, _wrap_op(recorder, getattr(owner, name), OP_CONVERTERS[name]))
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
