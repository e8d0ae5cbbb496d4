"""End to end: a 3-layer MLP trained by ember follows the same loss curve as the same model in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn, optim

torch = pytest.importorskip("torch")


def _models():
    torch.manual_seed(0)
    model_t = torch.nn.Sequential(
        torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)
    ).double()
    model_e = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)).double()
    model_e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in model_t.state_dict().items()})
    return model_e, model_t


@pytest.mark.parametrize("opt_name,kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 1e-3})])
def test_mlp_training_matches_torch(opt_name, kwargs, device):
    rng = np.random.default_rng(0)
    x_all = rng.standard_normal((100 * 16, 10))
    y_all = (x_all[:, :4] @ rng.standard_normal((4, 4))).argmax(axis=1)
    model_e, model_t = _models()
    model_e.to(device)
    opt_e = getattr(optim, opt_name)(model_e.parameters(), **kwargs)
    opt_t = getattr(torch.optim, opt_name)(model_t.parameters(), **kwargs)
    loss_e_fn, loss_t_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    losses_e, losses_t = [], []
    for step in range(100):
        xb, yb = x_all[step * 16 : (step + 1) * 16], y_all[step * 16 : (step + 1) * 16]
        opt_e.zero_grad()
        loss_e = loss_e_fn(model_e(ember.tensor(xb, device=device)), ember.tensor(yb, device=device))
        loss_e.backward()
        opt_e.step()
        opt_t.zero_grad()
        loss_t = loss_t_fn(model_t(torch.tensor(xb)), torch.tensor(yb))
        loss_t.backward()
        opt_t.step()
        losses_e.append(loss_e.item())
        losses_t.append(loss_t.item())
    np.testing.assert_allclose(losses_e, losses_t, rtol=1e-4)
    assert losses_e[-1] < losses_e[0]
    for (name, pe), (_, pt) in zip(model_e.named_parameters(), model_t.named_parameters()):
        np.testing.assert_allclose(pe.detach().cpu().numpy(), pt.detach().numpy(), rtol=1e-6, atol=1e-8, err_msg=name)
