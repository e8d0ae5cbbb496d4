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


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_of_a_generator_clips(norm_type, device):
    """``clip_grad_norm_(model.parameters(), ...)``: the generator is read once for the norm and once for
    the scaling (ember once returned the norm and left the gradients unclipped)."""
    pe, pt = _params_with_grads(device)
    total_e = nn.utils.clip_grad_norm_((p for p in pe), 0.5, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_((p for p in pt), 0.5, norm_type=norm_type)
    assert float(total_e) == pytest.approx(total_t.item(), rel=1e-10)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=1e-10)
    model = nn.Linear(4, 3).to(device)
    model(ember.ones(2, 4, device=device)).sum().backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.1, norm_type=norm_type)
    assert float(nn.utils.get_total_norm([p.grad for p in model.parameters()], norm_type)) <= 0.1 + 1e-6
    for lib in (nn, torch.nn):
        with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur"):
            lib.utils.clip_grad_norm_((p for p in []), 1.0)


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
    with pytest.warns(FutureWarning, match="deprecated in favor of `ember.nn.utils.parametrizations.weight_norm`"):
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


@pytest.mark.filterwarnings("ignore:`ember.nn.utils.weight_norm` is deprecated")
def test_weight_norm_errors():
    lin = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(lin)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        nn.utils.remove_weight_norm(lin, "bias")
    assert "weight_g" in lin.state_dict() and "weight" not in lin.state_dict()
