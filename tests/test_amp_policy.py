"""The declarative autocast policy tables (ember.amp.policy): PyTorch's categories per device type,
their effect on operands through cast_inputs (the cuda table applied to cpu tensors, since no GPU
is needed to check the casts), and float64 operands left alone as PyTorch's autocast does."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember
import ember.nn.functional as F
from ember.amp import policy as P
from ember.amp.state import state

pytest.importorskip("ml_dtypes")


@pytest.fixture
def cuda_region(monkeypatch):
    """The state an ``autocast("cuda", dtype=float16)`` region sets on a machine with a GPU."""
    monkeypatch.setattr(state, "dtypes", {"cuda": ember.float16})
    monkeypatch.setattr(state, "active", True)


@pytest.mark.parametrize(
    "op, cpu, cuda",
    [
        ("linear", P.LOWER, P.LOWER),
        ("conv2d", P.LOWER, P.LOWER),
        ("baddbmm", P.LOWER, P.LOWER),
        ("einsum", None, P.LOWER),
        ("scaled_dot_product_attention", P.LOWER, P.LOWER),
        ("softmax", None, P.FP32_SET_OPT_DTYPE),
        ("log_softmax", None, P.FP32_SET_OPT_DTYPE),
        ("sum", None, P.FP32_SET_OPT_DTYPE),
        ("prod", P.FP32, P.FP32_SET_OPT_DTYPE),
        ("layer_norm", None, P.FP32),
        ("exp", None, P.FP32),
        ("pow", None, P.FP32),
        ("mse_loss", P.FP32, P.FP32),
        ("nll_loss", P.FP32, P.FP32),
        ("cat", P.PROMOTE, P.PROMOTE),
        ("addcmul", None, P.PROMOTE),
        ("binary_cross_entropy", P.FP32, P.BANNED),
        ("relu", None, None),
    ],
)
def test_policy_tables_follow_pytorch(op, cpu, cuda):
    assert P.policy(op, "cpu") == cpu
    assert P.policy(op, "cuda") == cuda
    assert P.policy(op, "opencl") is None


def test_each_op_has_one_category_per_device():
    for device, table in P.POLICY.items():
        seen = {}
        for kind, ops in table.items():
            for op in ops:
                assert op not in seen, f"{device}: {op} is both {seen[op]} and {kind}"
                seen[op] = kind


@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16", "float16"])
def test_cuda_policy_casts(cuda_region, input_dtype):
    x = ember.randn(2, 3).to(getattr(ember, input_dtype))
    wide = ember.randn(2, 3, dtype=ember.float64)
    assert P.cast_inputs("linear", x, None, device_type="cuda")[0].dtype is ember.float16
    assert P.cast_inputs("linear", x, device_type="cuda")[0].dtype is ember.float16
    assert P.cast_inputs("softmax", x, device_type="cuda")[0].dtype is ember.float32
    assert P.cast_inputs("softmax", x, device_type="cuda", dtype=ember.float64)[0].dtype is ember.float64
    assert P.cast_inputs("layer_norm", x, device_type="cuda")[0].dtype is ember.float32
    assert P.cast_inputs("relu", x, device_type="cuda")[0].dtype is x.dtype
    # promote follows PyTorch's at::autocast::prioritize: float32 wins over the region's dtype,
    # another 16-bit dtype met before a float32 is an error, float64 operands are left alone
    if input_dtype == "bfloat16":
        with pytest.raises(RuntimeError, match="Unexpected floating ScalarType in at::autocast::prioritize"):
            P.cast_inputs("cat", x, ember.randn(2, 3), device_type="cuda")
    else:
        a, b = P.cast_inputs("cat", x, ember.randn(2, 3), device_type="cuda")
        assert a.dtype is b.dtype is ember.float32
    a, b = P.cast_inputs("cat", ember.randn(2, 3), x, device_type="cuda")
    assert a.dtype is b.dtype is ember.float32
    a, b = P.cast_inputs("cat", x.float(), wide, device_type="cuda")
    assert a.dtype is ember.float32 and b.dtype is ember.float64
    # float64 operands stay float64 in the lower-precision and float32 categories
    assert P.cast_inputs("linear", wide, device_type="cuda")[0].dtype is ember.float64
    assert P.cast_inputs("exp", wide, device_type="cuda")[0].dtype is ember.float64
    # the cpu table does not apply to a cuda region, nor the cuda table outside one
    assert P.cast_inputs("linear", x, device_type="cpu")[0].dtype is x.dtype
    with pytest.raises(RuntimeError, match="binary_cross_entropy and ember.nn.BCELoss are unsafe to autocast"):
        P.cast_inputs("binary_cross_entropy", x, x, device_type="cuda")


def test_cast_inputs_outside_a_region_and_integers():
    x = ember.randn(2, 3, dtype=ember.bfloat16)
    i = ember.tensor([1, 2])
    assert P.cast_inputs("mse_loss", x, device_type="cpu")[0] is x
    with ember.autocast("cpu"):
        got = P.cast_inputs("mse_loss", x, i, None)
        assert got[0].dtype is ember.float32 and got[1] is i and got[2] is None
        assert P.cast_inputs("linear", ember.randn(2, 3))[0].dtype is ember.bfloat16


def test_cpu_policy_matches_torch_autocast_output_dtypes():
    """Where ember's ops consult the cpu table, the category predicts torch's output dtype."""
    rng = np.random.default_rng(3)
    data = rng.standard_normal((4, 4)).astype(np.float32)
    cases = {
        "mm": lambda m, f, x: m.mm(x, x),
        "linear": lambda m, f, x: f.linear(x, x),
        "mse_loss": lambda m, f, x: f.mse_loss(x, x),
        "l1_loss": lambda m, f, x: f.l1_loss(x, x),
        "softmax": lambda m, f, x: f.softmax(x, -1),
        "exp": lambda m, f, x: x.exp(),
        "prod": lambda m, f, x: m.prod(x, 1),
        "sum": lambda m, f, x: m.sum(x),
        "cumsum": lambda m, f, x: m.cumsum(x, 0),
    }
    expected_of = {P.LOWER: "bfloat16", P.FP32: "float32", None: None}
    for op, fn in cases.items():
        for name in ("float32", "bfloat16", "float64"):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                want = str(fn(torch, torch.nn.functional, torch.tensor(data).to(getattr(torch, name))).dtype)
            with ember.autocast("cpu", dtype=ember.bfloat16):
                got = fn(ember, F, ember.tensor(data).to(getattr(ember, name))).dtype
            predicted = name if name == "float64" else (expected_of[P.policy(op, "cpu")] or name)
            assert got.name == want.replace("torch.", "") == predicted, (op, name)


@pytest.mark.parametrize("input_dtype", ["float32", "float16"])
def test_ops_route_through_the_cuda_table(monkeypatch, input_dtype):
    """The ops consult the table of their device type: with cuda's table standing in for cpu's,
    cpu ops under autocast(float16) give the dtypes PyTorch's CUDA autocast documents (exp, log,
    softmax, log_softmax in float32, linear and matmul in float16, relu unchanged)."""
    monkeypatch.setitem(P._CATEGORY, "cpu", P._CATEGORY["cuda"])
    x = ember.rand(4, 8).to(getattr(ember, input_dtype)) + 0.5
    w = ember.randn(3, 8)
    with ember.autocast("cpu", dtype=ember.float16):
        assert x.exp().dtype is ember.float32 and ember.log(x).dtype is ember.float32
        assert F.softmax(x, -1).dtype is ember.float32 and F.log_softmax(x, -1).dtype is ember.float32
        assert ember.softmax(x, -1, dtype=ember.float64).dtype is ember.float64
        assert F.linear(x, w).dtype is ember.float16 and (x @ w.t()).dtype is ember.float16
        assert F.relu(x).dtype is x.dtype and x.sin().dtype is x.dtype
        assert x.sum().dtype is ember.float32 and ember.cumsum(x, 0).dtype is ember.float32
        assert x.prod(1).dtype is ember.float32 and x.sum(dtype=ember.float64).dtype is ember.float64
    # cpu's own table: exp and softmax stay in the input's dtype, as torch's CPU autocast does
    monkeypatch.undo()
    with ember.autocast("cpu", dtype=ember.float16), torch.autocast("cpu", dtype=torch.float16):
        t = torch.tensor(x.float().numpy()).to(getattr(torch, input_dtype))
        assert x.exp().dtype.name == str(t.exp().dtype).replace("torch.", "")
        assert F.softmax(x, -1).dtype.name == str(torch.softmax(t, -1).dtype).replace("torch.", "")
