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
from test_distributions import Case, _normal, _positive, _raises_like, _simplex, _spd, _unit

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
    "InverseGamma-cdf": Case(
        "InverseGamma",
        {"concentration": 3.0, "rate": _positive(3)},  # a number: Gamma.cdf has no concentration gradient
        _positive(4, 3),
        methods=("cdf",),
        moments=False,
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
    "LogisticNormal": Case(
        "LogisticNormal",
        {"loc": _normal(2, 3), "scale": _positive(2, 3)},
        _simplex(4, 2, 4),
        moments=False,  # test_logistic_normal_draws_are_normal_in_unconstrained_space
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "LogisticNormal-scalar": Case(
        "LogisticNormal",
        {"loc": 0.3, "scale": 1.5},
        _simplex(3, 2),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "GeneralizedPareto": Case(
        "GeneralizedPareto",
        {"loc": _normal(4), "scale": _positive(4), "concentration": np.array([-0.3, 0.0, 0.2, 0.4])},
        quantile=_unit(3, 4),
        methods=("mode", "icdf"),
        without=("log_prob",),  # test_generalized_pareto_density_matches_torch: torch's is float32-only
        draws=20000,
    ),
    "LKJCholesky": Case(
        "LKJCholesky",
        {"dim": 3, "concentration": np.array([0.5, 1.0, 2.5])},
        TD.transforms.CorrCholeskyTransform()(torch.tensor(_normal(4, 3, 3))).numpy(),
        moments=False,  # test_lkj_cholesky_correlations_have_the_lkj_marginals
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "LKJCholesky-scalar": Case(
        "LKJCholesky",
        {"dim": 4, "concentration": 0.7},
        TD.transforms.CorrCholeskyTransform()(torch.tensor(_normal(2, 6))).numpy(),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "Wishart-cov": Case(
        "Wishart",
        {"df": np.array([4.0, 6.5]), "covariance_matrix": _spd(2, 3, 3)},
        _spd(4, 2, 3, 3),
        methods=("mode",),
        draws=20000,
    ),
    "Wishart-precision": Case(
        "Wishart", {"df": np.array(5.0), "precision_matrix": _spd(3, 3)}, _spd(2, 3, 3), methods=("mode",), draws=20000
    ),
    "Wishart-tril": Case(
        "Wishart",
        {"df": 3.5, "scale_tril": np.linalg.cholesky(_spd(2, 2))},
        _spd(3, 2, 2),
        methods=("mode",),
        draws=20000,
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
        ("GeneralizedPareto", {"loc": _normal(3), "scale": _positive(3), "concentration": np.array([-0.2, 0.3, 0.6])}),
        ("LogisticNormal", {"loc": _normal(2, 3), "scale": _positive(2, 3)}),
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


def _beta():
    return {"concentration1": _positive(3), "concentration0": _positive(3)}


def _low_rank():
    return {"loc": _normal(2, 3), "cov_factor": _normal(3, 2), "cov_diag": _positive(3)}


def _scale_tril():
    tril = np.tril(_normal(3, 3), -1) + np.diag(_positive(3))
    return {"loc": _normal(3), "scale_tril": tril}


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
    # pairs ember had no KL for (NotImplementedError)
    ("Bernoulli", {"probs": np.array([0.0, 0.2, 1.0])}, "Poisson", {"rate": _positive(3)}),
    ("Beta", _beta(), "Exponential", {"rate": _positive(3)}),
    ("Beta", _beta(), "Gamma", {"concentration": _positive(3), "rate": _positive(3)}),
    ("Beta", _beta(), "Normal", _loc_scale()),
    ("Beta", _beta(), "Uniform", {"low": np.array([0.0, -1.0, 0.2]), "high": np.array([1.0, 2.0, 0.8])}),
    ("Exponential", {"rate": _positive(3)}, "Gumbel", _loc_scale()),
    ("Gamma", {"concentration": _positive(3), "rate": _positive(3)}, "Gumbel", _loc_scale()),
    ("Uniform", {"low": np.array([0.0, 0.2, -0.1]), "high": np.array([1.0, 0.7, 0.5])}, "Beta", _beta()),
    (
        "Uniform",
        {"low": np.array([0.0, 0.5, -1.0]), "high": np.array([1.0, 3.0, 2.0])},
        "Exponential",
        {"rate": _positive(3)},
    ),
    (
        "Uniform",
        {"low": np.array([0.0, 0.5, -1.0]), "high": np.array([1.0, 3.0, 2.0])},
        "Gamma",
        {"concentration": _positive(3), "rate": _positive(3)},
    ),
    ("Uniform", {"low": _normal(3), "high": _normal(3) + 3}, "Gumbel", _loc_scale()),
    ("LowRankMultivariateNormal", _low_rank(), "LowRankMultivariateNormal", _low_rank()),
    ("LowRankMultivariateNormal", _low_rank(), "MultivariateNormal", _scale_tril()),
    ("MultivariateNormal", _scale_tril(), "LowRankMultivariateNormal", _low_rank()),
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
    kl = D.kl._kl_expfamily_expfamily
    e_kl, t_kl = kl(e_p, e_q), TD.kl._kl_expfamily_expfamily(t_p, t_q)
    assert_close(e_kl, t_kl, dtype, rtol=tol, atol=tol, what="kl")
    (e_entropy.sum() + e_kl.sum()).backward()
    (t_entropy.sum() + t_kl.sum()).backward()
    assert_close(e_probs.grad, t_probs.grad, dtype, rtol=10 * tol, atol=10 * tol, what="grad")
    with pytest.raises(NotImplementedError, match="different exponential families"):
        kl(e_p, D.ExponentialFamily(e_p.batch_shape, validate_args=False))


def _gamma_cdf_derivatives(lib):
    a = lib.tensor([0.7, 2.0, 3.5], dtype=lib.float64)
    rate = lib.tensor([1.5, 0.5, 2.0], dtype=lib.float64, requires_grad=True)
    value = lib.tensor([0.3, 1.0, 2.5], dtype=lib.float64, requires_grad=True)
    cdf = lib.distributions.Gamma(a, rate).cdf(value)
    g_rate, g_value = lib.autograd.grad(cdf.sum(), [rate, value], create_graph=True)
    second = lib.autograd.grad(g_value.sum(), [value, rate])
    chi2 = lib.distributions.Chi2(a).cdf(value)
    (g_chi2,) = lib.autograd.grad(chi2.sum(), value)
    # a concentration that requires grad: the value as before, the error only when differentiating
    learned = lib.distributions.Gamma(a.clone().requires_grad_(), rate).cdf(value)
    with pytest.raises(NotImplementedError, match=r"^the derivative for 'igamma: input' is not implemented\.$"):
        learned.sum().backward()
    tensors = (cdf, g_rate, g_value, *second, chi2, g_chi2, learned)
    return [t.detach().numpy() if lib is torch else t.detach().cpu().numpy() for t in tensors]


def test_gamma_cdf_derivatives():
    # Gamma.cdf raised as soon as the concentration required grad (PyTorch computes it and raises
    # only in backward), and its x-derivative was a detached constant (no second derivative)
    for e, t in zip(_gamma_cdf_derivatives(ember), _gamma_cdf_derivatives(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_kl_registrations_cover_torchs():
    missing = [
        (t_p.__name__, t_q.__name__)
        for t_p, t_q in TD.kl._KL_REGISTRY
        if (getattr(D, t_p.__name__, None), getattr(D, t_q.__name__, None)) not in D.kl._KL_REGISTRY
    ]
    assert not missing


def test_kl_registrations_cover_torchs_for_the_new_families():
    new = {TD.ContinuousBernoulli, TD.Pareto, TD.ExponentialFamily}
    for t_p, t_q in TD.kl._KL_REGISTRY:
        if t_p in new or t_q in new:
            e_p, e_q = getattr(D, t_p.__name__), getattr(D, t_q.__name__)
            assert (e_p, e_q) in D.kl._KL_REGISTRY, (t_p.__name__, t_q.__name__)


def _matrices(*shape):
    return _normal(*shape) * 0.5


TRANSFORMS = [
    ("PowerTransform", lambda T, t: T.PowerTransform(t(np.array([0.5, 2.0, -1.5]))), _positive(2, 3)),
    ("PowerTransform-number", lambda T, t: T.PowerTransform(3.0), _positive(4)),
    ("SoftplusTransform", lambda T, t: T.SoftplusTransform(), _normal(2, 3) * 3),
    ("ReshapeTransform", lambda T, t: T.ReshapeTransform((6,), (2, 3)), _normal(4, 6)),
    ("LowerCholeskyTransform", lambda T, t: T.LowerCholeskyTransform(), _matrices(2, 3, 3)),
    ("PositiveDefiniteTransform", lambda T, t: T.PositiveDefiniteTransform(), _matrices(2, 3, 3)),
    ("CorrCholeskyTransform", lambda T, t: T.CorrCholeskyTransform(), _normal(2, 6)),
    (
        "CatTransform",
        lambda T, t: T.CatTransform([T.ExpTransform(), T.identity_transform, T.SoftplusTransform()], 1, [1, 2, 3]),
        _normal(2, 6),
    ),
    (
        "CatTransform-events",
        lambda T, t: T.CatTransform([T.ExpTransform(), T.IndependentTransform(T.SigmoidTransform(), 1)], -1, [2, 3]),
        _normal(4, 5),
    ),
    (
        "CatTransform-batch",
        lambda T, t: T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], 0, [2, 1]),
        _normal(3, 2),
    ),
    ("StackTransform", lambda T, t: T.StackTransform([T.ExpTransform(), T.TanhTransform()], dim=-1), _normal(3, 2)),
    (
        "CumulativeDistributionTransform",
        lambda T, t: T.CumulativeDistributionTransform(
            T.Normal(t(np.array([0.5, -1.0])), t(np.array([1.5, 0.7]))) if hasattr(T, "Normal") else None
        ),
        _normal(3, 2),
    ),
]


def _transform(make, lib, device, dtype):
    module = D if lib == "ember" else TD
    namespace = type("T", (), {**vars(module.transforms), "Normal": module.Normal})
    if lib == "ember":
        return make(namespace, lambda a: ember.tensor(a, dtype=dtype, device=device, requires_grad=True))
    return make(namespace, lambda a: torch.tensor(a, dtype=getattr(torch, dtype.name), requires_grad=True))


@pytest.mark.parametrize("name,make,x", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transforms_match_torch(name, make, x, device, dtype):
    e_t, t_t = _transform(make, "ember", device, dtype), _transform(make, "torch", device, dtype)
    e_x = ember.tensor(x, dtype=dtype, device=device, requires_grad=True)
    t_x = torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True)
    tol = 1e-4 if dtype == ember.float32 else 1e-9
    e_y, t_y = e_t(e_x), t_t(t_x)
    assert_close(e_y, t_y, dtype, rtol=tol, atol=tol, what=f"{name} forward")
    if name == "CatTransform-events":  # torch's cat constraint concatenates checks of unequal ranks
        _raises_like(lambda: e_t.codomain.check(e_y), lambda: t_t.codomain.check(t_y))
    else:
        assert_close(e_t.codomain.check(e_y), t_t.codomain.check(t_y), what=f"{name} codomain")
    assert_close(e_t.inv(e_y), t_t.inv(t_y), dtype, rtol=10 * tol, atol=10 * tol, what=f"{name} inverse")
    assert (e_t.bijective, e_t.domain.event_dim, e_t.codomain.event_dim) == (
        t_t.bijective,
        t_t.domain.event_dim,
        t_t.codomain.event_dim,
    )
    assert tuple(e_t.forward_shape(tuple(x.shape))) == tuple(t_t.forward_shape(torch.Size(x.shape)))
    assert tuple(e_t.inverse_shape(tuple(e_y.shape))) == tuple(t_t.inverse_shape(t_y.shape))
    weight = np.cos(np.arange(e_y.numel())).reshape(tuple(e_y.shape))
    e_loss = (e_y * ember.tensor(weight, dtype=dtype, device=device)).sum()
    t_loss = (t_y * torch.tensor(weight, dtype=t_y.dtype)).sum()
    if e_t.bijective or name.startswith("LowerCholesky"):
        try:
            t_ladj = t_t.log_abs_det_jacobian(t_x, t_y)
        except NotImplementedError:
            t_ladj = None
        if t_ladj is not None:
            e_ladj = e_t.log_abs_det_jacobian(e_x, e_y)
            assert_close(e_ladj, t_ladj, dtype, rtol=tol, atol=tol, what=f"{name} log_abs_det_jacobian")
            e_loss, t_loss = e_loss + e_ladj.sum(), t_loss + t_ladj.sum()
    e_loss.backward()
    t_loss.backward()
    assert_close(e_x.grad, t_x.grad, dtype, rtol=10 * tol, atol=10 * tol, what=f"{name} grad")
    assert (e_t == _transform(make, "ember", device, dtype)) == (t_t == _transform(make, "torch", device, dtype))
    cached = e_t.with_cache(1)
    y = cached(e_x)
    assert cached.inv(y) is e_x


def test_transform_errors_match_torch(device):
    x = ember.zeros(2, 5, device=device)
    with pytest.raises(ValueError, match="different numbers of elements"):
        D.transforms.ReshapeTransform((2, 3), (5,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        D.transforms.ReshapeTransform((6,), (2, 3)).forward_shape((4, 5))
    with pytest.raises(ValueError, match="flattened lower-diagonal"):
        D.transforms.CorrCholeskyTransform().forward_shape((4, 5))
    with pytest.raises(ValueError, match="not square"):
        D.transforms.CorrCholeskyTransform().inverse_shape((3, 4))
    with pytest.raises(AssertionError, match="must equal length 3"):
        D.transforms.CatTransform([D.transforms.ExpTransform()] * 2, 1, [1, 2])(x)
    with pytest.raises(AssertionError, match="must equal len"):
        D.transforms.StackTransform([D.transforms.ExpTransform()] * 2, 1)(x)
    with pytest.raises(AssertionError, match="must match transforms"):
        D.transforms.CatTransform([D.transforms.ExpTransform()], 0, [1, 2])
    with pytest.raises(ValueError, match="lower triangular part"):
        D.utils.vec_to_tril_matrix(ember.zeros(4, device=device))


def test_tril_vector_helpers_match_torch(device):
    vec = _normal(2, 6)
    for diag in (0, -1):
        width = 6 if diag == 0 else 6
        e_mat = D.utils.vec_to_tril_matrix(ember.tensor(vec[..., :width], device=device), diag)
        t_mat = TD.utils.vec_to_tril_matrix(torch.tensor(vec[..., :width], dtype=torch.float32), diag)
        assert_close(e_mat, t_mat)
        assert_close(D.utils.tril_matrix_to_vec(e_mat, diag), TD.utils.tril_matrix_to_vec(t_mat, diag))


@pytest.mark.parametrize("name,args,shape", [("corr_cholesky", (), (2, 6))])
def test_biject_to_and_transform_to_match_torch(name, args, shape, device):
    base.test_biject_to_and_transform_to_match_torch(name, args, shape, device)


def test_constraint_registry_matrix_cat_and_stack(device):
    for make in (
        lambda c: c.cat([c.positive, c.real, c.unit_interval], 1, [1, 2, 1]),
        lambda c: c.stack([c.positive, c.interval(-1.0, 2.0)], 1),
    ):
        for e_registry, t_registry in ((D.biject_to, TD.biject_to), (D.transform_to, TD.transform_to)):
            e_t, t_t = e_registry(make(D.constraints)), t_registry(make(TD.constraints))
            assert type(e_t).__name__ == type(t_t).__name__
            x = _normal(3, len(e_t.transforms) if isinstance(e_t, D.transforms.StackTransform) else 4)
            e_y = e_t(ember.tensor(x, device=device))
            assert_close(e_y, t_t(torch.tensor(x, dtype=torch.float32)), rtol=1e-5, atol=1e-6)
            assert bool(make(D.constraints).check(e_y).all())
    x = _matrices(2, 3, 3)
    for name, transform in (
        ("lower_cholesky", "LowerCholeskyTransform"),
        ("positive_definite", "PositiveDefiniteTransform"),
    ):
        e_t = D.transform_to(getattr(D.constraints, name))
        assert type(e_t).__name__ == transform
        e_y = e_t(ember.tensor(x, device=device))
        assert_close(
            e_y,
            TD.transform_to(getattr(TD.constraints, name))(torch.tensor(x, dtype=torch.float32)),
            rtol=1e-5,
            atol=1e-6,
        )
        assert bool(getattr(D.constraints, name).check(e_y).all())


def test_generalized_pareto_density_matches_torch(device):
    """log_prob, cdf and their gradients in float32 (torch's float64 GeneralizedPareto.log_prob raises:
    it compares the concentration with a float32 zero), and ember's float64 against its float32."""
    case = Case(
        "GeneralizedPareto",
        {"loc": np.zeros(4), "scale": _positive(4), "concentration": np.array([-0.3, 0.0, 0.2, 0.4])},
        _unit(3, 4),
        methods=("cdf",),
        without=("mean", "variance", "stddev", "entropy"),
    )
    name = "GeneralizedPareto-density"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(base.CASES, name, case)
        base.test_values_and_gradients_match_torch(name, device, ember.float32)
    if ember.backends.get_backend(device).supports_float64:
        dist = D.GeneralizedPareto(*(ember.tensor(v, dtype=ember.float64, device=device) for v in case.params.values()))
        value = ember.tensor(case.value, dtype=ember.float64, device=device)
        single = D.GeneralizedPareto(*(ember.tensor(v, device=device) for v in case.params.values()))
        assert_close(dist.log_prob(value), single.log_prob(value.float()).double(), rtol=1e-5, atol=1e-6)
        assert_close(dist.cdf(value), single.cdf(value.float()).double(), rtol=1e-5, atol=1e-6)


def test_logistic_normal_draws_are_normal_in_unconstrained_space(device):
    loc, scale = ember.tensor([0.5, -1.0, 2.0], device=device), ember.tensor([1.0, 0.3, 2.0], device=device)
    dist, n = D.LogisticNormal(loc, scale), 8000
    ember.manual_seed(2)
    draws = dist.sample((n,))
    assert bool(D.constraints.simplex.check(draws).all())
    z = D.transforms.StickBreakingTransform().inv(draws).cpu().numpy()
    np.testing.assert_allclose(z.mean(0), loc.cpu().numpy(), atol=6 * scale.cpu().numpy().max() / np.sqrt(n))
    np.testing.assert_allclose(z.std(0), scale.cpu().numpy(), rtol=0.05)


def test_lkj_cholesky_correlations_have_the_lkj_marginals(device):
    """L L^T is a correlation matrix; each off-diagonal correlation r has (r + 1)/2 ~ Beta(b, b) with
    b = concentration + (dim - 2)/2: mean 0, variance 1/(2b + 1). (torch's sampler fails this beyond the
    second row: see LKJCholesky's docstring.)"""
    concentration, dim, n = np.array([0.5, 1.0, 3.0]), 3, 6000
    dist = D.LKJCholesky(dim, ember.tensor(concentration, device=device))
    ember.manual_seed(6)
    factors = dist.sample((n,))
    assert tuple(factors.shape) == (n, 3, dim, dim)
    assert bool(D.constraints.corr_cholesky.check(factors).all())
    corr = (factors @ factors.mT).cpu().numpy()
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-5)
    b = concentration + (dim - 2) / 2
    for i, j in ((1, 0), (2, 0), (2, 1)):
        r = corr[..., i, j]
        assert np.all(np.abs(r.mean(0)) < 6 * np.sqrt(1 / (2 * b + 1) / n))
        np.testing.assert_allclose(r.var(0), 1 / (2 * b + 1), rtol=0.08)


def test_wishart_number_df_with_batched_matrices(device):
    """df given as a number with a batch of scale matrices (torch's mean and mode fail there)."""
    tril = np.linalg.cholesky(_spd(3, 2, 2))
    e_dist = D.Wishart(4.5, scale_tril=ember.tensor(tril, dtype=ember.float32, device=device))
    t_dist = TD.Wishart(torch.tensor([4.5] * 3), scale_tril=torch.tensor(tril, dtype=torch.float32))
    for method in ("mean", "mode", "variance"):
        assert_close(getattr(e_dist, method), getattr(t_dist, method), rtol=1e-5, atol=1e-5, what=method)
    value = torch.tensor(_spd(2, 2), dtype=torch.float32)
    assert_close(
        e_dist.log_prob(ember.tensor(value.numpy(), device=device)), t_dist.log_prob(value), rtol=1e-5, atol=1e-5
    )


def test_wishart_rsample_gradients_and_errors(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    f64 = {"dtype": ember.float64, "device": device}
    tril = ember.tensor(np.linalg.cholesky(_spd(2, 3, 3)), **f64, requires_grad=True)

    def draw(tril):
        ember.manual_seed(9)
        return D.Wishart(ember.tensor([4.0, 7.0], **f64), scale_tril=tril.tril(), validate_args=False).rsample((2,))

    assert base.gradcheck(draw, (tril,))
    with pytest.warns(UserWarning, match="Low df"):
        low = D.Wishart(ember.tensor(2.5, **f64), covariance_matrix=ember.eye(3, **f64))
    ember.manual_seed(0)
    assert bool(D.constraints.positive_definite.check(low.sample((50,))).all())
    df = ember.tensor([3.5, 9.0], **f64, requires_grad=True)
    ember.manual_seed(3)
    D.Wishart(df, covariance_matrix=ember.eye(2, **f64)).rsample((4000,)).mean(0).sum().backward()
    # d/ddf of E[W] = df * I summed over the batch: 2 per element of the trace
    np.testing.assert_allclose(df.grad.cpu().numpy(), [2.0, 2.0], rtol=0.1)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, T: lib.Wishart(T(2.0), T([[1.0, 0.0], [0.0, 1.0]]), T([[1.0, 0.0], [0.0, 1.0]])),
        lambda lib, T: lib.Wishart(T(2.0)),
        lambda lib, T: lib.Wishart(T(2.0), T([1.0, 1.0])),
        lambda lib, T: lib.Wishart(T(0.5), T([[1.0, 0.0], [0.0, 1.0]])),
        lambda lib, T: lib.Wishart(T(3.0), T([[1.0, 2.0], [2.0, 1.0]])),
        lambda lib, T: lib.Wishart(T(3.0), scale_tril=T([[1.0, 1.0], [0.0, 1.0]])),
        lambda lib, T: lib.Wishart(T(3.0), T([[1.0, 0.0], [0.0, 1.0]])).log_prob(T([[1.0, 2.0], [2.0, 1.0]])),
        lambda lib, T: lib.LKJCholesky(1, T(1.0)),
        lambda lib, T: lib.LKJCholesky(2, T(-1.0)),
        lambda lib, T: lib.LKJCholesky(2, T(1.0)).log_prob(T([[1.0, 0.0], [1.0, 1.0]])),
        lambda lib, T: lib.LogisticNormal(T([0.0]), T([-1.0])),
        lambda lib, T: lib.LogisticNormal(T([0.0]), T([1.0])).log_prob(T([0.7, 0.7])),
        lambda lib, T: lib.GeneralizedPareto(T([0.0]), T([0.0]), T([0.1])),
        lambda lib, T: lib.GeneralizedPareto(T([0.0]), T([1.0]), T([0.1])).log_prob(T([-1.0])),
        lambda lib, T: lib.GeneralizedPareto(T([0.0]), T([1.0]), T([-0.5])).log_prob(T([3.0])),
    ],
)
def test_matrix_and_simplex_family_errors_match_torch(make, device):
    base.test_validation_errors_match_torch(make, device)


def test_wishart_kl_by_bregman_divergence_matches_torch(device, dtype):
    pair = (
        "Wishart",
        {"df": np.array([4.0, 6.0]), "covariance_matrix": _spd(2, 3, 3)},
        "Wishart",
        {"df": np.array([5.0, 3.5]), "scale_tril": np.linalg.cholesky(_spd(3, 3))},
    )
    base.test_kl_divergence_matches_torch(pair, device, dtype)


EXPONENTIAL_FAMILIES = [
    ("Bernoulli", {"probs": _unit(3)}),
    ("Beta", {"concentration1": _positive(3), "concentration0": _positive(3)}),
    ("Dirichlet", {"concentration": _positive(2, 3)}),
    ("Exponential", {"rate": _positive(3)}),
    ("Gamma", {"concentration": _positive(3), "rate": _positive(3)}),
    ("Normal", {"loc": _normal(3), "scale": _positive(3)}),
    ("Poisson", {"rate": _positive(3)}),
    ("ContinuousBernoulli", {"logits": np.array([-1.5, 0.7, 2.0])}),
    ("Wishart", {"df": np.array([4.0, 5.5]), "covariance_matrix": _spd(2, 3, 3)}),
]


@pytest.mark.parametrize("cls,params", EXPONENTIAL_FAMILIES, ids=[f[0] for f in EXPONENTIAL_FAMILIES])
def test_exponential_families_bregman_entropy_and_kl_match_torch(cls, params, device, dtype):
    """The families torch derives from ExponentialFamily: the base class's autograd entropy (where torch
    defines the carrier measure) and the Bregman KL to a second member, with gradients."""
    p, t_p, p_kwargs, t_p_kwargs = base._pair(Case(cls, params), device, dtype)
    q_params = {k: v * 1.2 if k != "probs" else v * 0.9 for k, v in params.items()}
    q, t_q, q_kwargs, t_q_kwargs = base._pair(Case(cls, q_params), device, dtype)
    assert isinstance(p, D.ExponentialFamily) and isinstance(t_p, TD.ExponentialFamily)
    tol = 1e-4 if dtype == ember.float32 else 1e-8
    e_out, t_out = [D.kl._kl_expfamily_expfamily(p, q)], [TD.kl._kl_expfamily_expfamily(t_p, t_q)]
    if not isinstance(type(t_p)._mean_carrier_measure, property):
        e_out.append(D.ExponentialFamily.entropy(p))
        t_out.append(TD.ExponentialFamily.entropy(t_p))
        assert_close(e_out[-1], p.entropy(), dtype, rtol=10 * tol, atol=10 * tol, what="closed-form entropy")
    for e_value, t_value in zip(e_out, t_out):
        assert_close(e_value, t_value, dtype, rtol=tol, atol=tol, what=cls)
    sum(v.sum() for v in e_out).backward()
    sum(v.sum() for v in t_out).backward()
    for e_kwargs, t_kwargs in ((p_kwargs, t_p_kwargs), (q_kwargs, t_q_kwargs)):
        for name, t_param in t_kwargs.items():
            if isinstance(t_param, torch.Tensor) and t_param.grad is not None:
                assert_close(e_kwargs[name].grad, t_param.grad, dtype, rtol=10 * tol, atol=10 * tol, what=name)


@pytest.mark.parametrize(
    "make,value",
    [
        (
            lambda lib, T: lib.MixtureSameFamily(
                lib.Categorical(T([0.3, 0.7])), lib.Uniform(T([0.0, -1.0]), T([1.0, 2.0]))
            ),
            [[0.5, 1.5], [-0.5, 0.9]],
        ),
        (
            lambda lib, T: lib.MixtureSameFamily(
                lib.Categorical(T([0.5, 0.5])), lib.Independent(lib.Pareto(T([[1.0, 2.0], [0.5, 1.0]]), T(2.0)), 1)
            ),
            [[2.5, 2.5], [0.7, 3.0], [1.5, 1.5]],
        ),
    ],
)
def test_mixture_same_family_constraint_matches_torch(make, value, device):
    e_dist = make(D, lambda v: ember.tensor(v, device=device))
    t_dist = make(TD, torch.tensor)
    assert repr(e_dist.support).split("(")[:2] == repr(t_dist.support).split("(")[:2]
    assert isinstance(e_dist.support, D.constraints.MixtureSameFamilyConstraint)
    assert (e_dist.support.event_dim, e_dist.support.is_discrete) == (
        t_dist.support.event_dim,
        t_dist.support.is_discrete,
    )
    e_check = e_dist.support.check(ember.tensor(value, device=device))
    assert_close(e_check, t_dist.support.check(torch.tensor(value)), what="check")
    _raises_like(
        lambda: e_dist.log_prob(ember.tensor(value, device=device)), lambda: t_dist.log_prob(torch.tensor(value))
    )


@pytest.mark.parametrize("name", list(CASES))
def test_flags_support_and_rsample_gradients_match_torch(name, device):
    """has_rsample, has_enumerate_support, the support's type and event_dim as torch's; where
    has_rsample, a draw's gradient reaches every parameter torch's reaches."""
    e_dist, t_dist, e_kwargs, t_kwargs = base._pair(CASES[name], device, ember.float32)
    assert (e_dist.has_rsample, e_dist.has_enumerate_support) == (t_dist.has_rsample, t_dist.has_enumerate_support)
    assert type(e_dist.support).__name__ == type(t_dist.support).__name__
    assert e_dist.support.event_dim == t_dist.support.event_dim
    if not t_dist.has_rsample:
        with pytest.raises(NotImplementedError):
            e_dist.rsample()
        return
    tensors = [p for p, v in t_kwargs.items() if isinstance(v, torch.Tensor)]
    if not tensors:
        return  # numbers: nothing to differentiate
    e_dist.rsample((3,)).sum().backward()
    try:
        t_dist.rsample((3,)).sum().backward()
    except RuntimeError:  # torch's Wishart.rsample writes its singular-draw mask in place (a torch bug)
        assert name.startswith("Wishart")
        t_reached = dict.fromkeys(tensors, True)
    else:
        t_reached = {p: t_kwargs[p].grad is not None for p in tensors}
    for param in tensors:
        grad = e_kwargs[param].grad
        assert (grad is not None and bool(ember.isfinite(grad).all())) == t_reached[param], param
