"""The families, transforms and KL pairs of torch.distributions added after the first 35 (Weibull,
Pareto, InverseGamma, VonMises, ContinuousBernoulli, FisherSnedecor, Kumaraswamy, LKJCholesky, Wishart,
LogisticNormal, GeneralizedPareto, ExponentialFamily) against torch's, on every device of
EMBER_TEST_DEVICES.

The checks are test_distributions.py's, run over this file's table of cases (``CASES``) and pairs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import test_distributions as base
from reference import assert_close
from test_distributions import Case, _normal, _positive, _unit

import ember
import ember.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions


CASES = {
    "Weibull": Case(
        "Weibull",
        {"scale": _positive(2, 3), "concentration": _positive(2, 3)},
        _positive(4, 2, 3),
        _unit(2, 3),
        ("mode", "cdf", "icdf"),
    ),
    "Weibull-scalar": Case("Weibull", {"scale": 1.5, "concentration": 0.8}, _positive(5), _unit(5), ("cdf", "icdf")),
    "Pareto": Case(
        "Pareto",
        {"scale": _positive(3), "alpha": np.array([4.5, 6.0, 9.0])},
        2.0 + _positive(2, 3),
        _unit(3),
        ("mode", "cdf", "icdf"),
    ),
    "InverseGamma": Case(
        "InverseGamma",
        {"concentration": np.array([5.0, 6.5, 9.0]), "rate": _positive(3)},
        _positive(4, 3),
        methods=("mode",),
    ),
    "VonMises": Case(
        "VonMises",
        {"loc": _normal(4), "concentration": np.array([0.3, 2.0, 3.75, 40.0])},
        _normal(3, 4) * 3,
        methods=("mode",),
        moments=False,  # circular moments: test_von_mises_circular_moments
        without=("entropy",),
    ),
    "ContinuousBernoulli-probs": Case(
        "ContinuousBernoulli",
        {"probs": np.array([0.05, 0.3, 0.4995, 0.5005, 0.8])},
        _unit(3, 5),
        _unit(5),
        ("cdf", "icdf"),
    ),
    "ContinuousBernoulli-logits": Case(
        # logits away from (-0.2, 0.2) but outside the Taylor region, where float32 cancels (torch's too)
        "ContinuousBernoulli",
        {"logits": np.array([[-2.5, -0.6, 0.3], [0.9, 1.7, -0.25]])},
        _unit(2, 3),
        _unit(2, 3),
        ("cdf", "icdf"),
    ),
    "FisherSnedecor": Case(
        "FisherSnedecor",
        {"df1": np.array([3.0, 5.0, 8.0]), "df2": np.array([12.0, 15.0, 20.0])},
        _positive(2, 3),
        methods=("mode",),
        without=("entropy",),
    ),
    "Kumaraswamy": Case(
        "Kumaraswamy",
        {"concentration1": _positive(2, 3), "concentration0": _positive(2, 3)},
        _unit(4, 2, 3),
        _unit(2, 3),
        ("cdf", "icdf"),  # mode: test_heavy_tails_and_undefined_moments_match_torch
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, device, dtype, monkeypatch):
    monkeypatch.setitem(base.CASES, name, CASES[name])
    base.test_values_and_gradients_match_torch(name, device, dtype)


@pytest.mark.parametrize("name", list(CASES))
def test_sample_shapes_dtypes_and_devices(name, device, monkeypatch):
    monkeypatch.setitem(base.CASES, name, CASES[name])
    base.test_sample_shapes_dtypes_and_devices(name, device)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.moments])
def test_sample_moments_and_seeding(name, device, monkeypatch):
    monkeypatch.setitem(base.CASES, name, CASES[name])
    base.test_sample_moments_and_seeding(name, device)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, T: lib.Pareto(T([1.0, 2.0, 0.5]), T([0.5, 1.5, 2.5])),
        lambda lib, T: lib.InverseGamma(T([0.5, 1.5, 2.5]), T([1.0, 2.0, 0.5])),
        lambda lib, T: lib.FisherSnedecor(T([1.0, 2.0, 4.0]), T([1.5, 3.0, 4.5])),
        lambda lib, T: lib.Kumaraswamy(T([0.5, 2.0, 3.0]), T([2.0, 0.7, 3.0])),
    ],
)
def test_heavy_tails_and_undefined_moments_match_torch(make, device):
    """inf and nan where a moment does not exist, as torch's (values only: ember's clamp and where
    propagate a nan gradient from the unselected branch where torch's give 0)."""
    e_dist, t_dist = make(D, lambda v: ember.tensor(v, device=device)), make(TD, torch.tensor)
    for method in ("mean", "variance", "mode", "entropy"):
        try:
            expected = t_dist.entropy() if method == "entropy" else getattr(t_dist, method)
        except NotImplementedError:
            continue
        actual = e_dist.entropy() if method == "entropy" else getattr(e_dist, method)
        assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=method)


