"""nn.utils.clip_grad_norm_/clip_grad_value_ and weight_norm/remove_weight_norm vs torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import to_torch

import ember
from ember import nn

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(3)


def _params_with_grads(device, scale=1.0):
    arrays = [_rng.standard_normal((3, 4)), _rng.standard_normal(5), _rng.standard_normal((2, 2, 2))]
    grads = [a * scale for a in (_rng.standard_normal(x.shape) for x in arrays)]
    pe, pt = [], []
    for a, g in zip(arrays, grads):
        p = nn.Parameter(ember.tensor(a, device=device))
        p.grad = ember.tensor(g, device=device)
        q = torch.nn.Parameter(torch.tensor(a))
        q.grad = torch.tensor(g)
        pe.append(p)
        pt.append(q)
    return pe, pt


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, device):
    pe, pt = _params_with_grads(device)
    total_e = nn.utils.clip_grad_norm_(pe, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=norm_type)
    assert isinstance(total_e, ember.Tensor)
    assert float(total_e) == pytest.approx(total_t.item(), rel=1e-10)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=1e-10)


def test_clip_grad_norm_of_a_parameters_generator_matches_torch(device):
    # model.parameters() is a generator: the norm and the scaling must both see every gradient
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    gw, gb = 4 * rng.standard_normal((3, 4)), 4 * rng.standard_normal(3)
    lin_e, lin_t = nn.Linear(4, 3).to(device).double(), torch.nn.Linear(4, 3).double()
    for mod, lib, dev in ((lin_e, ember, device), (lin_t, torch, "cpu")):
        with lib.no_grad():
            mod.weight.copy_(lib.tensor(w, device=dev))
            mod.bias.copy_(lib.tensor(b, device=dev))
        mod.weight.grad, mod.bias.grad = lib.tensor(gw, device=dev), lib.tensor(gb, device=dev)
    total_e = nn.utils.clip_grad_norm_(lin_e.parameters(), 1.0)
    total_t = torch.nn.utils.clip_grad_norm_(lin_t.parameters(), 1.0)
    assert float(total_e) == pytest.approx(total_t.item(), rel=1e-12)
    assert total_t.item() > 1.0  # so the gradients were scaled
    for pe, pt in zip(lin_e.parameters(), lin_t.parameters()):
        np.testing.assert_allclose(pe.grad.cpu().numpy(), pt.grad.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_single_tensor_none_grads_and_errors():
    p = nn.Parameter(ember.ones(3))
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == 0.0  # no gradient at all
    p.grad = ember.tensor([3.0, 4.0, 0.0])
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    p.grad = ember.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        nn.utils.clip_grad_norm(iter([p]), 1.0)


def test_clip_grad_value_matches_torch(device):
    pe, pt = _params_with_grads(device, scale=3.0)
    nn.utils.clip_grad_value_(iter(pe), 0.7)
    torch.nn.utils.clip_grad_value_(pt, 0.7)
    for a, b in zip(pe, pt):
        np.testing.assert_array_equal(a.grad.cpu().numpy(), b.grad.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_matches_torch(dim, device):
    lin_t = torch.nn.Linear(4, 3).double()
    lin_e = nn.Linear(4, 3).double().to(device)
    with ember.no_grad():
        lin_e.weight.copy_(ember.tensor(lin_t.weight.detach().numpy()))
        lin_e.bias.copy_(ember.tensor(lin_t.bias.detach().numpy()))
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(lin_t, dim=dim)
    assert nn.utils.weight_norm(lin_e, dim=dim) is lin_e
    assert [n for n, _ in lin_e.named_parameters()] == [n for n, _ in lin_t.named_parameters()]
    assert lin_e.weight_g.shape == lin_t.weight_g.shape
    np.testing.assert_allclose(lin_e.weight_g.detach().cpu().numpy(), lin_t.weight_g.detach().numpy(), rtol=1e-12)
    x = _rng.standard_normal((5, 4))
    out_e = lin_e(ember.tensor(x, device=device))
    out_t = lin_t(torch.tensor(x))
    np.testing.assert_allclose(out_e.detach().cpu().numpy(), out_t.detach().numpy(), rtol=1e-10)
    (out_e**2).sum().backward()
    (out_t**2).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(
            getattr(lin_e, name).grad.cpu().numpy(), getattr(lin_t, name).grad.numpy(), rtol=1e-9, atol=1e-12
        )
    # Updating g and v changes the weight at the next forward.
    with ember.no_grad():
        lin_e.weight_g.mul_(2)
    lin_e(ember.tensor(x, device=device))
    np.testing.assert_allclose(lin_e.weight.detach().cpu().numpy(), 2 * lin_t.weight.detach().numpy(), rtol=1e-10)
    nn.utils.remove_weight_norm(lin_e)
    assert [n for n, _ in lin_e.named_parameters()] == ["bias", "weight"]
    assert isinstance(lin_e.weight, nn.Parameter) and not lin_e._forward_pre_hooks
    np.testing.assert_allclose(to_torch(lin_e.weight).numpy(), 2 * lin_t.weight.detach().numpy(), rtol=1e-10)


def test_weight_norm_errors():
    lin = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(lin)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        nn.utils.remove_weight_norm(lin, "bias")
    assert "weight_g" in lin.state_dict() and "weight" not in lin.state_dict()
