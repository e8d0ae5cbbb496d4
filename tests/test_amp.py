"""Mixed precision against PyTorch: autocast's per-op output dtypes on cpu (bfloat16), GradScaler,
and an autocast + GradScaler training loop that follows PyTorch's loss curve."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, torch

import ember
import ember.nn.functional as F
from ember import nn

pytest.importorskip("ml_dtypes")
TF = torch.nn.functional
_rng = np.random.default_rng(21)
X, W, B = (_rng.standard_normal(s).astype(np.float32) for s in ((4, 8), (6, 8), (6,)))
IMG, K = _rng.standard_normal((2, 3, 5, 5)).astype(np.float32), _rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
TARGET = np.array([0, 1, 2, 3])

# name -> fn(module namespace, functional namespace, x); run under autocast in both frameworks
OPS = {
    "matmul": lambda m, f, x: x @ m.tensor(W).t(),
    "mm": lambda m, f, x: m.mm(x, m.tensor(W).t()),
    "bmm": lambda m, f, x: m.bmm(x[None], m.tensor(W).t()[None]),
    "addmm": lambda m, f, x: m.addmm(m.tensor(B), x, m.tensor(W).t()),
    "baddbmm": lambda m, f, x: m.baddbmm(m.tensor(B)[None, None], x[None], m.tensor(W).t()[None]),
    "linear": lambda m, f, x: f.linear(x, m.tensor(W), m.tensor(B)),
    "conv2d": lambda m, f, x: f.conv2d(m.tensor(IMG), m.tensor(K), m.tensor(B[:4])),
    "conv_transpose2d": lambda m, f, x: f.conv_transpose2d(m.tensor(IMG), m.tensor(K).transpose(0, 1)),
    "sdpa": lambda m, f, x: f.scaled_dot_product_attention(x[None], x[None], x[None]),
    "softmax": lambda m, f, x: f.softmax(x, -1),
    "layer_norm": lambda m, f, x: f.layer_norm(x, (8,)),
    "relu": lambda m, f, x: f.relu(x),
    "exp": lambda m, f, x: x.exp(),
    "add_float32": lambda m, f, x: x + m.ones(8),
    "cross_entropy": lambda m, f, x: f.cross_entropy(x, m.tensor(TARGET)),
    "nll_loss": lambda m, f, x: f.nll_loss(x, m.tensor(TARGET)),
    "mse_loss": lambda m, f, x: f.mse_loss(x, m.tensor(X)),
    "l1_loss": lambda m, f, x: f.l1_loss(x, m.tensor(X)),
    "smooth_l1_loss": lambda m, f, x: f.smooth_l1_loss(x, m.tensor(X)),
    "huber_loss": lambda m, f, x: f.huber_loss(x, m.tensor(X)),
    "bce": lambda m, f, x: f.binary_cross_entropy(x.sigmoid(), m.tensor(X).sigmoid()),
    "bce_with_logits": lambda m, f, x: f.binary_cross_entropy_with_logits(x, m.tensor(X).sigmoid()),
    "kl_div": lambda m, f, x: f.kl_div(x, m.tensor(X).sigmoid(), reduction="batchmean"),
}


@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_autocast_output_dtypes_match_torch(name, input_dtype):
    fn = OPS[name]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = fn(torch, TF, torch.tensor(X).to(getattr(torch, input_dtype)))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got = fn(ember, F, ember.tensor(X).to(getattr(ember, input_dtype)))
    assert got.dtype.name == str(expected.dtype).replace("torch.", "")
    assert_close(got.float(), expected.float(), rtol=3e-2, atol=3e-2)


def test_autocast_spellings_nesting_and_disabled():
    x = ember.randn(2, 4)
    w = ember.randn(3, 4)
    assert not ember.is_autocast_enabled("cpu")
    with ember.amp.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") is ember.bfloat16
        assert F.linear(x, w).dtype is ember.bfloat16
        with ember.autocast("cpu", enabled=False):
            assert F.linear(x, w).dtype is ember.float32
        assert F.linear(x, w).dtype is ember.bfloat16
    assert F.linear(x, w).dtype is ember.float32
    with ember.autocast("cuda"):  # another device type's region leaves cpu ops alone
        assert F.linear(x, w).dtype is ember.float32

    with pytest.warns(FutureWarning, match="is deprecated"), ember.cpu.amp.autocast():
        assert F.linear(x, w).dtype is ember.bfloat16
    with pytest.warns(FutureWarning, match="is deprecated"):
        assert ember.cpu.amp.GradScaler(init_scale=4.0).get_scale() == 4.0

    @ember.autocast("cpu")
    def run():
        return F.linear(x, w)

    assert run().dtype is ember.bfloat16
    # an unsupported dtype warns and disables the region, as torch.autocast does
    with pytest.warns(UserWarning, match="target dtype is not supported. Disabling autocast"):
        torch_region = torch.autocast("cpu", dtype=torch.float64)
    with pytest.warns(UserWarning, match="target dtype is not supported. Disabling autocast"):
        region = ember.autocast("cpu", dtype=ember.float64)
    with torch_region, region:
        assert ember.is_autocast_enabled("cpu") == torch.is_autocast_enabled("cpu") == False  # noqa: E712
        assert F.linear(x, w).dtype is ember.float32


def test_grad_scaler_unscale_skip_and_update():
    p = nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([p], lr=1.0)
    scaler = ember.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    tp = torch.nn.Parameter(torch.ones(3))
    topt = torch.optim.SGD([tp], lr=1.0)
    tscaler = torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    for step, bad in enumerate([False, False, True, False, False]):
        for param, o, s, lib in ((p, opt, scaler, ember), (tp, topt, tscaler, torch)):
            o.zero_grad()
            loss = (param * lib.tensor([1.0, 2.0, 3.0])).sum()
            if bad:
                loss = loss * float("inf")
            s.scale(loss).backward()
            s.unscale_(o)
            s.step(o)
            s.update()
        assert scaler.get_scale() == tscaler.get_scale(), f"step {step}"
        assert_close(p, tp.detach())
    state = scaler.state_dict()
    assert state == {k: v for k, v in tscaler.state_dict().items()}
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.get_scale() == scaler.get_scale()
    off = ember.amp.GradScaler("cpu", enabled=False)
    assert off.scale(ember.tensor(2.0)).item() == 2.0 and off.state_dict() == {} and off.get_scale() == 1.0
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
        scaler.unscale_(opt)


def test_grad_scaler_refuses_float16_gradients_as_torch():
    # a model.half() trained with a GradScaler: PyTorch refuses to unscale float16 gradients (and leaves
    # them as they are); bfloat16 ones are unscaled
    for dtype, refused in (("float16", True), ("bfloat16", False)):
        results = []
        for lib in (ember, torch):
            p = lib.nn.Parameter(lib.ones(3, dtype=getattr(lib, dtype)))
            opt = lib.optim.SGD([p], lr=1.0)
            scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
            scaler.scale((p * lib.tensor([1.0, 2.0, 3.0], dtype=p.dtype)).sum()).backward()
            if refused:
                with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
                    scaler.unscale_(opt)
            else:
                scaler.unscale_(opt)
            results.append(p.grad.float().tolist())
        assert results[0] == results[1]


def test_autocast_grad_scaler_training_follows_torch():
    """A small MLP classifier trained 30 steps under autocast (bfloat16) with a GradScaler."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 10)).astype(np.float32)
    labels = rng.integers(0, 3, 64)
    t_model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    e_model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1)
    e_opt = ember.optim.SGD(e_model.parameters(), lr=0.1)
    t_scaler, e_scaler = torch.amp.GradScaler("cpu", init_scale=1024.0), ember.amp.GradScaler("cpu", init_scale=1024.0)
    t_losses, e_losses = [], []
    for _ in range(30):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            t_loss = TF.cross_entropy(t_model(torch.tensor(data)), torch.tensor(labels))
        with ember.autocast("cpu", dtype=ember.bfloat16):
            e_loss = F.cross_entropy(e_model(ember.tensor(data)), ember.tensor(labels))
        assert e_loss.dtype is ember.float32
        for loss, opt, scaler, losses in ((t_loss, t_opt, t_scaler, t_losses), (e_loss, e_opt, e_scaler, e_losses)):
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
    np.testing.assert_allclose(e_losses, t_losses, rtol=3e-2, atol=3e-2)
    assert e_losses[-1] < e_losses[0]
