"""``add``/``sub`` with ``alpha`` on operands of two different dtypes, against PyTorch: the other operand is
cast to the result type before it is scaled, so the result keeps PyTorch's dtype (``uint8 + 2 * bool`` is
uint8, ``float16 + -0.5 * int32`` is float16) and an integer product wraps in the result type, not in the
narrower operand's (``int64 - 300 * uint8``)."""

from __future__ import annotations

import numpy as np
import pytest
from opinfo_support import need_dtypes

import ember

torch = pytest.importorskip("torch")

# (input dtype, other dtype, alpha): each one gave another dtype or other values before
_CASES = [
    ("uint8", "bool", 2),
    ("uint8", "bool", 0),
    ("int32", "bool", 3),
    ("int32", "bool", 300),
    ("int64", "uint8", 300),
    ("int64", "uint8", 2),
    ("int32", "uint8", 2),
    ("float16", "int32", -0.5),
    ("float16", "int64", -0.5),
    ("float16", "uint8", -0.5),
    ("float16", "bool", -0.5),
    ("bfloat16", "int32", -0.5),
    ("bfloat16", "int64", -0.5),
    ("bfloat16", "bool", -0.5),
    ("float32", "int64", 3),
]


def _operands(device, input_dtype, other_dtype):
    need_dtypes(device, input_dtype, other_dtype)  # (OpenCL has no bfloat16)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)) * 3, rng.standard_normal((4,)) * 3
    made = []
    for values, name in ((x, input_dtype), (y, other_dtype)):
        reference = torch.tensor(values).to(getattr(torch, name))
        made.append((ember.tensor(reference.double().numpy(), device=device).to(getattr(ember, name)), reference))
    return made


@pytest.mark.parametrize(
    ("op", "input_dtype", "other_dtype", "alpha"),
    [("add", *case) for case in _CASES] + [("sub", *case) for case in _CASES if case[1] != "bool"],  # sub refuses bool
)
def test_mixed_dtype_alpha_matches_torch(device, op, input_dtype, other_dtype, alpha):
    (a, ta), (b, tb) = _operands(device, input_dtype, other_dtype)
    got, want = getattr(ember, op)(a, b, alpha=alpha), getattr(torch, op)(ta, tb, alpha=alpha)
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    np.testing.assert_array_equal(got.cpu().double().numpy(), want.double().numpy())


@pytest.mark.parametrize(("input_dtype", "other_dtype", "alpha"), [c for c in _CASES if c[1] != "bool"])
def test_mixed_dtype_alpha_in_place(device, input_dtype, other_dtype, alpha):
    (a, ta), (b, tb) = _operands(device, input_dtype, other_dtype)
    a.add_(b, alpha=alpha)
    ta.add_(tb, alpha=alpha)
    assert str(a.dtype) == str(ta.dtype).replace("torch", "ember")
    np.testing.assert_array_equal(a.cpu().double().numpy(), ta.double().numpy())
