"""The binary ops of ``ember.export.export`` against ``torch.export.export``: every spelling (the ember
function, the tensor method, the Python operator; a tensor or a number on either side) lowers to the ATen
overload torch records, with the same arguments; the archive that ``ember.export.save`` writes runs in
``torch.export.load`` with torch's values, and torch's archive of the same program runs in
``ember.export.load``. One table of binary ops serves functions and methods alike (``x.remainder(y)``
lowered only as a function before; a number second to a comparison or ``remainder``, ``maximum``,
``floor_divide`` and ``clamp`` with tensor bounds were recorded under overloads torch has not)."""

import io

import numpy as np
import pytest

import ember
import ember.export
import ember.nn as enn

torch = pytest.importorskip("torch")

_X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
_Y = (np.abs(np.random.default_rng(1).standard_normal((3, 4))) + 0.1).astype(np.float32)

_OPS = ("add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "remainder", "floor_divide")
_TENSORS_ONLY = ("maximum", "minimum")  # a number is a TypeError in both libraries


def _function(op):
    return lambda T, x, y: getattr(T, op)(x, y)


def _method(op, other):
    return lambda T, x, y: getattr(x, op)(y if other is None else other)


# name: a program of (x, y) written once, run with T = torch or T = ember
CASES = {
    **{f"{op}(x, y)": _function(op) for op in _OPS + _TENSORS_ONLY},
    **{f"x.{op}(y)": _method(op, None) for op in _OPS + _TENSORS_ONLY},
    **{f"x.{op}(0.5)": _method(op, 0.5) for op in _OPS},
    "remainder(x, 0.3)": lambda T, x, y: T.remainder(x, 0.3),
    "remainder(x, other=y)": lambda T, x, y: T.remainder(x, other=y),
    "remainder(0.3, x)": lambda T, x, y: T.remainder(0.3, x),
    "x % y": lambda T, x, y: x % y,
    "x % 0.3": lambda T, x, y: x % 0.3,
    "0.3 % x": lambda T, x, y: 0.3 % x,
    "x // 2": lambda T, x, y: x // 2.0,
    "2 // x": lambda T, x, y: 2.0 // x,
    "0.5 < x": lambda T, x, y: 0.5 < x,
    "0.5 >= x": lambda T, x, y: 0.5 >= x,
    "0.5 == x": lambda T, x, y: 0.5 == x,
    "0.5 + x": lambda T, x, y: 0.5 + x,
    "0.5 - x": lambda T, x, y: 0.5 - x,
    "0.5 * x": lambda T, x, y: 0.5 * x,
    "0.5 / x": lambda T, x, y: 0.5 / x,
    "2 ** x": lambda T, x, y: 2.0**x,
    "x ** 2": lambda T, x, y: x**2,
    "x.sub(0.5, alpha=2)": lambda T, x, y: x.sub(0.5, alpha=2),
    "add(x, y, alpha=2)": lambda T, x, y: T.add(x, y, alpha=2),
    "div(x, y, rounding_mode='floor')": lambda T, x, y: T.div(x, y, rounding_mode="floor"),
    "x.div(2, rounding_mode='trunc')": lambda T, x, y: x.div(2.0, rounding_mode="trunc"),
    "div(x, y, rounding_mode=None)": lambda T, x, y: T.div(x, y, rounding_mode=None),
    "x.clamp(-0.5, 0.5)": lambda T, x, y: x.clamp(-0.5, 0.5),
    "x.clamp(min=0.1)": lambda T, x, y: x.clamp(min=0.1),
    "x.clamp(None, 0.2)": lambda T, x, y: x.clamp(None, 0.2),
    "clamp(x, -0.5, 0.5)": lambda T, x, y: T.clamp(x, -0.5, 0.5),
    "x.clamp(y)": lambda T, x, y: x.clamp(y),
    "x.clamp(max=y)": lambda T, x, y: x.clamp(max=y),
    "x.clamp(-y, y)": lambda T, x, y: x.clamp(-y, y),
    "clamp(x, y)": lambda T, x, y: T.clamp(x, y),
    "clamp(x, max=y)": lambda T, x, y: T.clamp(x, max=y),
}


class _Torch(torch.nn.Module):
    def __init__(self, program):
        super().__init__()
        self.program = program

    def forward(self, x, y):
        return self.program(torch, x, y)


class _Ember(enn.Module):
    def __init__(self, program):
        super().__init__()
        self.program = program

    def forward(self, x, y):
        return self.program(ember, x, y)


def _calls(ep, prefix):
    """The graph's calls as (overload, arguments, keywords), names of nodes as strings."""
    return [
        (str(n.target).removeprefix(prefix), [str(a) for a in n.args], {k: str(v) for k, v in n.kwargs.items()})
        for n in ep.graph.nodes
        if n.op == "call_function"
    ]


def _same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # NaN where both have NaN


@pytest.mark.parametrize("name", list(CASES))
def test_binary_op_lowers_as_torch_records_it_and_runs_in_both(name):
    program = CASES[name]
    tx, ty = torch.tensor(_X), torch.tensor(_Y)
    ex, ey = ember.tensor(_X), ember.tensor(_Y)
    expected = program(torch, tx, ty)
    t_ep = torch.export.export(_Torch(program), (tx, ty))
    ep = ember.export.export(_Ember(program), (ex, ey))
    assert _calls(ep, "torch.ops.aten.") == _calls(t_ep, "aten.")

    # each library's run of an archive gives that library's eager values, bit for bit
    ours = np.asarray(program(ember, ex, ey))
    buf = io.BytesIO()
    ember.export.save(ep, buf)
    buf.seek(0)
    _same(torch.export.load(buf).module()(tx, ty).numpy(), expected.numpy())

    buf = io.BytesIO()
    torch.export.save(t_ep, buf)
    buf.seek(0)
    _same(np.asarray(ember.export.load(buf).module()(ex, ey)), ours)
    _same(np.asarray(ep.module()(ex, ey)), ours)
    np.testing.assert_allclose(ours, expected.numpy(), rtol=2.4e-7, atol=0)  # float32 pow: 1 ulp apart
