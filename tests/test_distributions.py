"""ember.distributions against torch.distributions: values, gradients, sample shapes and moments,
validation errors and KL divergences, for every family, on every device of EMBER_TEST_DEVICES.

One table (``CASES``) lists the families: the constructor's arguments (NumPy arrays become tensors
that require grad), the values ``log_prob``/``cdf`` are evaluated at and the quantiles for ``icdf``.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close

import ember
import ember.distributions as D
import ember.distributions.relaxed_bernoulli
import ember.distributions.relaxed_categorical
from ember.autograd import gradcheck

torch = pytest.importorskip("torch")
TD = torch.distributions
import torch.distributions.relaxed_bernoulli  # noqa: E402
import torch.distributions.relaxed_categorical  # noqa: E402

_rng = np.random.default_rng(7)


def _normal(*shape):
    return _rng.standard_normal(shape)


def _positive(*shape):
    return _rng.uniform(0.5, 2.0, size=shape)


def _unit(*shape):
    return _rng.uniform(0.1, 0.9, size=shape)


def _simplex(*shape):
    p = _rng.uniform(0.1, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


def _spd(*shape):
    a = _rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _ints(high, *shape):
    return _rng.integers(0, high, size=shape).astype(np.int64)


class Case:
    """One family's parameters and evaluation points; ``methods`` are compared with torch's."""

    def __init__(
        self,
        cls,
        params,
        value=None,
        quantile=None,
        methods=(),
        discrete=False,
        moments=True,
        without=(),
        enumerate=True,
        draws=8000,
    ):
        self.cls, self.params, self.value, self.quantile = cls, params, value, quantile
        basic = ("log_prob",) if callable(cls) else ("mean", "variance", "stddev", "entropy", "log_prob")
        self.methods = tuple(m for m in (*basic, *methods) if m not in without)
        self.enumerate, self.draws = enumerate, draws
        self.discrete, self.moments = discrete, moments


def _tanh_normal(lib, loc, scale):
    """A squashed Gaussian policy (SAC): Normal through tanh and an affine map."""
    T = lib.transforms
    return lib.TransformedDistribution(lib.Normal(loc, scale), [T.TanhTransform(), T.AffineTransform(1.0, 2.0)])


def _sigmoid_independent(lib, loc, scale):
    T = lib.transforms
    base = lib.Independent(lib.Normal(loc, scale), 1)
    return lib.TransformedDistribution(base, T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(0.0, -1.0)]))


def _gaussian_mixture(lib, weights, loc, scale):
    return lib.MixtureSameFamily(lib.Categorical(weights), lib.Normal(loc, scale))


def _diagonal_mixture(lib, logits, loc, scale):
    return lib.MixtureSameFamily(lib.Categorical(logits=logits), lib.Independent(lib.Normal(loc, scale), 1))


CASES = {
    "Normal": Case(
        "Normal",
        {"loc": _normal(2, 3), "scale": _positive(2, 3)},
        _normal(4, 2, 3),
        _unit(2, 3),
        ("mode", "cdf", "icdf"),
    ),
    "Normal-scalar": Case("Normal", {"loc": 0.5, "scale": 2.0}, _normal(5), _unit(5), ("cdf", "icdf")),
    "Categorical-probs": Case(
        "Categorical", {"probs": _simplex(3, 4)}, _ints(4, 5, 3), methods=("mode",), discrete=True, moments=False
    ),
    "Categorical-logits": Case(
        "Categorical", {"logits": _normal(2, 5)}, _ints(5, 2), methods=("mode",), discrete=True, moments=False
    ),
    "Bernoulli-probs": Case("Bernoulli", {"probs": _unit(3, 2)}, _ints(2, 4, 3, 2).astype(float), discrete=True),
    "Bernoulli-logits": Case("Bernoulli", {"logits": _normal(4)}, _ints(2, 4).astype(float), discrete=True),
    "Uniform": Case(
        "Uniform",
        {"low": np.array([-1.0, 0.0, 2.0]), "high": np.array([0.5, 3.0, 2.5])},
        np.array([[-0.5, 1.0, 2.2]]),
        _unit(3),
        ("cdf", "icdf"),
    ),
    "MultivariateNormal-cov": Case(
        "MultivariateNormal",
        {"loc": _normal(3), "covariance_matrix": _spd(2, 3, 3)},
        _normal(4, 2, 3),
        methods=("mode",),
    ),
    "MultivariateNormal-precision": Case(
        "MultivariateNormal", {"loc": _normal(2, 3), "precision_matrix": _spd(3, 3)}, _normal(2, 3)
    ),
    "MultivariateNormal-tril": Case(
        "MultivariateNormal", {"loc": _normal(2), "scale_tril": np.linalg.cholesky(_spd(3, 2, 2))}, _normal(5, 3, 2)
    ),
    "Exponential": Case(
        "Exponential", {"rate": _positive(2, 3)}, _positive(4, 2, 3), _unit(2, 3), ("mode", "cdf", "icdf")
    ),
    "Laplace": Case(
        "Laplace", {"loc": _normal(3), "scale": _positive(3)}, _normal(2, 3), _unit(3), ("mode", "cdf", "icdf")
    ),
    "LogNormal": Case(
        "LogNormal", {"loc": _normal(3) * 0.3, "scale": _unit(3)}, _positive(2, 3), _unit(3), ("mode", "cdf", "icdf")
    ),
    "TanhNormal": Case(
        _tanh_normal,
        {"loc": _normal(3) * 0.5, "scale": _unit(3)},
        np.array([[0.2, 1.5, 2.9]]),
        _unit(3),
        ("cdf", "icdf"),
        moments=False,
    ),
    "SigmoidIndependent": Case(
        _sigmoid_independent, {"loc": _normal(2, 3), "scale": _unit(2, 3)}, -_unit(4, 2, 3), moments=False
    ),
    "Poisson": Case(
        "Poisson",
        {"rate": np.array([0.5, 3.0, 12.0, 40.0])},
        _ints(30, 3, 4).astype(float),
        methods=("mode",),
        without=("entropy",),
        draws=4000,
    ),
    "Binomial-probs": Case(
        "Binomial",
        {"total_count": 10, "probs": _unit(2, 3)},
        _ints(11, 4, 2, 3).astype(float),
        methods=("mode",),
        discrete=True,
    ),
    "Binomial-logits": Case(
        "Binomial",
        {"total_count": np.array([3.0, 8.0, 40.0]), "logits": _normal(3)},
        np.array([[0.0, 8.0, 15.0], [3.0, 1.0, 39.0]]),
        without=("entropy",),
        enumerate=False,
    ),
    "Geometric-probs": Case("Geometric", {"probs": _unit(2, 3)}, _ints(6, 3, 2, 3).astype(float), methods=("mode",)),
    "Geometric-logits": Case("Geometric", {"logits": _normal(3)}, _ints(6, 3).astype(float)),
    "Gamma": Case(
        "Gamma", {"concentration": _positive(2, 3), "rate": _positive(2, 3)}, _positive(4, 2, 3), methods=("mode",)
    ),
    "Chi2": Case("Chi2", {"df": np.array([1.0, 3.0, 7.5])}, _positive(2, 3), methods=("mode",)),
    "Beta": Case(
        "Beta", {"concentration1": _positive(3), "concentration0": _positive(3)}, _unit(2, 3), methods=("mode",)
    ),
    "Beta-scalar": Case("Beta", {"concentration1": 0.5, "concentration0": 2.5}, _unit(4)),
    "Dirichlet": Case("Dirichlet", {"concentration": _positive(2, 4)}, _simplex(3, 2, 4), methods=("mode",)),
    "StudentT": Case(
        "StudentT",
        {"df": np.array([6.0, 9.0, 30.0]), "loc": _normal(3), "scale": _positive(3)},
        _normal(2, 3),
        methods=("mode",),
    ),
    "StudentT-heavy": Case(
        "StudentT", {"df": np.array([0.5, 1.5, 2.5])}, _normal(2, 3), moments=False, without=("stddev",)
    ),
    "Cauchy": Case(
        "Cauchy",
        {"loc": _normal(3), "scale": _positive(3)},
        _normal(2, 3),
        _unit(3),
        ("mode", "cdf", "icdf"),
        moments=False,
    ),
    "HalfNormal": Case(
        "HalfNormal", {"scale": _positive(2, 3)}, _positive(4, 2, 3), _unit(2, 3), ("mode", "cdf", "icdf")
    ),
    "HalfCauchy": Case(
        "HalfCauchy", {"scale": _positive(3)}, _positive(2, 3), _unit(3), ("mode", "cdf", "icdf"), moments=False
    ),
    "Gumbel": Case("Gumbel", {"loc": _normal(3), "scale": _positive(3)}, _normal(2, 3), methods=("mode",)),
    "Multinomial": Case(
        "Multinomial",
        {"total_count": 10, "probs": _simplex(2, 3)},
        np.array([[[2.0, 3.0, 5.0], [0.0, 1.0, 9.0]]]),
        without=("entropy",),  # torch's lgamma(total_count + 1) is float32; checked below at 1e-6
        draws=2000,
    ),
    "RelaxedBernoulli": Case(
        "RelaxedBernoulli",
        {"temperature": np.array(0.7), "probs": _unit(2, 3)},
        _unit(4, 2, 3),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "LogitRelaxedBernoulli": Case(
        lambda lib, **kw: lib.relaxed_bernoulli.LogitRelaxedBernoulli(**kw),
        {"temperature": np.array([0.5, 2.0, 1.0]), "logits": _normal(3)},
        _normal(2, 3),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "RelaxedOneHotCategorical": Case(
        "RelaxedOneHotCategorical",
        {"temperature": np.array(0.5), "logits": _normal(2, 4)},
        _simplex(3, 2, 4),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "ExpRelaxedCategorical": Case(
        lambda lib, **kw: lib.relaxed_categorical.ExpRelaxedCategorical(**kw),
        {"temperature": np.array([1.5]), "probs": _simplex(4)},
        np.log(_simplex(2, 4)),
        moments=False,
        without=("mean", "variance", "stddev", "entropy"),
    ),
    "LowRankMultivariateNormal": Case(
        "LowRankMultivariateNormal",
        {"loc": _normal(2, 4), "cov_factor": _normal(4, 2), "cov_diag": _positive(2, 4)},
        _normal(3, 2, 4),
        methods=("mode",),
    ),
    "GaussianMixture": Case(
        _gaussian_mixture,
        {"weights": _simplex(2, 3), "loc": _normal(2, 3) * 2, "scale": _positive(2, 3)},
        _normal(4, 2),
        methods=("mean", "variance", "cdf"),
    ),
    "DiagonalMixture": Case(
        _diagonal_mixture,
        {"logits": _normal(3), "loc": _normal(3, 2), "scale": _positive(3, 2)},
        _normal(5, 2),
        methods=("mean", "variance"),
    ),
    "NegativeBinomial-probs": Case(
        "NegativeBinomial",
        {"total_count": np.array([1.5, 3.0, 2.5]), "probs": np.array([0.3, 0.4, 0.6])},
        _ints(8, 4, 3).astype(float),
        methods=("mode",),
        without=("entropy",),
    ),
    "NegativeBinomial-logits": Case(
        "NegativeBinomial", {"total_count": 4, "logits": _normal(2)}, _ints(6, 3, 2).astype(float), without=("entropy",)
    ),
    "OneHotCategorical": Case(
        "OneHotCategorical",
        {"probs": _simplex(2, 3)},
        np.eye(3)[_ints(3, 4, 2)],
        methods=("mode",),
        discrete=True,
    ),
    "OneHotCategorical-logits": Case(
        "OneHotCategorical", {"logits": _normal(4)}, np.eye(4)[_ints(4, 3)], discrete=True
    ),
}


def _tensors(case, device, dtype, lib):
    kwargs = {}
    for name, value in case.params.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            if lib == "torch":
                kwargs[name] = torch.tensor(value, dtype=getattr(torch, dtype.name), requires_grad=True)
            else:
                kwargs[name] = ember.tensor(value, dtype=dtype, device=device, requires_grad=True)
        else:
            kwargs[name] = value
    return kwargs


def _pair(case, device, dtype):
    e_kwargs, t_kwargs = _tensors(case, device, dtype, "ember"), _tensors(case, device, dtype, "torch")
    if callable(case.cls):
        return case.cls(D, **e_kwargs), case.cls(TD, **t_kwargs), e_kwargs, t_kwargs
    return getattr(D, case.cls)(**e_kwargs), getattr(TD, case.cls)(**t_kwargs), e_kwargs, t_kwargs


def _point(array, device, dtype, lib):
    if array.dtype.kind != "f":
        return torch.from_numpy(array) if lib == "torch" else ember.tensor(array, device=device)
    if lib == "torch":
        return torch.tensor(array, dtype=getattr(torch, dtype.name))
    return ember.tensor(array, dtype=dtype, device=device)


def _evaluate(dist, case, device, dtype, lib):
    if not any(isinstance(v, np.ndarray) for v in case.params.values()):
        device = "cpu"  # the parameters are numbers, made into cpu tensors
    out = {}
    for method in case.methods:
        if method in ("log_prob", "cdf"):
            out[method] = getattr(dist, method)(_point(case.value, device, dtype, lib))
        elif method == "icdf":
            out[method] = dist.icdf(_point(case.quantile, device, dtype, lib))
        elif method in ("entropy",):
            out[method] = dist.entropy()
        else:
            out[method] = getattr(dist, method)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, device, dtype):
    case = CASES[name]
    e_dist, t_dist, e_kwargs, t_kwargs = _pair(case, device, dtype)
    assert tuple(e_dist.batch_shape) == tuple(t_dist.batch_shape)
    assert tuple(e_dist.event_shape) == tuple(t_dist.event_shape)
    e_out = _evaluate(e_dist, case, device, dtype, "ember")
    t_out = _evaluate(t_dist, case, device, dtype, "torch")
    numbers = not any(isinstance(v, np.ndarray) for v in case.params.values())  # default dtype
    rtol = 1e-4 if dtype == ember.float32 or numbers else 1e-7
    e_loss, t_loss = 0, 0
    for method in case.methods:
        assert_close(e_out[method], t_out[method], dtype, rtol=rtol, atol=rtol, what=f"{name}.{method}")
        if t_out[method].requires_grad:
            weight = _normal(*t_out[method].shape)
            e_loss = e_loss + (e_out[method] * ember.tensor(weight, dtype=dtype, device=device)).sum()
            t_loss = t_loss + (t_out[method] * torch.tensor(weight, dtype=t_out[method].dtype)).sum()
    if isinstance(t_loss, int):
        return  # no parameter requires grad (numbers)
    t_loss.backward()
    e_loss.backward()
    for param, t_param in t_kwargs.items():
        if isinstance(t_param, torch.Tensor) and t_param.grad is not None:
            assert_close(
                e_kwargs[param].grad, t_param.grad, dtype, rtol=rtol * 10, atol=rtol * 10, what=f"grad {param}"
            )


@pytest.mark.parametrize("name", list(CASES))
def test_sample_shapes_dtypes_and_devices(name, device):
    case = CASES[name]
    e_dist, t_dist, _, _ = _pair(case, device, ember.float32)
    for sample_shape in ((), (5,), (2, 3)):
        e_sample, t_sample = e_dist.sample(sample_shape), t_dist.sample(sample_shape)
        assert tuple(e_sample.shape) == tuple(t_sample.shape), sample_shape
        assert e_sample.dtype.name == str(t_sample.dtype).split(".")[-1]
        expected = device if any(isinstance(v, np.ndarray) for v in case.params.values()) else "cpu"
        assert e_sample.device.type == ember.device(expected).type
        assert not e_sample.requires_grad
    expanded = e_dist.expand((4, *e_dist.batch_shape))
    assert tuple(expanded.sample((2,)).shape) == (2, 4, *e_dist.batch_shape, *e_dist.event_shape)
    assert tuple(expanded.log_prob(expanded.sample()).shape) == (4, *e_dist.batch_shape)
    if e_dist.has_enumerate_support and case.enumerate:
        assert_close(e_dist.enumerate_support(), t_dist.enumerate_support(), what="enumerate_support")
        assert_close(
            e_dist.enumerate_support(expand=False), t_dist.enumerate_support(expand=False), what="enumerate_support"
        )


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.moments])
def test_sample_moments_and_seeding(name, device):
    case = CASES[name]
    e_dist, _, _, _ = _pair(case, device, ember.float32)
    n = case.draws
    ember.manual_seed(3)
    draws = e_dist.sample((n,))
    ember.manual_seed(3)
    assert bool((e_dist.sample((n,)) == draws).all()), "manual_seed does not fix the draws"
    assert bool(e_dist.support.check(draws).all())
    draws = draws.to(ember.float64)
    mean, var = e_dist.mean.detach().to(ember.float64), e_dist.variance.detach().to(ember.float64)
    sample_mean = draws.mean(0)
    sample_var = draws.var(0)
    assert bool(((sample_mean - mean).abs() <= 6 * (var / n).sqrt() + 1e-6).all()), (sample_mean, mean)
    # the standard error of a sample variance: sqrt((m4 - var^2) / n), m4 the fourth central moment
    m4 = ((draws - mean) ** 4).mean(0)
    var_se = ((m4 - var**2).clamp(min=0) / n).sqrt()
    assert bool(((sample_var - var).abs() <= 6 * var_se + 0.01 * var + 1e-6).all()), (sample_var, var)


def test_categorical_sample_frequencies(device):
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    dist = D.Categorical(ember.tensor(probs, device=device))
    ember.manual_seed(0)
    draws = dist.sample((20000,)).cpu().numpy()
    for row in range(2):
        freq = np.bincount(draws[:, row], minlength=3) / 20000
        np.testing.assert_allclose(freq, probs[row], atol=0.015)


def test_multinomial_entropy_and_sample_counts(device):
    probs = _simplex(2, 3)
    e_dist = D.Multinomial(7, ember.tensor(probs, device=device))
    t_dist = TD.Multinomial(7, torch.tensor(probs))
    assert_close(e_dist.entropy(), t_dist.entropy(), rtol=1e-6, atol=1e-6)
    draws = e_dist.sample((3, 5))
    assert tuple(draws.shape) == (3, 5, 2, 3) and bool((draws.sum(-1) == 7).all())


def test_reinforce_program(device):
    """pytorch/examples' reinforcement_learning/reinforce.py: a policy's Categorical actions and the
    REINFORCE loss -log_prob * return, back-propagated into the policy."""
    ember.manual_seed(0)
    policy = ember.nn.Sequential(
        ember.nn.Linear(4, 16), ember.nn.ReLU(), ember.nn.Linear(16, 2), ember.nn.Softmax(dim=1)
    )
    policy.to(device)
    log_probs = []
    for _ in range(5):
        state = ember.randn(4, device=device).unsqueeze(0)
        m = D.Categorical(policy(state))
        action = m.sample()
        assert action.item() in (0, 1)
        log_probs.append(m.log_prob(action))
    returns = ember.tensor([1.0, 0.5, -0.2, 0.3, 2.0], device=device)
    loss = ember.cat([-lp * r for lp, r in zip(log_probs, returns)]).sum()
    loss.backward()
    assert all(p.grad is not None and bool(ember.isfinite(p.grad).all()) for p in policy.parameters())


def test_counting_samplers_large_parameters(device):
    ember.manual_seed(5)
    binomial = D.Binomial(ember.tensor([600.0, 1.0], device=device), ember.tensor([0.25, 0.5], device=device))
    draws = binomial.sample((400,)).cpu().numpy()
    assert draws.min() >= 0 and draws[:, 0].max() <= 600 and set(np.unique(draws[:, 1])) <= {0.0, 1.0}
    assert abs(draws[:, 0].mean() - 150) < 6 * np.sqrt(112.5 / 400)
    poisson = D.Poisson(ember.tensor([0.0, 1000.0], device=device)).sample((400,)).cpu().numpy()
    assert (poisson[:, 0] == 0).all() and (poisson % 1 == 0).all()
    assert abs(poisson[:, 1].mean() - 1000) < 6 * np.sqrt(1000 / 400)
    assert abs(poisson[:, 1].var() - 1000) < 300


def _rsample_fn(cls, names):
    def fn(*params):
        ember.manual_seed(11)
        # a covariance enters symmetrized, as in torch's own gradchecks: the Cholesky factor reads
        # one triangle while its gradient is symmetric
        kwargs = {n: (p + p.mT) / 2 if n == "covariance_matrix" else p for n, p in zip(names, params)}
        return getattr(D, cls)(**kwargs, validate_args=False).rsample((3,))

    return fn


@pytest.mark.parametrize(
    "cls,arrays",
    [
        ("Normal", {"loc": _normal(2), "scale": _positive(2)}),
        ("Uniform", {"low": np.array([-1.0, 0.0]), "high": np.array([0.5, 2.0])}),
        ("MultivariateNormal", {"loc": _normal(2), "scale_tril": np.linalg.cholesky(_spd(2, 2))}),
        ("MultivariateNormal", {"loc": _normal(2), "covariance_matrix": _spd(2, 2)}),
        ("LowRankMultivariateNormal", {"loc": _normal(3), "cov_factor": _normal(3, 2), "cov_diag": _positive(3)}),
        ("Exponential", {"rate": _positive(3)}),
        ("Laplace", {"loc": _normal(2), "scale": _positive(2)}),
        ("LogNormal", {"loc": _normal(2), "scale": _positive(2)}),
        ("RelaxedBernoulli", {"temperature": np.array(0.5), "logits": _normal(3)}),
        ("RelaxedOneHotCategorical", {"temperature": np.array(0.5), "logits": _normal(3)}),
    ],
)
def test_rsample_gradcheck(cls, arrays, device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    inputs = tuple(ember.tensor(a, dtype=ember.float64, device=device, requires_grad=True) for a in arrays.values())
    assert gradcheck(_rsample_fn(cls, list(arrays)), inputs)


def test_rsample_carries_gradients(device):
    loc = ember.tensor([0.5, -1.0], device=device, requires_grad=True)
    scale = ember.tensor([2.0, 0.5], device=device, requires_grad=True)
    x = D.Normal(loc, scale).rsample((1000,))
    (x**2).mean(0).sum().backward()
    eps = ((x.detach() - loc.detach()) / scale.detach()).cpu().numpy()
    xs = x.detach().cpu().numpy()
    np.testing.assert_allclose(loc.grad.cpu().numpy(), (2 * xs).mean(0), rtol=1e-4)
    np.testing.assert_allclose(scale.grad.cpu().numpy(), (2 * xs * eps).mean(0), rtol=1e-4)
    with pytest.raises(NotImplementedError):
        D.Categorical(ember.ones(3, device=device)).rsample()
    logits = ember.tensor([0.5, -1.0, 0.0], device=device, requires_grad=True)
    sample = D.OneHotCategoricalStraightThrough(logits=logits).rsample((4,))
    assert bool((sample.detach().sum(-1) == 1).all())
    (sample * ember.tensor([1.0, 2.0, 3.0], device=device)).sum().backward()
    t_logits = torch.tensor([0.5, -1.0, 0.0], requires_grad=True)
    (4 * (t_logits.softmax(-1) * torch.tensor([1.0, 2.0, 3.0])).sum()).backward()
    assert_close(logits.grad, t_logits.grad, rtol=1e-5, atol=1e-6)


def test_gamma_family_rsample_gradients(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    f64 = {"dtype": ember.float64, "device": device}
    concentration = ember.tensor([0.5, 2.0, 7.0], **f64)
    rate = ember.tensor([1.5, 0.5, 2.0], **f64, requires_grad=True)
    x = D.Gamma(concentration, rate).rsample((200,))
    assert bool((x > 0).all())
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.cpu().numpy(), (-x.detach() / rate.detach()).sum(0).cpu().numpy(), rtol=1e-10)
    loc, scale = (
        ember.tensor([0.5, -1.0], **f64, requires_grad=True),
        ember.tensor([2.0, 0.3], **f64, requires_grad=True),
    )

    def student(loc, scale):
        ember.manual_seed(2)
        return D.StudentT(ember.tensor([3.0, 8.0], **f64), loc, scale).rsample((4,))

    assert gradcheck(student, (loc, scale))


def test_gamma_implicit_reparameterization_gradients(device):
    from ember.distributions._sampling import standard_gamma_grad

    dtype = ember.float64 if ember.backends.get_backend(device).supports_float64 else ember.float32
    alpha = np.array([0.01, 0.3, 2.0, 50.0, 1000.0])
    x = torch.tensor([3.5e-15, 0.037, 0.85, 46.1, 972.5], dtype=torch.float64)
    # -(dP/da) / p(x), dP/da by central differences of torch's gammainc (torch._standard_gamma_grad is
    # an approximation, ~1e-4 relative)
    a, h = torch.tensor(alpha), 1e-6
    dp_da = (torch.special.gammainc(a + h, x) - torch.special.gammainc(a - h, x)) / (2 * h)
    expected = -dp_da / TD.Gamma(a, 1.0).log_prob(x).exp()
    actual = standard_gamma_grad(
        ember.tensor(x.numpy(), dtype=dtype, device=device), ember.tensor(alpha, dtype=dtype, device=device)
    )
    assert_close(actual, expected.to(getattr(torch, dtype.name)), rtol=1e-5, atol=1e-12)
    # d/dconcentration E[x] = 1/rate and d/drate E[x] = -concentration/rate^2, estimated from the draws
    concentration = ember.tensor([0.4, 3.0], dtype=dtype, device=device, requires_grad=True)
    rate = ember.tensor([2.0, 0.5], dtype=dtype, device=device, requires_grad=True)
    ember.manual_seed(4)
    D.Gamma(concentration, rate).rsample((8000,)).mean(0).sum().backward()
    np.testing.assert_allclose(concentration.grad.cpu().numpy(), [0.5, 2.0], rtol=0.05)
    np.testing.assert_allclose(rate.grad.cpu().numpy(), [-0.1, -12.0], rtol=0.05)
    for make in (lambda c: D.Dirichlet(c), lambda c: D.Beta(c, c), lambda c: D.StudentT(c), lambda c: D.Chi2(c)):
        param = ember.tensor([2.0, 3.0], dtype=dtype, device=device, requires_grad=True)
        make(param).rsample((3,)).sum().backward()
        assert param.grad is not None and bool(ember.isfinite(param.grad).all())


def test_multivariate_normal_cholesky_fails_like_torch(device):
    not_pd = [[1.0, 2.0], [2.0, 1.0]]
    with pytest.raises(RuntimeError, match="positive-definite"):
        D.MultivariateNormal(ember.zeros(2, device=device), ember.tensor(not_pd, device=device), validate_args=False)
    with pytest.raises(RuntimeError):
        TD.MultivariateNormal(torch.zeros(2), torch.tensor(not_pd), validate_args=False)


def _raises_like(e_fn, t_fn):
    with pytest.raises(Exception) as t_info:
        t_fn()
    with pytest.raises(type(t_info.value)) as e_info:
        e_fn()
    return str(e_info.value), str(t_info.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, T: lib.Normal(T([0.0]), T([-1.0])),
        lambda lib, T: lib.Normal(T([0.0]), T([1.0])).log_prob(T([float("nan")])),
        lambda lib, T: lib.Normal(T([0.0, 0.0]), T([1.0, 1.0])).log_prob(T([1.0, 2.0, 3.0])),
        lambda lib, T: lib.Normal(T([0.0]), T([1.0])).log_prob([1.0]),
        lambda lib, T: lib.Categorical(T([0.5, 0.5]), logits=T([0.0, 0.0])),
        lambda lib, T: lib.Categorical(),
        lambda lib, T: lib.Categorical(T(0.5)),
        lambda lib, T: lib.Categorical(T([-0.5, 1.5])),
        lambda lib, T: lib.Categorical(T([0.5, 0.5])).log_prob(T([2.0])),
        lambda lib, T: lib.Bernoulli(T([1.5])),
        lambda lib, T: lib.Bernoulli(T([0.5])).log_prob(T([0.5])),
        lambda lib, T: lib.Uniform(T([1.0]), T([0.0])),
        lambda lib, T: lib.Uniform(T([0.0]), T([1.0])).log_prob(T([2.0])),
        lambda lib, T: lib.Independent(lib.Normal(T([0.0]), T([1.0])), 2),
        lambda lib, T: lib.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 2.0], [2.0, 1.0]])),
        lambda lib, T: lib.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 1.0], [0.0, 1.0]])),
        lambda lib, T: lib.MultivariateNormal(T([0.0, 0.0])),
        lambda lib, T: lib.MultivariateNormal(T(0.0), T([[1.0]])),
        lambda lib, T: lib.MultivariateNormal(T([0.0]), T([1.0])),
        lambda lib, T: lib.MultivariateNormal(T([0.0]), T([[1.0]])).log_prob(T([0.0, 1.0])),
        lambda lib, T: lib.OneHotCategorical(T([0.5, 0.5])).log_prob(T([1.0, 1.0])),
        lambda lib, T: lib.Exponential(T([0.0])),
        lambda lib, T: lib.Exponential(T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.Laplace(T([0.0]), T([0.0])),
        lambda lib, T: lib.LogNormal(T([0.0]), T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.TransformedDistribution(lib.Normal(T(0.0), T(1.0)), [1]),
        lambda lib, T: lib.Poisson(T([-1.0])),
        lambda lib, T: lib.Gamma(T([0.0]), T([1.0])),
        lambda lib, T: lib.Gamma(T([1.0]), T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.Beta(T([1.0]), T([-1.0])),
        lambda lib, T: lib.Beta(T([1.0]), T([1.0])).log_prob(T([1.5])),
        lambda lib, T: lib.Dirichlet(T(1.0)),
        lambda lib, T: lib.Dirichlet(T([1.0, 1.0])).log_prob(T([0.7, 0.7])),
        lambda lib, T: lib.StudentT(T([-1.0])),
        lambda lib, T: lib.Chi2(T([0.0])),
        lambda lib, T: lib.Cauchy(T([0.0]), T([-1.0])),
        lambda lib, T: lib.NegativeBinomial(T([-1.0]), T([0.5])),
        lambda lib, T: lib.NegativeBinomial(T([1.0]), T([1.0])),
        lambda lib, T: lib.NegativeBinomial(T([1.0]), T([0.5])).log_prob(T([0.5])),
        lambda lib, T: lib.MixtureSameFamily(lib.Bernoulli(T([0.5])), lib.Normal(T([0.0]), T([1.0]))),
        lambda lib, T: lib.MixtureSameFamily(lib.Categorical(T([0.5, 0.5])), lib.Normal(T([0.0] * 3), T([1.0] * 3))),
        lambda lib, T: lib.MixtureSameFamily(
            lib.Categorical(T([0.5, 0.5])), lib.Normal(T([0.0] * 2), T([1.0] * 2))
        ).entropy(),
        lambda lib, T: lib.LowRankMultivariateNormal(T([0.0, 0.0]), T([1.0, 1.0]), T([1.0, 1.0])),
        lambda lib, T: lib.LowRankMultivariateNormal(T([0.0, 0.0]), T([[1.0, 1.0]]), T([1.0, 1.0])),
        lambda lib, T: lib.LowRankMultivariateNormal(T([0.0, 0.0]), T([[1.0], [1.0]]), T([1.0])),
        lambda lib, T: lib.LowRankMultivariateNormal(T([0.0, 0.0]), T([[1.0], [1.0]]), T([1.0, -1.0])),
        lambda lib, T: lib.HalfNormal(T([1.0])).log_prob(T([-1.0])),
        lambda lib, T: lib.HalfCauchy(T([-1.0])),
        lambda lib, T: lib.Gumbel(T([0.0]), T([0.0])),
        lambda lib, T: lib.Multinomial(3, T([0.5, 0.5])).log_prob(T([2.0, 2.0])),
        lambda lib, T: lib.Multinomial(3, T([0.5, 0.5])).log_prob(T([-1.0, 2.0])),
        lambda lib, T: lib.Poisson(T([1.0])).log_prob(T([0.5])),
        lambda lib, T: lib.Binomial(3, T([0.5]), T([0.0])),
        lambda lib, T: lib.Binomial(3, T([0.5])).log_prob(T([4.0])),
        lambda lib, T: lib.Binomial(T([2.0, 3.0]), T([0.5, 0.5])).entropy(),
        lambda lib, T: lib.Binomial(T([-2.0]), T([0.5])),
        lambda lib, T: lib.Geometric(T([0.0])),
        lambda lib, T: lib.Geometric(T([0.5])).log_prob(T([-1.0])),
        lambda lib, T: lib.TransformedDistribution(
            lib.Normal(T(0.0), T(1.0)), lib.transforms.AffineTransform(T([0.0]), T([[1.0]]), event_dim=2)
        ),
    ],
)
def test_validation_errors_match_torch(make, device):
    e_msg, t_msg = _raises_like(
        lambda: make(D, lambda v: ember.tensor(v, device=device)), lambda: make(TD, torch.tensor)
    )
    if t_msg:  # torch's base class raises a bare NotImplementedError; ember's names the class
        assert e_msg.replace("ember", "torch").split("(")[0] == t_msg.split("(")[0]


def test_validation_can_be_switched_off(device):
    D.Distribution.set_default_validate_args(False)
    try:
        assert float(D.Normal(0.0, -1.0).scale) == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    dist = D.Normal(ember.zeros(1, device=device), ember.tensor([-1.0], device=device), validate_args=False)
    assert dist.scale.shape == (1,)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)


def _loc_scale():
    return {"loc": _normal(3), "scale": _positive(3)}


def _gamma():
    return {"concentration": _positive(3), "rate": _positive(3)}


KL_PAIRS = [
    ("Normal", _loc_scale(), "Normal", _loc_scale()),
    ("Categorical", {"probs": _simplex(2, 4)}, "Categorical", {"logits": _normal(2, 4)}),
    ("Bernoulli", {"probs": _unit(3)}, "Bernoulli", {"logits": _normal(3)}),
    (
        "Uniform",
        {"low": np.array([0.0, 0.0]), "high": np.array([1.0, 3.0])},
        "Uniform",
        {"low": np.array([-1.0, 0.5]), "high": np.array([2.0, 4.0])},
    ),
    (
        "Uniform",
        {"low": np.array([0.0, -1.0]), "high": np.array([1.0, 3.0])},
        "Normal",
        {"loc": _normal(2), "scale": _positive(2)},
    ),
    (
        "MultivariateNormal",
        {"loc": _normal(2, 3), "scale_tril": np.linalg.cholesky(_spd(3, 3))},
        "MultivariateNormal",
        {"loc": _normal(3), "covariance_matrix": _spd(2, 3, 3)},
    ),
    ("OneHotCategorical", {"probs": _simplex(2, 4)}, "OneHotCategorical", {"logits": _normal(2, 4)}),
    ("Exponential", {"rate": _positive(3)}, "Exponential", {"rate": _positive(3)}),
    ("Laplace", _loc_scale(), "Laplace", _loc_scale()),
    ("LogNormal", _loc_scale(), "LogNormal", _loc_scale()),
    ("Poisson", {"rate": _positive(3)}, "Poisson", {"rate": _positive(3)}),
    ("Geometric", {"probs": _unit(3)}, "Geometric", {"logits": _normal(3)}),
    (
        "Binomial",
        {"total_count": np.array([5.0, 7.0]), "probs": _unit(2)},
        "Binomial",
        {"total_count": np.array([5.0, 6.0]), "logits": _normal(2)},
    ),
    ("Gamma", _gamma(), "Gamma", _gamma()),
    ("Chi2", {"df": _positive(3)}, "Chi2", {"df": _positive(3)}),
    (
        "Beta",
        {"concentration1": _positive(3), "concentration0": _positive(3)},
        "Beta",
        {"concentration1": _positive(3), "concentration0": _positive(3)},
    ),
    ("Dirichlet", {"concentration": _positive(2, 3)}, "Dirichlet", {"concentration": _positive(3)}),
    ("Cauchy", _loc_scale(), "Cauchy", _loc_scale()),
    ("HalfNormal", {"scale": _positive(3)}, "HalfNormal", {"scale": _positive(3)}),
    ("Gumbel", _loc_scale(), "Gumbel", _loc_scale()),
    ("Exponential", {"rate": _positive(3)}, "Normal", _loc_scale()),
    ("Gamma", _gamma(), "Normal", _loc_scale()),
    ("Gumbel", _loc_scale(), "Normal", _loc_scale()),
    ("Laplace", _loc_scale(), "Normal", _loc_scale()),
    ("Exponential", {"rate": _positive(3)}, "Gamma", _gamma()),
    ("Gamma", _gamma(), "Exponential", {"rate": _positive(3)}),
    ("Normal", _loc_scale(), "Laplace", _loc_scale()),
    ("Normal", _loc_scale(), "Gumbel", _loc_scale()),
]


@pytest.mark.parametrize("pair", KL_PAIRS, ids=[f"{p[0]}-{p[2]}" for p in KL_PAIRS])
def test_kl_divergence_matches_torch(pair, device, dtype):
    p_cls, p_params, q_cls, q_params = pair
    e_p, t_p, e_pk, t_pk = _pair(Case(p_cls, p_params), device, dtype)
    e_q, t_q, e_qk, t_qk = _pair(Case(q_cls, q_params), device, dtype)
    e_kl, t_kl = D.kl_divergence(e_p, e_q), TD.kl_divergence(t_p, t_q)
    rtol = 1e-4 if dtype == ember.float32 else 1e-7
    assert_close(e_kl, t_kl, dtype, rtol=rtol, atol=rtol, what="kl")
    t_kl.sum().backward()
    e_kl.sum().backward()
    for e_params, t_params in ((e_pk, t_pk), (e_qk, t_qk)):
        for name, t_param in t_params.items():
            if t_param.grad is not None:
                assert_close(e_params[name].grad, t_param.grad, dtype, rtol=rtol * 10, atol=rtol * 10, what=name)


def test_kl_infinite_support_mismatch_and_dispatch(device):
    e = D.kl_divergence(
        D.Uniform(ember.tensor([0.0], device=device), ember.tensor([2.0], device=device)),
        D.Uniform(ember.tensor([0.5], device=device), ember.tensor([1.0], device=device)),
    )
    assert float(e[0]) == float("inf")
    independent = D.Independent(D.Normal(ember.zeros(2, 3, device=device), 1.0), 1)
    kl = D.kl_divergence(independent, D.Independent(D.Normal(ember.ones(2, 3, device=device), 1.0), 1))
    np.testing.assert_allclose(kl.cpu().numpy(), [1.5, 1.5], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))


@pytest.mark.parametrize(
    "p,q",
    [
        (lambda lib, T: lib.Normal(T([0.0]), T([1.0])), lambda lib, T: lib.Uniform(T([0.0]), T([1.0]))),
        (lambda lib, T: lib.Laplace(T([0.0]), T([1.0])), lambda lib, T: lib.Gamma(T([2.0]), T([1.0]))),
        (lambda lib, T: lib.Gumbel(T([0.0]), T([1.0])), lambda lib, T: lib.Exponential(T([1.0]))),
        (lambda lib, T: lib.Exponential(T([1.0])), lambda lib, T: lib.Beta(T([2.0]), T([1.0]))),
        (lambda lib, T: lib.Gamma(T([2.0]), T([1.0])), lambda lib, T: lib.Uniform(T([0.0]), T([5.0]))),
    ],
)
def test_kl_support_mismatch_is_infinite_as_torch(p, q, device):
    def make(lib, T):
        return lib.kl_divergence(p(lib, T), q(lib, T))

    assert_close(make(D, lambda v: ember.tensor(v, device=device)), make(TD, torch.tensor))


def test_register_kl_prefers_the_most_specific_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return ember.tensor(42.0)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0))) == 0.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_independent_and_constraints(device):
    base = D.Normal(ember.zeros(2, 3, device=device), ember.ones(2, 3, device=device))
    ind = D.Independent(base, 1)
    t_ind = TD.Independent(TD.Normal(torch.zeros(2, 3), torch.ones(2, 3)), 1)
    assert (tuple(ind.batch_shape), tuple(ind.event_shape)) == ((2,), (3,))
    assert repr(ind.support) == repr(t_ind.support)
    value = _normal(2, 3)
    assert_close(
        ind.log_prob(ember.tensor(value, device=device)), t_ind.log_prob(torch.tensor(value, dtype=torch.float32))
    )
    assert_close(ind.entropy(), t_ind.entropy())
    assert ind.has_rsample and not ind.has_enumerate_support
    assert repr(D.constraints.interval(0.0, 1.0)) == repr(TD.constraints.interval(0.0, 1.0))
    for name in ("real", "positive", "simplex", "unit_interval", "boolean", "nonnegative_integer", "lower_cholesky"):
        assert repr(getattr(D.constraints, name)) == repr(getattr(TD.constraints, name))
    x = np.array([[1.0, 0.0], [0.5, 2.0]])
    for make in (
        lambda c: c.cat([c.unit_interval, c.positive], 1, [1, 1]),
        lambda c: c.stack([c.unit_interval, c.positive], 1),
        lambda c: c.stack([c.real], -1),
    ):
        e_c, t_c = make(D.constraints), make(TD.constraints)
        assert (e_c.event_dim, e_c.is_discrete) == (t_c.event_dim, t_c.is_discrete)
        assert_close(e_c.check(ember.tensor(x, device=device)), t_c.check(torch.tensor(x)), what="cat/stack")
    for name in ("real", "positive", "simplex", "lower_cholesky", "positive_definite", "lower_triangular", "symmetric"):
        e_check = getattr(D.constraints, name).check(ember.tensor(x, device=device))
        assert_close(e_check, getattr(TD.constraints, name).check(torch.tensor(x)), what=name)


@pytest.mark.parametrize(
    "name,args,shape",
    [
        ("real", (), (2, 3)),
        ("real_vector", (), (2, 3)),
        ("positive", (), (2, 3)),
        ("nonnegative", (), (3,)),
        ("greater_than", (1.5,), (3,)),
        ("greater_than_eq", (-1.0,), (3,)),
        ("less_than", (2.0,), (3,)),
        ("unit_interval", (), (2, 3)),
        ("interval", (-2.0, 3.0), (2, 3)),
        ("half_open_interval", (0.0, 4.0), (3,)),
        ("simplex", (), (2, 3)),
    ],
)
def test_biject_to_and_transform_to_match_torch(name, args, shape, device):
    x = _normal(*shape)
    dtype = ember.float64 if ember.backends.get_backend(device).supports_float64 else ember.float32
    e_x = ember.tensor(x, dtype=dtype, device=device)
    t_x = torch.tensor(x, dtype=getattr(torch, e_x.dtype.name))
    e_constraint, t_constraint = getattr(D.constraints, name), getattr(TD.constraints, name)
    if args:
        e_constraint, t_constraint = e_constraint(*args), t_constraint(*args)
    for e_registry, t_registry in ((D.biject_to, TD.biject_to), (D.transform_to, TD.transform_to)):
        e_t, t_t = e_registry(e_constraint), t_registry(t_constraint)
        assert repr(e_t) == repr(t_t)
        e_y, t_y = e_t(e_x), t_t(t_x)
        assert_close(e_y, t_y, what=f"{name} forward")
        assert bool(e_constraint.check(e_y).all())
        assert_close(e_t.inv(e_y), t_t.inv(t_y), rtol=1e-4, atol=1e-5, what=f"{name} inverse")
        if e_t.bijective:
            assert_close(e_t.log_abs_det_jacobian(e_x, e_y), t_t.log_abs_det_jacobian(t_x, t_y), what=f"{name} ladj")
    with pytest.raises(NotImplementedError):
        D.biject_to(D.constraints.boolean)


def test_stick_breaking_dirichlet_density_matches_torch(device):
    """A Dirichlet density pulled back to unconstrained space (what HMC samples), against torch's."""
    concentration, x = _positive(3), _normal(4, 2)
    e_t, t_t = D.biject_to(D.constraints.simplex), TD.biject_to(TD.constraints.simplex)
    e_dist = D.TransformedDistribution(D.Independent(D.Normal(ember.zeros(2, device=device), 1.0), 1), e_t)
    t_dist = TD.TransformedDistribution(TD.Independent(TD.Normal(torch.zeros(2), 1.0), 1), t_t)
    value = t_t(torch.tensor(x, dtype=torch.float32))
    assert_close(
        e_dist.log_prob(ember.tensor(value.numpy(), device=device)), t_dist.log_prob(value), rtol=1e-4, atol=1e-4
    )
    e_density = D.Dirichlet(ember.tensor(concentration, dtype=ember.float32, device=device)).log_prob(
        ember.tensor(value.numpy(), device=device)
    )
    t_density = TD.Dirichlet(torch.tensor(concentration, dtype=torch.float32)).log_prob(value)
    assert_close(e_density, t_density, rtol=1e-4, atol=1e-4)


