"""nn.init: exact fan/gain arithmetic vs torch, statistics of the random schemes, deterministic ones exactly."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.nn import init

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (6, 3, 2, 2), (2, 3, 1, 2, 2)])
def test_fan_in_and_fan_out(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(*shape)
    )


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize(
    "nonlinearity,param",
    [
        ("linear", None),
        ("conv2d", None),
        ("conv_transpose3d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu", None),
    ],
)
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def _check_uniform(t, low, high):
    a = _np(t)
    assert a.min() >= low and a.max() <= high
    assert abs(a.mean() - (low + high) / 2) < 0.05 * (high - low)
    assert abs(a.std() - (high - low) / math.sqrt(12)) < 0.05 * (high - low)


def _check_normal(t, mean, std):
    a = _np(t)
    assert abs(a.mean() - mean) < 0.05 * std + 1e-3
    assert abs(a.std() - std) < 0.05 * std


def test_uniform_normal_constant(device):
    t = ember.empty(200, 100, device=device)
    assert init.uniform_(t, -2, 3) is t
    _check_uniform(t, -2, 3)
    init.normal_(t, 1.5, 0.5)
    _check_normal(t, 1.5, 0.5)
    init.constant_(t, 0.25)
    assert np.all(_np(t) == 0.25)
    init.ones_(t)
    assert np.all(_np(t) == 1)
    init.zeros_(t)
    assert np.all(_np(t) == 0)


def test_runs_under_no_grad_on_parameters(device):
    w = ember.nn.Parameter(ember.empty(50, 40, device=device))
    for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_, init.trunc_normal_):
        assert fn(w) is w
        assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_xavier_and_kaiming(device):
    t = ember.empty(300, 200, device=device)
    gain = 2.0
    bound = gain * math.sqrt(6 / 500)
    init.xavier_uniform_(t, gain=gain)
    _check_uniform(t, -bound, bound)
    init.xavier_normal_(t, gain=gain)
    _check_normal(t, 0, gain * math.sqrt(2 / 500))
    init.kaiming_uniform_(t, a=0.1, mode="fan_out", nonlinearity="leaky_relu")
    bound = math.sqrt(3) * init.calculate_gain("leaky_relu", 0.1) / math.sqrt(300)
    _check_uniform(t, -bound, bound)
    init.kaiming_normal_(t, nonlinearity="relu")
    _check_normal(t, 0, math.sqrt(2) / math.sqrt(200))
    conv = ember.empty(64, 16, 3, 3, device=device)
    init.kaiming_uniform_(conv, a=math.sqrt(5))
    bound = math.sqrt(3) * init.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(16 * 9)
    _check_uniform(conv, -bound, bound)


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))


def test_trunc_normal(device):
    t = ember.empty(200, 200, device=device)
    init.trunc_normal_(t, mean=1.0, std=2.0, a=-1.0, b=2.0)
    a = _np(t)
    assert a.min() >= -1.0 and a.max() <= 2.0
    ref = torch.nn.init.trunc_normal_(torch.empty(200, 200, dtype=torch.float64), mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert abs(a.mean() - ref.mean().item()) < 0.02 and abs(a.std() - ref.std().item()) < 0.02
    init.trunc_normal_(t)  # standard normal cut at +-2
    a = _np(t)
    assert abs(a.std() - 0.8796) < 0.02 and abs(a.mean()) < 0.02
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(ember.empty(3), mean=10.0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape, device):
    t = ember.empty(*shape, device=device)
    init.orthogonal_(t, gain=1.5)
    flat = _np(t).reshape(shape[0], -1) / 1.5
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.empty(3))


def test_eye_and_dirac_exact(device):
    t = ember.empty(3, 5, device=device)
    init.eye_(t)
    np.testing.assert_array_equal(_np(t), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 3, 3), 4)]:
        e = init.dirac_(ember.empty(*shape, device=device), groups)
        np.testing.assert_array_equal(_np(e), torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ember.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(ember.empty(3, 2, 3), groups=2)


def test_sparse(device):
    t = ember.empty(10, 30, device=device)
    init.sparse_(t, sparsity=0.3, std=0.5)
    a = _np(t)
    assert np.all((a == 0).sum(axis=0) == 3)
    nonzero = a[a != 0]
    assert abs(nonzero.std() - 0.5) < 0.1
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(ember.empty(2, 2, 2), 0.1)


@pytest.mark.parametrize(
    "old,args",
    [
        ("uniform", ()),
        ("normal", ()),
        ("constant", (0.5,)),
        ("eye", ()),
        ("xavier_uniform", ()),
        ("xavier_normal", ()),
        ("kaiming_uniform", ()),
        ("kaiming_normal", ()),
        ("orthogonal", ()),
        ("sparse", (0.1,)),
    ],
)
def test_classic_names_warn_and_work(old, args):
    t = ember.empty(4, 4)
    with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`"):
        assert getattr(init, old)(t, *args) is t
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.dirac_(ember.empty(2, 2, 3))
