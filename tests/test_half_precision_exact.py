"""float16 and bfloat16 outputs and gradients bit for bit as PyTorch's CPU kernels round them.

Where PyTorch's kernel reads 16-bit values as float32 and rounds once, or rounds an intermediate
(a row's sum, a saved output) to the 16-bit type on purpose, ember rounds at the same points, so
the results agree in every bit. The float32 sums inside are added in another order than PyTorch's
vectorized loops (whose lane count depends on the machine), and PyTorch's vectorized exp and erf
are its own approximations, which moves a float32 intermediate by a unit now and then; where that
lands on a 16-bit rounding boundary one element is a unit off (more where a difference cancels),
so each case allows that in at most one element in a hundred. Each case runs the
same op on the same 16-bit values in ember and torch and back-propagates the same 16-bit upstream
gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

pytest.importorskip("ml_dtypes")

#: name -> (input shape, fn(m, x)): ``m`` is ember or torch, ``x`` the 16-bit input (requires grad)
CASES = {
    "softmax_last": ((16, 64), lambda m, x: m.softmax(x, -1)),
    "softmax_first": ((16, 64), lambda m, x: m.softmax(x, 0)),
    "log_softmax_last": ((16, 64), lambda m, x: m.log_softmax(x, -1)),
    "log_softmax_first": ((16, 64), lambda m, x: m.log_softmax(x, 0)),
    "cross_entropy": ((16, 64), lambda m, x: m.nn.functional.cross_entropy(x, m.arange(16) % 64)),
    "cross_entropy_none": (
        (16, 64),
        lambda m, x: m.nn.functional.cross_entropy(x, m.arange(16) % 64, reduction="none"),
    ),
    "cross_entropy_300": ((300, 10), lambda m, x: m.nn.functional.cross_entropy(x * 3, m.arange(300) % 10)),
    "cross_entropy_sum": (
        (300, 10),
        lambda m, x: m.nn.functional.cross_entropy(x * 3, m.arange(300) % 10, reduction="sum"),
    ),
    "cross_entropy_ignored_weighted": (
        (300, 10),
        lambda m, x: m.nn.functional.cross_entropy(
            x * 3, m.arange(300) * 7 % 11, weight=m.linspace(0.5, 2.0, 10).to(x.dtype), ignore_index=10
        ),
    ),
    "cross_entropy_smoothed": (
        (300, 10),
        lambda m, x: m.nn.functional.cross_entropy(x * 3, m.arange(300) * 7 % 11, ignore_index=10, label_smoothing=0.1),
    ),
    "cross_entropy_smoothed_none": (
        (300, 10),
        lambda m, x: m.nn.functional.cross_entropy(x, m.arange(300) % 10, reduction="none", label_smoothing=0.2),
    ),
    "cross_entropy_spatial": (
        (8, 10, 40),
        lambda m, x: m.nn.functional.cross_entropy(x * 3, m.arange(320).reshape(8, 40) % 10),
    ),
    "nll_loss_sum": ((300, 10), lambda m, x: m.nn.functional.nll_loss(x, m.arange(300) % 10, reduction="sum")),
    "mse_loss": ((15, 50), lambda m, x: m.nn.functional.mse_loss(x, x.detach().flip(0))),
    "mse_loss_sum": ((15, 50), lambda m, x: m.nn.functional.mse_loss(x, x.detach().flip(0), reduction="sum")),
    "mse_loss_none": ((15, 50), lambda m, x: m.nn.functional.mse_loss(x, x.detach().flip(0), reduction="none")),
    "mul_by_0d_tensor": ((16, 64), lambda m, x: x * m.tensor(0.1, dtype=m.float64) + x * m.tensor(2049)),
    "div_by_0d_tensor": ((16, 64), lambda m, x: x / m.tensor(273)),
    # the parameters' gradients are left out: PyTorch's CPU kernel sums them in the 16-bit type,
    # a partial sum per thread, so their last bits depend on torch.get_num_threads()
    "layer_norm": (
        (16, 64),
        lambda m, x: m.nn.functional.layer_norm(
            x * 2 + 0.5, (64,), m.linspace(0.5, 1.5, 64).to(x.dtype), m.linspace(-0.2, 0.2, 64).to(x.dtype)
        ),
    ),
    "layer_norm_2d": ((4, 6, 40), lambda m, x: m.nn.functional.layer_norm(x, (6, 40))),
    "gelu": ((16, 64), lambda m, x: m.nn.functional.gelu(x)),
    "gelu_tanh": ((16, 64), lambda m, x: m.nn.functional.gelu(x, approximate="tanh")),
    "silu": ((16, 64), lambda m, x: m.nn.functional.silu(x)),
    "mish": ((16, 64), lambda m, x: m.nn.functional.mish(x)),
    "logsigmoid": ((16, 64), lambda m, x: m.nn.functional.logsigmoid(x * 3)),
    "softsign": ((16, 64), lambda m, x: m.nn.functional.softsign(x)),
    "tanh": ((16, 64), lambda m, x: x.tanh()),
    "sigmoid": ((16, 64), lambda m, x: x.sigmoid()),
    "log": ((16, 64), lambda m, x: (x.abs() + 0.1).log()),
    "log2": ((16, 64), lambda m, x: (x.abs() + 0.1).log2()),
    "log1p": ((16, 64), lambda m, x: x.abs().log1p()),
    "sqrt": ((16, 64), lambda m, x: x.abs().sqrt()),
    "atan": ((16, 64), lambda m, x: x.atan()),
    "div": ((16, 64), lambda m, x: x / (x.flip(0).abs() + 0.5)),
    "pow_tensors": ((16, 64), lambda m, x: (x.abs() + 0.5) ** x.flip(0)),
    "pow_number": ((16, 64), lambda m, x: x**3),
    "var": ((16, 64), lambda m, x: x.var(1)),
    "std": ((16, 64), lambda m, x: x.std(0)),
    "var_mean": ((16, 64), lambda m, x: m.var_mean(x, 1)[0]),
    "norm": ((16, 64), lambda m, x: x.norm()),
    "norm_dim": ((16, 64), lambda m, x: x.norm(dim=1)),
    "vector_norm_3": ((16, 64), lambda m, x: m.linalg.vector_norm(x, 3, dim=1)),
    "linear_bias": ((16, 64), lambda m, x: m.nn.functional.linear(x.t(), x[:4, :16], x[5, :4])),
}


def _run(m, name, dtype):
    shape, fn = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    base, upstream_seed = rng.standard_normal(shape).astype(np.float32), int(rng.integers(1 << 30))
    x = m.tensor(base).to(getattr(m, dtype)).requires_grad_()
    y = fn(m, x)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(m.tensor(upstream).to(y.dtype))
    return y, x.grad


def _ordered_bits(t):
    """The 16-bit patterns of torch tensor ``t`` as integers that count units in the last place."""
    bits = t.detach().view(torch.int16).numpy().astype(np.int64)
    return np.where(bits < 0, -32768 - bits, bits)


def _assert_as_torch(ours, theirs):
    ours = torch.from_numpy(ours.detach().float().numpy()).to(theirs.dtype)
    units = np.abs(_ordered_bits(ours) - _ordered_bits(theirs))
    assert (units != 0).mean() <= 0.01, (units != 0).mean()
    # a unit off, or (where a difference cancels to almost nothing) off by less than a unit of the
    # tensor's largest magnitude
    a, b = ours.double().numpy(), theirs.detach().double().numpy()
    scale = torch.finfo(theirs.dtype).eps * np.abs(b).max(initial=0)
    assert ((units <= 1) | (np.abs(a - b) <= scale)).all(), units.max()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_bit_for_bit_as_torch(name, dtype):
    (y, grad), (expected, expected_grad) = _run(ember, name, dtype), _run(torch, name, dtype)
    assert str(y.dtype) == str(expected.dtype).replace("torch", "ember")
    _assert_as_torch(y, expected)
    _assert_as_torch(grad, expected_grad)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("decoupled", [True, False])
def test_adam_steps_on_16_bit_parameters_as_torch(dtype, decoupled):
    """PyTorch's single-tensor Adam on 16-bit parameters rounds after each tensor operation, with
    its Python-number factors unrounded (bfloat16 would make beta2 = 0.999 a 1) and addcmul's
    multiply-add fused; five steps of AdamW and of Adam with L2 weight decay, bit for bit."""
    rng = np.random.default_rng(7)
    start = rng.standard_normal((64, 33)).astype(np.float32)
    grads = [rng.standard_normal((64, 33)).astype(np.float32) for _ in range(5)]
    results = []
    for m in (ember, torch):
        param = m.tensor(start).to(getattr(m, dtype)).requires_grad_()
        kind = m.optim.AdamW if decoupled else m.optim.Adam
        optimizer = kind([param], lr=1e-2, weight_decay=0.1, foreach=False)
        for grad in grads:
            param.grad = m.tensor(grad).to(param.dtype)
            optimizer.step()
        state = optimizer.state[param]
        results.append([t.detach().float().numpy() for t in (param, state["exp_avg"], state["exp_avg_sq"])])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize(
    "options", [{}, {"momentum": 0.9, "nesterov": True}, {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}]
)
def test_sgd_steps_on_16_bit_parameters_as_torch(dtype, options):
    """PyTorch's single-tensor SGD on 16-bit parameters rounds after each tensor operation, computed in
    float32 with ``add``'s alpha rounded to the type; ember's multiply-adds rounded the product to the
    16-bit type as well, and a third to a half of the elements ended a unit off after five steps. Now
    the rare element whose float32 sum lands on a rounding boundary may differ (at most 1 in 100)."""
    rng = np.random.default_rng(7)
    start = rng.standard_normal((64, 33)).astype(np.float32)
    grads = [rng.standard_normal((64, 33)).astype(np.float32) for _ in range(5)]
    results = []
    for m in (ember, torch):
        param = m.tensor(start).to(getattr(m, dtype)).requires_grad_()
        optimizer = m.optim.SGD([param], lr=0.1, foreach=False, **options)
        for grad in grads:
            param.grad = m.tensor(grad).to(param.dtype)
            optimizer.step()
        results.append(param.detach().float().numpy())
    ours, theirs = results
    assert np.count_nonzero(ours != theirs) <= ours.size // 100
    np.testing.assert_allclose(ours, theirs, rtol=2**-6, atol=0)