def test_gamma_cdf_matches_torch(device, dtype):
    concentration, rate, value = np.array([0.3, 2.0, 9.0, 250.0]), _positive(4), np.array([0.05, 1.2, 30.0, 160.0])
    e_rate = ember.tensor(rate, dtype=dtype, device=device, requires_grad=True)
    t_rate = torch.tensor(rate, dtype=getattr(torch, dtype.name), requires_grad=True)
    e_value = ember.tensor(value, dtype=dtype, device=device, requires_grad=True)
    t_value = torch.tensor(value, dtype=getattr(torch, dtype.name), requires_grad=True)
    e_cdf = D.Gamma(ember.tensor(concentration, dtype=dtype, device=device), e_rate).cdf(e_value)
    t_cdf = TD.Gamma(torch.tensor(concentration, dtype=t_rate.dtype), t_rate).cdf(t_value)
    tol = 1e-4 if dtype == ember.float32 else 1e-9
    assert_close(e_cdf, t_cdf, dtype, rtol=tol, atol=tol)
    e_cdf.sum().backward()
    t_cdf.sum().backward()
    assert_close(e_rate.grad, t_rate.grad, dtype, rtol=tol * 10, atol=tol * 10, what="grad rate")
    assert_close(e_value.grad, t_value.grad, dtype, rtol=tol * 10, atol=tol * 10, what="grad value")
    e_chi2 = D.Chi2(ember.tensor([3.0], dtype=dtype, device=device)).cdf(
        ember.tensor([2.5], dtype=dtype, device=device)
    )
    assert_close(
        e_chi2, TD.Chi2(torch.tensor([3.0], dtype=t_rate.dtype)).cdf(torch.tensor([2.5], dtype=t_rate.dtype)), dtype
    )
    learned = D.Gamma(ember.tensor([2.0], device=device, requires_grad=True), 1.0).cdf(
        ember.tensor([1.0], device=device)
    )
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented"):
        learned.sum().backward()  # as PyTorch: the value is computed, differentiating in the concentration raises
