"""Autocast regions against PyTorch on cpu: nesting (another dtype inside, ``enabled=False``
inside), the decorator form, the state after an exception, and a small Linear + LayerNorm +
cross_entropy training loop under ``autocast("cpu", bfloat16)`` with a GradScaler whose loss
curve follows PyTorch's; the same loop under ``autocast("cuda")`` (float16 and bfloat16) on a GPU
against PyTorch's CUDA build, where both are present.

They run on each device of EMBER_TEST_DEVICES that follows the cpu policy table (cpu, and the
restricted backend through its ``autocast_device_type``); OpenCL is left out (no bfloat16, and no
PyTorch autocast of its kind to compare with).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember
import ember.nn.functional as F
from ember.amp.state import state

pytest.importorskip("ml_dtypes")


def _name(t):
    return str(t.dtype).replace("torch.", "").replace("ember.", "")


def _region_trace(m, device_type, x, w, device=None):
    """The output dtypes of mm (lower precision) and mse_loss (float32) through nested regions."""
    seen = []

    def step(tag):
        seen.append((tag, _name(m.mm(x, w)), _name(m.nn.functional.mse_loss(x, x)), m.is_autocast_enabled(device_type)))

    @m.autocast(device_type, dtype=m.float16)
    def decorated():
        step("decorated")

    step("outside")
    with m.autocast(device_type, dtype=m.bfloat16):
        step("bf16")
        with m.autocast(device_type, enabled=False):
            step("disabled")
            with m.autocast(device_type, dtype=m.float16):
                step("fp16 in disabled")
            step("disabled again")
        decorated()
        step("bf16 again")
        try:
            with m.autocast(device_type, enabled=False):
                raise KeyError("leaves the region")
        except KeyError:
            pass
        step("bf16 after an exception")
    step("outside again")
    return seen


def test_nested_regions_match_torch(amp_device):
    device, device_type = amp_device
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)
    got = _region_trace(ember, device_type, ember.tensor(a, device=device), ember.tensor(b, device=device))
    want = _region_trace(torch, "cpu", torch.tensor(a), torch.tensor(b))
    assert got == want
    assert not state.active and not state.dtypes


def test_mixed_operands_in_a_disabled_region_raise_as_torch(amp_device):
    device, device_type = amp_device
    with torch.autocast("cpu"):
        y = torch.mm(torch.ones(2, 2), torch.ones(2, 2))
        with torch.autocast("cpu", enabled=False), pytest.raises(RuntimeError):
            torch.mm(y, torch.ones(2, 2))
    with ember.autocast(device_type):
        y = ember.mm(ember.ones(2, 2, device=device), ember.ones(2, 2, device=device))
        assert y.dtype is ember.bfloat16
        with ember.autocast(device_type, enabled=False), pytest.raises(RuntimeError):
            ember.mm(y, ember.ones(2, 2, device=device))


def test_an_op_that_raises_leaves_the_region_on(amp_device):
    """An op runs with autocast suspended inside; an error inside it restores the region."""
    device, device_type = amp_device
    x = ember.randn(2, 3, device=device)
    with ember.autocast(device_type):
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            F.linear(x, ember.randn(4, 5, device=device))
        assert state.active
        assert F.linear(x, ember.randn(4, 3, device=device)).dtype is ember.bfloat16
    assert not state.active


def _train(m, device, device_type, params, data, steps, dtype="bfloat16"):
    """Loss per step of Linear -> LayerNorm -> ReLU -> Linear with cross_entropy, under autocast
    ``dtype`` with a GradScaler and SGD with momentum; also the dtype of the hidden activations."""
    w1, b1, g, beta, w2, b2 = (m.tensor(p, requires_grad=True, **device) for p in params)
    x, target = m.tensor(data[0], **device), m.tensor(data[1], **device)
    opt = m.optim.SGD([w1, b1, g, beta, w2, b2], lr=0.1, momentum=0.9)
    scaler = m.amp.GradScaler(device_type, init_scale=2.0**10, growth_interval=5)
    f = m.nn.functional
    losses, scales = [], []
    for _ in range(steps):
        opt.zero_grad()
        with m.autocast(device_type, dtype=getattr(m, dtype)):
            h = f.relu(f.layer_norm(f.linear(x, w1, b1), (w1.shape[0],), g, beta))
            loss = f.cross_entropy(f.linear(h, w2, b2), target)
        assert loss.dtype == m.float32
        scaler.scale(loss).backward()
        assert w1.grad.dtype == m.float32
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
        scales.append(scaler.get_scale())
    return np.array(losses), scales, _name(h)


def _problem():
    rng = np.random.default_rng(11)
    params = [
        rng.standard_normal((32, 16)).astype(np.float32) / 4,
        np.zeros(32, np.float32),
        np.ones(32, np.float32),
        np.zeros(32, np.float32),
        rng.standard_normal((5, 32)).astype(np.float32) / 6,
        np.zeros(5, np.float32),
    ]
    x = rng.standard_normal((64, 16)).astype(np.float32)
    return params, (x, (x[:, :5].argmax(1)).astype(np.int64))


def test_training_loop_follows_torch(amp_device):
    """Over 40 steps the bfloat16 loss curve stays within 5e-3 + 2% of PyTorch's at every step (seen:
    1.8e-3 at most, the loss falling from 1.81 to 0.0096); the scaler's scale grows in step."""
    device, device_type = amp_device
    params, data = _problem()
    got, got_scales, got_hidden = _train(ember, {"device": device}, device_type, params, data, 40)
    want, want_scales, want_hidden = _train(torch, {}, "cpu", params, data, 40)
    assert want[-1] < 0.1 * want[0]
    assert got_hidden == want_hidden == "bfloat16"
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=5e-3)
    assert got_scales == want_scales


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_training_loop_follows_torch_on_cuda(device, dtype):
    """The same loop under ``autocast("cuda", dtype)`` and ``GradScaler("cuda")`` on a GPU, against
    PyTorch's CUDA build on the same GPU (the lent GPU machine has one): same loss curve within the
    tolerance above, same scales, same hidden dtype (CUDA's policy runs layer_norm in float32)."""
    if not device.startswith("cuda"):
        pytest.skip("a CUDA device's autocast")
    if not torch.cuda.is_available():
        pytest.skip("the reference needs PyTorch with CUDA")
    params, data = _problem()
    got, got_scales, got_hidden = _train(ember, {"device": device}, "cuda", params, data, 40, dtype)
    want, want_scales, want_hidden = _train(torch, {"device": "cuda"}, "cuda", params, data, 40, dtype)
    assert want[-1] < 0.1 * want[0]
    assert got_hidden == want_hidden
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=5e-3)
    assert got_scales == want_scales


def test_a_device_type_without_a_policy_table_warns_and_disables():
    """No silent no-op: a device type whose backend follows no table (or that no backend serves)
    leaves autocast off with a warning, as an unsupported dtype does."""
    with pytest.warns(UserWarning, match="no autocast policy for device type 'xpu'"), ember.autocast("xpu"):
        assert not ember.is_autocast_enabled("xpu")
    assert not state.active