def test_von_mises_circular_moments(device):
    """E[cos(x - loc)] = 1 - circular variance and E[sin(x - loc)] = 0, the draws within (-pi, pi]."""
    loc = ember.tensor([0.5, -3.0, 3.0, 0.0], device=device)
    concentration = ember.tensor([1e-4, 0.7, 5.0, 60.0], device=device)
    dist, n = D.VonMises(loc, concentration), 20000
    ember.manual_seed(1)
    draws = dist.sample((n,))
    assert draws.dtype == ember.float32 and tuple(draws.shape) == (n, 4)
    assert bool((draws.abs() <= math.pi + 1e-6).all())
    cos, sin = (draws - loc).cos(), (draws - loc).sin()
    expected = (1 - dist.variance).cpu().numpy()
    assert np.all(np.abs(cos.mean(0).cpu().numpy() - expected) < 6 * cos.std(0).cpu().numpy() / np.sqrt(n) + 1e-4)
    assert np.all(np.abs(sin.mean(0).cpu().numpy()) < 6 * sin.std(0).cpu().numpy() / np.sqrt(n) + 1e-4)


@pytest.mark.parametrize(
    "cls,arrays",
    [
        ("Weibull", {"scale": _positive(2), "concentration": _positive(2)}),
        ("Pareto", {"scale": _positive(2), "alpha": _positive(2)}),
        ("Kumaraswamy", {"concentration1": _positive(3), "concentration0": _positive(3)}),
        ("ContinuousBernoulli", {"probs": np.array([0.2, 0.7, 0.9])}),
        ("ContinuousBernoulli", {"logits": _normal(3)}),
    ],
)
def test_rsample_gradcheck(cls, arrays, device):
    base.test_rsample_gradcheck(cls, arrays, device)


