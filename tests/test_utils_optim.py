"""NAdam, RAdam, Rprop and Adafactor against torch.optim: same start, same loss, same parameters after N steps."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from ember import nn, optim

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(11)
_X = _rng.standard_normal((6, 4))
_Y = _rng.standard_normal((6, 3))
_W = _rng.standard_normal((4, 3)) * 0.5
_B = _rng.standard_normal(3) * 0.1

VARIANTS = [
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("NAdam", {"lr": 0.01, "foreach": False}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1), "maximize": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0, "weight_decay": 0.1}),
    ("Adafactor", {"maximize": True, "foreach": False}),
]


def _pair(device, dtype):
    tdtype = getattr(torch, dtype)
    edtype = getattr(ember, dtype)
    pt = [torch.nn.Parameter(torch.tensor(_W, dtype=tdtype)), torch.nn.Parameter(torch.tensor(_B, dtype=tdtype))]
    pe = [
        nn.Parameter(ember.tensor(_W, dtype=edtype, device=device)),
        nn.Parameter(ember.tensor(_B, dtype=edtype, device=device)),
    ]
    return pe, pt


def _step(opt, lib, params, x, y):
    opt.zero_grad()
    w, b = params
    (((x @ w + b).tanh() - y) ** 2).sum().backward()
    opt.step()


def _run(opt_e, opt_t, pe, pt, device, dtype, steps):
    xe, ye = (
        ember.tensor(_X, dtype=getattr(ember, dtype), device=device),
        ember.tensor(_Y, dtype=getattr(ember, dtype), device=device),
    )
    xt, yt = torch.tensor(_X, dtype=getattr(torch, dtype)), torch.tensor(_Y, dtype=getattr(torch, dtype))
    for _ in range(steps):
        _step(opt_e, ember, pe, xe, ye)
        _step(opt_t, torch, pt, xt, yt)


def _close(pe, pt, dtype):
    tol = {"float64": (1e-10, 1e-10), "float32": (2e-5, 2e-5)}[dtype]
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("name,options", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_parameters_match_torch(device, name, options):
    dtype = "float64" if ember.device(device).type == "cpu" else "float32"
    pe, pt = _pair(device, dtype)
    opt_e, opt_t = getattr(optim, name)(pe, **options), getattr(torch.optim, name)(pt, **options)
    _run(opt_e, opt_t, pe, pt, device, dtype, 12)
    _close(pe, pt, dtype)
    assert opt_e.param_groups[0].keys() == opt_t.param_groups[0].keys()
    assert list(opt_e.defaults) == list(opt_t.defaults)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Rprop", "Adafactor"])
def test_state_dict_round_trip(device, name):
    dtype = "float32"
    pe, pt = _pair(device, dtype)
    opt_e, opt_t = getattr(optim, name)(pe, lr=0.01), getattr(torch.optim, name)(pt, lr=0.01)
    _run(opt_e, opt_t, pe, pt, device, dtype, 3)
    saved_e, saved_t = opt_e.state_dict(), opt_t.state_dict()
    assert saved_e["state"][0].keys() == saved_t["state"][0].keys()
    for key, value in saved_t["state"][0].items():
        np.testing.assert_allclose(saved_e["state"][0][key].cpu().numpy(), value.numpy(), rtol=2e-5, atol=2e-6)
    pe2, _ = _pair(device, dtype)
    for a, b in zip(pe2, pe):
        a.data.copy_(b.data)
    fresh = getattr(optim, name)(pe2, lr=0.5)
    fresh.load_state_dict(copy.deepcopy(saved_e))  # as from a file: no tensor shared
    assert fresh.param_groups[0]["lr"] == 0.01
    xe = ember.tensor(_X, dtype=ember.float32, device=device)
    ye = ember.tensor(_Y, dtype=ember.float32, device=device)
    for _ in range(3):
        _step(opt_e, ember, pe, xe, ye)
        _step(fresh, ember, pe2, xe, ye)
    for a, b in zip(pe, pe2):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


@pytest.mark.parametrize(
    "name,options",
    [
        ("NAdam", {"lr": -1.0}),
        ("NAdam", {"momentum_decay": -0.1}),
        ("NAdam", {"betas": (1.0, 0.9)}),
        ("RAdam", {"eps": -1.0}),
        ("RAdam", {"weight_decay": -1.0}),
        ("Rprop", {"etas": (1.5, 1.2)}),
        ("Rprop", {"lr": -0.1}),
        ("Adafactor", {"lr": -0.1}),
        ("Adafactor", {"beta2_decay": 0.5}),
        ("Adafactor", {"eps": (-1.0, 1e-3)}),
        ("Adafactor", {"d": 0.5}),
        ("Adafactor", {"weight_decay": -1.0}),
    ],
)
def test_invalid_options_match_torch(name, options):
    with pytest.raises(ValueError) as expected:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))], **options)
    with pytest.raises(ValueError) as got:
        getattr(optim, name)([nn.Parameter(ember.zeros(2))], **options)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Rprop", "Adafactor"])
def test_sparse_gradient_rejected(name):
    p = nn.Parameter(ember.zeros(3, 2))
    p.grad = ember.zeros(3, 2).to_sparse()
    with pytest.raises(RuntimeError, match=f"{name} does not support sparse gradients"):
        getattr(optim, name)([p]).step()
