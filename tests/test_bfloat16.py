"""bfloat16: creation, promotion, arithmetic, matmul, autograd and printing against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, randn, torch

import ember
from ember import nn

pytest.importorskip("ml_dtypes")


def _holds_bf16(device):
    try:
        ember.zeros(1, device=device, dtype=ember.bfloat16)
    except TypeError:
        return False
    return True


@pytest.fixture
def bf16_device(device):
    if not _holds_bf16(device):
        pytest.skip(f"{device} cannot hold bfloat16")
    return device


def test_opencl_refuses_bfloat16_clearly():
    try:
        ember.backends.get_backend("opencl")
    except Exception as exc:  # noqa: BLE001 - no OpenCL runtime
        pytest.skip(str(exc))
    with pytest.raises(TypeError, match="opencl backend does not support dtype ember.bfloat16"):
        ember.zeros(2, device="opencl:0", dtype=ember.bfloat16)


@pytest.mark.parametrize(
    "a,b",
    [
        ("bfloat16", "float16"),
        ("bfloat16", "float32"),
        ("bfloat16", "float64"),
        ("bfloat16", "int64"),
        ("bfloat16", "bool"),
        ("bfloat16", "bfloat16"),
    ],
)
def test_promotion(a, b):
    assert ember.promote_types(getattr(ember, a), getattr(ember, b)).name == str(
        torch.promote_types(getattr(torch, a), getattr(torch, b))
    ).replace("torch.", "")


def test_ops_match_torch(bf16_device):
    x, y, w = randn(3, 4), randn(4, 5), randn(6, 4)
    e = {k: ember.tensor(v, device=bf16_device).bfloat16() for k, v in (("x", x), ("y", y), ("w", w))}
    t = {k: torch.tensor(v).bfloat16() for k, v in (("x", x), ("y", y), ("w", w))}
    cases = [
        lambda m, x, y, w: m["x"] @ m["y"],
        lambda m, x, y, w: m["x"] * 2.5 + 1,
        lambda m, x, y, w: m["x"].exp(),
        lambda m, x, y, w: m["x"].sum(1),
        lambda m, x, y, w: m["x"].softmax(-1),
    ]
    for fn in cases:
        eo, to = fn(e, x, y, w), fn(t, x, y, w)
        assert eo.dtype is ember.bfloat16 and to.dtype is torch.bfloat16
        assert_close(eo.float(), to.float(), rtol=1e-2, atol=1e-2)
    mixed = e["x"] + ember.ones(4, device=bf16_device)
    assert mixed.dtype is ember.float32
    assert (e["x"] + ember.ones(4, device=bf16_device, dtype=ember.float16)).dtype is ember.float32
    assert (e["x"] + ember.tensor(1.0, device=bf16_device)).dtype is ember.bfloat16  # 0-d does not widen


def test_autograd_and_module(bf16_device):
    lin = nn.Linear(4, 3).to(bf16_device).bfloat16()
    assert lin.weight.dtype is ember.bfloat16
    x = ember.randn(2, 4, device=bf16_device, dtype=ember.bfloat16, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.dtype is ember.bfloat16 and lin.weight.grad.dtype is ember.bfloat16


def test_printing_matches_torch():
    values = np.array([[2.375, 1.906, -1.289, 0.08447], [0.875, 0.2295, 0.3652, -0.002243]])
    e = repr(ember.tensor(values).bfloat16())
    t = repr(torch.tensor(values).bfloat16())
    assert e.replace("ember", "torch").split() == t.split()
    assert repr(ember.tensor([1.0, 2.5], dtype=ember.bfloat16)) == "tensor([1.0000, 2.5000], dtype=ember.bfloat16)"


def test_ml_dtypes_is_imported_only_for_bfloat16():
    """NumPy's bfloat16 comes from ml_dtypes, whose import costs more than NumPy's: a program that
    never uses bfloat16 does not pay it, and one that does gets it on first use."""
    import subprocess
    import sys

    code = (
        "import sys, ember; ember.ones(2) + 1; assert 'ml_dtypes' not in sys.modules;"
        "import ml_dtypes, numpy as np; assert ember.from_numpy(np.ones(2, dtype=ml_dtypes.bfloat16)).dtype is ember.bfloat16;"
        "assert ember.ones(2, dtype=ember.bfloat16).dtype is ember.bfloat16"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_finfo_matches_torch():
    got, expected = ember.finfo(ember.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, name) == getattr(expected, name), name


def test_tensor_from_python_values_in_bfloat16(bf16_device):
    got = ember.tensor([[1.5, 2.25], [3.0, -0.1]], dtype=ember.bfloat16, device=bf16_device)
    expected = torch.tensor([[1.5, 2.25], [3.0, -0.1]], dtype=torch.bfloat16)
    assert got.dtype is ember.bfloat16
    assert got.float().cpu().numpy().tolist() == expected.float().numpy().tolist()


def test_numpy_operand_with_a_bfloat16_tensor_raises_as_torch():
    with pytest.raises(TypeError) as expected:
        torch.ones(2, dtype=torch.bfloat16) + np.ones(2)
    with pytest.raises(TypeError) as got:
        ember.ones(2, dtype=ember.bfloat16) + np.ones(2)
    assert str(got.value) == str(expected.value)
