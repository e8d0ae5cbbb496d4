"""Tensor's binary operators called with keywords, against PyTorch.

PyTorch's binary operators (``x.__mul__(y, alpha=2)``, ``x.__rsub__(y, out=None)``, ``x.__eq__(y, foo=1)``)
return NotImplemented for any keyword they do not take (its argument parser's TypeError turned into it);
``__add__``, ``__radd__`` and ``__sub__`` take ``alpha``, ``__truediv__`` and ``__div__`` take ``rounding_mode``.
Checked on plain tensors, with a tensor subclass as either operand (the wrappers that look at both operands)
and under a ``TorchFunctionMode`` (the wrappers that hand plain tensors' calls to the mode).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

OPERATORS = """__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __div__ __rdiv__
    __floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __eq__ __ne__ __lt__ __le__
    __gt__ __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ __lshift__ __rlshift__ __rshift__
    __rrshift__""".split()
BITWISE = frozenset(
    "__and__ __rand__ __or__ __ror__ __xor__ __rxor__ __lshift__ __rlshift__ __rshift__ __rrshift__".split()
)
KEYWORDS = ({"foo": 1}, {"out": None}, {"alpha": 2}, {"rounding_mode": "floor"}, {"alpha": 2, "foo": 1})
# the operators' own keywords, and what they give
TAKEN = {
    "__add__": {"alpha": 2},
    "__radd__": {"alpha": 2},
    "__sub__": {"alpha": 2},
    "__truediv__": {"rounding_mode": "floor"},
    "__div__": {"rounding_mode": "floor"},
}


def _operands(lib, name, device=None, dtype=None):
    if name in BITWISE:
        values, kind = [[6, 3], [1, 2]], lib.int64
    else:
        values, kind = [[1.5, -2.25], [3.0, 0.5]], dtype
    place = {} if lib is torch else {"device": device}
    return lib.tensor(values[0], dtype=kind, **place), lib.tensor(values[1], dtype=kind, **place)


def _call(lib, name, kwargs, device=None, dtype=None, wrap=None, mode=None):
    """``Tensor.name(x, y, **kwargs)``: NotImplemented, or the result's values and dtype, or the error."""
    x, y = _operands(lib, name, device, dtype)
    if wrap is not None:
        x, y = wrap(x, y)
    try:
        if mode is None:
            result = getattr(type(x), name)(x, y, **kwargs)
        else:
            with mode():
                result = getattr(type(x), name)(x, y, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared with PyTorch's
        return ("error", type(exc).__name__)
    if result is NotImplemented:
        return ("NotImplemented",)
    return ("value", str(result.dtype).split(".")[-1], np.asarray(result.tolist()).tolist())


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("kwargs", KEYWORDS, ids=lambda k: ",".join(k))
def test_unexpected_keywords_give_not_implemented(device, name, kwargs):
    expected = _call(torch, name, kwargs, dtype=torch.float32)
    assert _call(ember, name, kwargs, device, ember.float32) == expected
    if TAKEN.get(name) != kwargs:
        assert expected == ("NotImplemented",)


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_own_keywords_compute(device, dtype, name):
    kwargs = TAKEN[name]
    expected = _call(torch, name, kwargs, dtype=getattr(torch, str(dtype).split(".")[-1]))
    assert expected[0] == "value"
    assert _call(ember, name, kwargs, device, dtype) == expected


@functools.cache
def _subclasses():
    """A plain subclass of each library's Tensor (defined on first use: defining one switches ember's checking
    wrappers on, which :func:`test_keywords_under_a_mode_before_any_subclass`'s process must not see)."""

    class EmberSub(ember.Tensor):
        pass

    class TorchSub(torch.Tensor):
        pass

    return EmberSub, TorchSub


@pytest.mark.parametrize("which", ["self", "other"])
@pytest.mark.parametrize("name", OPERATORS)
def test_keywords_with_a_subclass_operand(device, name, which):
    def wrapping(cls):
        def wrap(x, y):
            return (x.as_subclass(cls), y) if which == "self" else (x, y.as_subclass(cls))

        return wrap

    ember_sub, torch_sub = _subclasses()
    for kwargs in KEYWORDS:
        expected = _call(torch, name, kwargs, dtype=torch.float32, wrap=wrapping(torch_sub))
        got = _call(ember, name, kwargs, device, ember.float32, wrap=wrapping(ember_sub))
        assert got == expected, kwargs


class _EmberMode(ember.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


class _TorchMode(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", OPERATORS)
def test_keywords_under_a_mode(device, name):
    for kwargs in KEYWORDS:
        expected = _call(torch, name, kwargs, dtype=torch.float32, mode=_TorchMode)
        assert _call(ember, name, kwargs, device, ember.float32, mode=_EmberMode) == expected, kwargs


def test_keywords_under_a_mode_before_any_subclass():
    """A mode in a program that never defined a tensor subclass (the operators are not yet the checking
    wrappers): a process of its own, since this module's subclasses switch those wrappers on for good."""
    code = """
import torch, ember
from test_operator_keywords import KEYWORDS, OPERATORS, _call, _EmberMode, _TorchMode

assert not ember.overrides._plain_methods_checked
bad = [
    (name, kwargs)
    for name in OPERATORS
    for kwargs in KEYWORDS
    if _call(ember, name, kwargs, "cpu", ember.float32, mode=_EmberMode)
    != _call(torch, name, kwargs, dtype=torch.float32, mode=_TorchMode)
]
assert not ember.overrides._plain_methods_checked
assert not bad, bad
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)