def test_gamma_based_rsample_gradients(device):
    """InverseGamma and FisherSnedecor draws carry the implicit gradients of their gamma draws:
    d/drate E[1/X] = 1/(concentration - 1), and the F draws' gradients are finite."""
    dtype = ember.float64 if ember.backends.get_backend(device).supports_float64 else ember.float32
    concentration = ember.tensor([4.0, 6.0], dtype=dtype, device=device, requires_grad=True)
    rate = ember.tensor([2.0, 0.5], dtype=dtype, device=device, requires_grad=True)
    ember.manual_seed(4)
    D.InverseGamma(concentration, rate).rsample((20000,)).mean(0).sum().backward()
    np.testing.assert_allclose(rate.grad.cpu().numpy(), [1 / 3, 1 / 5], rtol=0.05)
    np.testing.assert_allclose(concentration.grad.cpu().numpy(), [-2 / 9, -0.5 / 25], rtol=0.1)
    df1 = ember.tensor([3.0, 7.0], dtype=dtype, device=device, requires_grad=True)
    df2 = ember.tensor([5.0, 9.0], dtype=dtype, device=device, requires_grad=True)
    draws = D.FisherSnedecor(df1, df2).rsample((50,))
    assert bool((draws > 0).all())
    draws.sum().backward()
    assert bool(ember.isfinite(df1.grad).all()) and bool(ember.isfinite(df2.grad).all())


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, T: lib.Weibull(T([0.0]), T([1.0])),
        lambda lib, T: lib.Weibull(T([1.0]), T([-1.0])),
        lambda lib, T: lib.Weibull(T([1.0]), T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.Pareto(T([-1.0]), T([1.0])),
        lambda lib, T: lib.Pareto(T([1.0]), T([1.0])).log_prob(T([0.5])),
        lambda lib, T: lib.InverseGamma(T([0.0]), T([1.0])),
        lambda lib, T: lib.InverseGamma(T([1.0]), T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.VonMises(T([0.0]), T([0.0])),
        lambda lib, T: lib.VonMises(T([0.0]), T([1.0])).log_prob(T([float("nan")])),
        lambda lib, T: lib.VonMises(T([0.0]), T([1.0])).entropy(),
        lambda lib, T: lib.ContinuousBernoulli(T([0.5]), T([0.0])),
        lambda lib, T: lib.ContinuousBernoulli(),
        lambda lib, T: lib.ContinuousBernoulli(T([1.5]), validate_args=True),
        lambda lib, T: lib.ContinuousBernoulli(T([0.5])).log_prob(T([1.5])),
        lambda lib, T: lib.FisherSnedecor(T([1.0]), T([0.0])),
        lambda lib, T: lib.FisherSnedecor(T([1.0]), T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.Kumaraswamy(T([1.0]), T([-1.0])),
        lambda lib, T: lib.Kumaraswamy(T([1.0]), T([1.0])).log_prob(T([1.5])),
    ],
)
def test_validation_errors_match_torch(make, device):
    base.test_validation_errors_match_torch(make, device)


def _pareto():
    return {"scale": _positive(3), "alpha": np.array([2.5, 4.0, 6.0])}


def _cb():
    return {"probs": np.array([0.2, 0.4995, 0.7])}


def _loc_scale():
    return {"loc": _normal(3), "scale": _positive(3)}


KL_PAIRS = [
    ("ContinuousBernoulli", _cb(), "ContinuousBernoulli", {"logits": _normal(3)}),
    ("Pareto", _pareto(), "Pareto", {"scale": _positive(3) * 0.5, "alpha": _positive(3)}),
    (
        "Pareto",
        {"scale": np.array([0.5, 2.0]), "alpha": _positive(2)},
        "Pareto",
        {"scale": np.array([1.0, 1.0]), "alpha": _positive(2)},
    ),
    ("Beta", {"concentration1": _positive(3), "concentration0": _positive(3)}, "ContinuousBernoulli", _cb()),
    ("ContinuousBernoulli", _cb(), "Exponential", {"rate": _positive(3)}),
    ("ContinuousBernoulli", _cb(), "Normal", _loc_scale()),
    (
        "ContinuousBernoulli",
        _cb(),
        "Uniform",
        {"low": np.array([-1.0, 0.5, -0.5]), "high": np.array([2.0, 2.0, 0.8])},
    ),
    (
        "Uniform",
        {"low": np.array([0.1, 0.0, 0.3]), "high": np.array([0.9, 0.5, 1.2])},
        "ContinuousBernoulli",
        {"logits": _normal(3)},
    ),
    ("Pareto", {"scale": _positive(3), "alpha": np.array([0.5, 1.5, 3.0])}, "Exponential", {"rate": _positive(3)}),
    (
        "Pareto",
        {"scale": _positive(3), "alpha": np.array([0.5, 1.5, 3.0])},
        "Gamma",
        {"concentration": _positive(3), "rate": _positive(3)},
    ),
    ("Pareto", {"scale": _positive(3), "alpha": np.array([1.5, 2.5, 4.0])}, "Normal", _loc_scale()),
    (
        "Uniform",
        {"low": np.array([1.0, 0.2, 2.0]), "high": np.array([2.0, 3.0, 2.5])},
        "Pareto",
        {"scale": np.array([0.5, 0.5, 1.0]), "alpha": _positive(3)},
    ),
]


@pytest.mark.parametrize("pair", KL_PAIRS, ids=[f"{p[0]}-{p[2]}" for p in KL_PAIRS])
def test_kl_divergence_matches_torch(pair, device, dtype):
    base.test_kl_divergence_matches_torch(pair, device, dtype)


@pytest.mark.parametrize(
    "p,q",
    [
        (lambda lib, T: lib.Normal(T([0.0]), T([1.0])), lambda lib, T: lib.Pareto(T([1.0]), T([1.0]))),
        (lambda lib, T: lib.Gamma(T([2.0]), T([1.0])), lambda lib, T: lib.ContinuousBernoulli(T([0.3]))),
        (lambda lib, T: lib.Pareto(T([1.0]), T([2.0])), lambda lib, T: lib.Uniform(T([0.0]), T([5.0]))),
        (lambda lib, T: lib.Pareto(T([1.0]), T([2.0])), lambda lib, T: lib.Beta(T([2.0]), T([1.0]))),
        (lambda lib, T: lib.ContinuousBernoulli(T([0.3])), lambda lib, T: lib.Pareto(T([1.0]), T([1.0]))),
        (lambda lib, T: lib.Beta(T([2.0]), T([1.0])), lambda lib, T: lib.Pareto(T([1.0]), T([1.0]))),
        (lambda lib, T: lib.Gumbel(T([0.0]), T([1.0])), lambda lib, T: lib.ContinuousBernoulli(T([0.3]))),
    ],
)
def test_kl_support_mismatch_is_infinite_as_torch(p, q, device):
    base.test_kl_support_mismatch_is_infinite_as_torch(p, q, device)


def test_exponential_family_entropy_and_kl_by_bregman_divergence(device, dtype):
    """The base class's entropy and KL (autograd through the log-normalizer) against the closed forms
    and torch's base-class methods, with gradients."""
    probs = np.array([0.1, 0.35, 0.7, 0.95])
    e_probs = ember.tensor(probs, dtype=dtype, device=device, requires_grad=True)
    t_probs = torch.tensor(probs, dtype=getattr(torch, dtype.name), requires_grad=True)
    e_p, t_p = D.ContinuousBernoulli(e_probs), TD.ContinuousBernoulli(t_probs)
    e_q, t_q = D.ContinuousBernoulli(logits=e_probs.flip(0) * 2), TD.ContinuousBernoulli(logits=t_probs.flip(0) * 2)
    assert isinstance(e_p, D.ExponentialFamily)
    tol = 1e-4 if dtype == ember.float32 else 1e-9
    e_entropy, t_entropy = D.ExponentialFamily.entropy(e_p), TD.ExponentialFamily.entropy(t_p)
    assert_close(e_entropy, t_entropy, dtype, rtol=tol, atol=tol, what="entropy")
    assert_close(e_entropy, e_p.entropy(), dtype, rtol=10 * tol, atol=10 * tol, what="closed form")
    kl = D.kl.__dict__["_kl_expfamily_expfamily"]
    e_kl, t_kl = kl(e_p, e_q), TD.kl._kl_expfamily_expfamily(t_p, t_q)
    assert_close(e_kl, t_kl, dtype, rtol=tol, atol=tol, what="kl")
    (e_entropy.sum() + e_kl.sum()).backward()
    (t_entropy.sum() + t_kl.sum()).backward()
    assert_close(e_probs.grad, t_probs.grad, dtype, rtol=10 * tol, atol=10 * tol, what="grad")
    with pytest.raises(NotImplementedError, match="different exponential families"):
        kl(e_p, D.ExponentialFamily(e_p.batch_shape, validate_args=False))


def test_kl_registrations_cover_torchs_for_the_new_families():
    new = {TD.ContinuousBernoulli, TD.Pareto, TD.ExponentialFamily}
    for t_p, t_q in TD.kl._KL_REGISTRY:
        if t_p in new or t_q in new:
            e_p, e_q = getattr(D, t_p.__name__), getattr(D, t_q.__name__)
            assert (e_p, e_q) in D.kl._KL_REGISTRY, (t_p.__name__, t_q.__name__)
