"""The memory layout (strides) of op results against PyTorch: element-wise ops over operands of mixed
layouts (PyTorch's TensorIterator: the first operand that orders two dimensions decides), on every
test device."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

# operands as make(lib, dtype, **device): the same tensor in ember and torch
OPERANDS = {
    "row_major": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(2, 3, 4),
    "transposed": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(4, 3, 2).permute(2, 1, 0),
    "permuted": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(3, 4, 2).permute(2, 0, 1),
    "sliced": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(4, 3, 4)[::2].permute(0, 1, 2),
    "sliced_transposed": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(8, 3, 2)[::2].permute(2, 1, 0),
    "row": lambda L, dt, **kw: L.arange(4, dtype=dt, **kw) + 1,
    "column": lambda L, dt, **kw: L.arange(3, dtype=dt, **kw).reshape(3, 1) + 1,
    "broadcast_transposed": lambda L, dt, **kw: L.arange(12, dtype=dt, **kw).reshape(4, 3).t() + 1,
}

BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: L.sub(a, b, alpha=2),
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b + 1),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "atan2": lambda L, a, b: L.atan2(a, b),
    "lt": lambda L, a, b: a < b,
    "eq": lambda L, a, b: a == b,
}


def _pair(name, dt, device):
    make = OPERANDS[name]
    return make(ember, getattr(ember, dt), device=device), make(torch, getattr(torch, dt))


def _same(y, ty):
    assert tuple(y.shape) == tuple(ty.shape)
    assert y.stride() == ty.stride(), (y.stride(), ty.stride())
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("first", ["transposed", "permuted", "sliced_transposed", "row", "broadcast_transposed"])
@pytest.mark.parametrize("second", ["row_major", "transposed", "permuted", "sliced", "column"])
def test_binary_result_takes_the_first_operands_layout(device, dt, op, first, second):
    (a, ta), (b, tb) = _pair(first, dt, device), _pair(second, dt, device)
    _same(BINARY[op](ember, a, b), BINARY[op](torch, ta, tb))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["transposed", "permuted", "sliced", "sliced_transposed", "broadcast_transposed"])
def test_unary_and_scalar_results_keep_the_operands_order(device, dt, layout):
    x, t = _pair(layout, dt, device)
    for f in (lambda v: v.exp(), lambda v: -v, lambda v: v.abs(), lambda v: v * 2, lambda v: 1 - v, lambda v: v > 3):
        _same(f(x), f(t))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layouts", [("transposed", "row_major", "permuted"), ("column", "transposed", "row_major")])
def test_three_operand_results_take_the_first_deciding_operands_layout(device, dt, layouts):
    (c, tc), (a, ta), (b, tb) = (_pair(name, dt, device) for name in layouts)
    _same(ember.where(c > 5, a, b), torch.where(tc > 5, ta, tb))
    _same(ember.lerp(a, b, 0.75), torch.lerp(ta, tb, 0.75))
    _same(ember.lerp(c.expand(2, 3, 4), b, 0.25), torch.lerp(tc.expand(2, 3, 4), tb, 0.25))
    _same(ember.addcmul(a, c, b, value=0.5), torch.addcmul(ta, tc, tb, value=0.5))
