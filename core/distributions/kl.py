"""Kullback-Leibler divergences between distributions, as ``torch.distributions.kl``.

:func:`kl_divergence` dispatches on the pair of types through the table :func:`register_kl` fills:
the most specific registered pair wins (ties between two equally specific pairs are a warning, as
PyTorch's).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import ember
import ember.nn.functional as F

from ..ops.special import digamma, lgamma
from ._linalg import solve_lower
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import _EULER_GAMMA, Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable[..., ember.Tensor]] = {}
_KL_MEMOIZE: dict[tuple[type, type], Callable[..., ember.Tensor]] = {}
_KLFunction = TypeVar("_KLFunction", bound=Callable[..., Any])


def register_kl(type_p: type, type_q: type) -> Callable[[_KLFunction], _KLFunction]:
    """Decorator registering a pairwise function with :func:`kl_divergence`.

    Args:
        type_p (type): a subclass of :class:`Distribution`.
        type_q (type): a subclass of :class:`Distribution`.

    Example::

        >>> from ember.distributions import Normal, kl_divergence, register_kl
        >>> class MyNormal(Normal):
        ...     pass
        >>> @register_kl(MyNormal, MyNormal)
        ... def kl_mynormal(p, q):
        ...     return ember.zeros(())
        >>> kl_divergence(MyNormal(0.0, 1.0), MyNormal(1.0, 1.0))
        tensor(0.)
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun: _KLFunction) -> _KLFunction:
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun

    return decorator


def _dispatch_kl(type_p: type, type_q: type) -> Callable[..., ember.Tensor] | None:
    """The registered function of the most specific pair ``(super_p, super_q)`` matching the types."""
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return None

    def rank(pair: tuple[type, type]) -> tuple[int, int]:
        return type_p.__mro__.index(pair[0]), type_q.__mro__.index(pair[1])

    left = min(matches, key=rank)
    right = min(matches, key=lambda pair: rank(pair)[::-1])
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(
            f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl"
            f"({left[0].__name__}, {right[1].__name__})",
            RuntimeWarning,
            stacklevel=3,
        )
    return _KL_REGISTRY[left]


def kl_divergence(p: Distribution, q: Distribution) -> ember.Tensor:
    r"""The Kullback-Leibler divergence :math:`KL(p \| q) = \int p(x) \log\frac{p(x)}{q(x)} dx`,
    batched over the distributions' batch shape.

    Args:
        p (Distribution): a distribution.
        q (Distribution): a distribution.

    Raises:
        NotImplementedError: if no function is registered for the pair of types.

    Example::

        >>> from ember.distributions import Normal, kl_divergence
        >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0))
        tensor(0.4431)
    """
    key = (type(p), type(q))
    try:
        fun = _KL_MEMOIZE[key]
    except KeyError:
        fun = _dispatch_kl(*key)  # type: ignore[assignment]
        _KL_MEMOIZE[key] = fun
    if fun is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {p.__class__.__name__} and q type {q.__class__.__name__}"
        )
    return fun(p, q)


def _infinite_where(condition: ember.Tensor, value: ember.Tensor) -> ember.Tensor:
    return ember.where(condition, ember.full_like(value, math.inf), value)


def _zero_where(condition: ember.Tensor, value: ember.Tensor) -> ember.Tensor:
    return ember.where(condition, ember.zeros_like(value), value)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> ember.Tensor:
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _zero_where(p.probs == 0, _infinite_where(q.probs == 0, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _zero_where(p.probs == 1, _infinite_where(q.probs == 1, t2))
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> ember.Tensor:
    sum_params_p = p.concentration1 + p.concentration0
    sum_params_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_params_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_params_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_params_q - sum_params_p) * digamma(sum_params_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> ember.Tensor:
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _infinite_where(p.total_count > q.total_count, kl)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> ember.Tensor:
    t1 = ((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)).log()
    return t1 - (4 * p.scale * q.scale).log()


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> ember.Tensor:
    t = p.probs * (p.logits - q.logits)
    t = _infinite_where((q.probs == 0).expand_as(t), t)
    t = _zero_where((p.probs == 0).expand_as(t), t)
    return t.sum(-1)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> ember.Tensor:
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = digamma(p.concentration) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> ember.Tensor:
    rate_ratio = q.rate / p.rate
    return rate_ratio - rate_ratio.log() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> ember.Tensor:
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> ember.Tensor:
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> ember.Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> ember.Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> ember.Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (q.loc - p.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


def _scale_tril(d: MultivariateNormal | LowRankMultivariateNormal) -> ember.Tensor:
    return d._unbroadcasted_scale_tril if isinstance(d, MultivariateNormal) else d.scale_tril


@register_kl(MultivariateNormal, MultivariateNormal)
@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(
    p: MultivariateNormal | LowRankMultivariateNormal, q: MultivariateNormal | LowRankMultivariateNormal
) -> ember.Tensor:
    if p.event_shape != q.event_shape:
        low_rank = "(Low Rank) " if LowRankMultivariateNormal in (type(p), type(q)) else ""
        raise ValueError(
            f"KL-divergence between two {low_rank}Multivariate Normals with different event shapes cannot be computed"
        )
    p_tril, q_tril = _scale_tril(p), _scale_tril(q)
    half_term1 = q_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) - p_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    batch = ember.broadcast_shapes(tuple(q_tril.shape[:-2]), tuple(p_tril.shape[:-2]))
    n = p.event_shape[0]
    term2 = solve_lower(q_tril.expand(tuple(batch) + (n, n)), p_tril.expand(tuple(batch) + (n, n))).pow(2).sum((-2, -1))
    term3 = _batch_mahalanobis(q_tril, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> ember.Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> ember.Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> ember.Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> ember.Tensor:
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> ember.Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> ember.Tensor:
    common_term = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / common_term).log()
    t2 = common_term.pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


# ---- pairs of different families -------------------------------------------------------------


def _infinity(p: Distribution, q: Distribution) -> ember.Tensor:
    """KL is infinite where p puts mass outside q's support: a bounded or half-line q."""
    return ember.full(p.batch_shape, math.inf, dtype=p.mean.dtype, device=p.mean.device)


_p_type: type[Distribution]
_q_type: type[Distribution]
for _p_type in (Exponential, Gamma, Gumbel, Laplace, Normal):
    for _q_type in (Beta, Uniform):
        register_kl(_p_type, _q_type)(_infinity)
for _p_type in (Gumbel, Laplace, Normal):
    for _q_type in (Exponential, Gamma):
        register_kl(_p_type, _q_type)(_infinity)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> ember.Tensor:
    scale_ratio = p.scale / q.scale
    loc_term = (p.loc - q.loc) / q.scale
    tail = (lgamma(1 + scale_ratio) - loc_term).exp()
    return -scale_ratio.log() + loc_term + scale_ratio * _EULER_GAMMA + tail - (1 + _EULER_GAMMA)


def _kl_to_normal(q: Normal, mean: ember.Tensor, second_moment: ember.Tensor, entropy: ember.Tensor) -> ember.Tensor:
    """KL(p || q) for Normal q from p's mean, E[x^2] and entropy: cross-entropy minus entropy."""
    cross_entropy = 0.5 * (2 * math.pi * q.scale.pow(2)).log()
    cross_entropy = cross_entropy + (second_moment - 2 * q.loc * mean + q.loc.pow(2)) / (2 * q.scale.pow(2))
    return cross_entropy - entropy


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Exponential, q: Normal) -> ember.Tensor:
    return _kl_to_normal(q, p.mean, 2 * p.rate.pow(-2), p.entropy())


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Gamma, q: Normal) -> ember.Tensor:
    second_moment = p.concentration * (p.concentration + 1) / p.rate.pow(2)
    return _kl_to_normal(q, p.mean, second_moment, p.entropy())


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Gumbel, q: Normal) -> ember.Tensor:
    second_moment = p.variance + p.mean.pow(2)
    return _kl_to_normal(q, p.mean, second_moment, p.entropy())


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Laplace, q: Normal) -> ember.Tensor:
    return _kl_to_normal(q, p.loc, 2 * p.scale.pow(2) + p.loc.pow(2), p.entropy())


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> ember.Tensor:
    # E_p[log x] = -log(rate) - euler_gamma, E_p[x] = 1 / rate
    expected_log = -p.rate.log() - _EULER_GAMMA
    cross_entropy = -q.concentration * q.rate.log() + lgamma(q.concentration)
    cross_entropy = cross_entropy - (q.concentration - 1) * expected_log + q.rate / p.rate
    return cross_entropy - p.entropy()


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> ember.Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> ember.Tensor:
    # E_p|x - m| of a normal: sigma sqrt(2/pi) exp(-d^2 / 2 sigma^2) + d erf(d / (sigma sqrt 2)), d = mu - m
    diff = p.loc - q.loc
    expected_abs = math.sqrt(2 / math.pi) * p.scale * (-0.5 * (diff / p.scale).pow(2)).exp()
    expected_abs = expected_abs + diff * ember.erf(diff / (p.scale * math.sqrt(2)))
    return (2 * q.scale).log() + expected_abs / q.scale - p.entropy()


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Normal, q: Gumbel) -> ember.Tensor:
    # -log q(x) = log(scale) + z + exp(-z), z = (x - loc) / scale; E_p exp(-z) by the normal's mgf
    z_mean = (p.loc - q.loc) / q.scale
    z_var = (p.scale / q.scale).pow(2)
    cross_entropy = q.scale.log() + z_mean + (-z_mean + 0.5 * z_var).exp()
    return cross_entropy - p.entropy()


# ---- the exponential families and the families added with them (ContinuousBernoulli, Pareto) ------


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: ExponentialFamily, q: ExponentialFamily) -> ember.Tensor:
    """The Bregman divergence of the log-normalizer between the natural parameters, for one family."""
    if type(p) is not type(q):
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__}: the cross "
            "KL-divergence between different exponential families cannot be computed using Bregman divergences"
        )
    log_normalizer, p_params, gradients = p._log_normalizer_and_gradients()
    q_params = q._natural_params
    result = q._log_normalizer(*q_params) - log_normalizer
    for p_param, q_param, gradient in zip(p_params, q_params, gradients):
        result = result - sum_rightmost((q_param - p_param) * gradient, len(q.event_shape))
    return result


def _x_log_x(x: ember.Tensor) -> ember.Tensor:
    return x * x.log()


def _cross_entropy_with_continuous_bernoulli(mean: ember.Tensor, q: ContinuousBernoulli) -> ember.Tensor:
    """``-E_p[log q(x)]`` from p's mean (q's log-density is linear in x)."""
    return -mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p: ContinuousBernoulli, q: ContinuousBernoulli) -> ember.Tensor:
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> ember.Tensor:
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return _infinite_where(p.scale < q.scale, result)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> ember.Tensor:
    return -p.entropy() + _cross_entropy_with_continuous_bernoulli(p.mean, q)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: ContinuousBernoulli, q: Exponential) -> ember.Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: ContinuousBernoulli, q: Normal) -> ember.Tensor:
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).square()) + q.scale.log()
    t3 = (p.variance + p.mean.square() - 2.0 * q.loc * p.mean) / (2.0 * q.scale.square())
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: ContinuousBernoulli, q: Uniform) -> ember.Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    # PyTorch's condition: infinite unless q's interval reaches past both ends of [0, 1]
    return _infinite_where((q.low >= 0) | (q.high <= 1), result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Uniform, q: ContinuousBernoulli) -> ember.Tensor:
    result = -p.entropy() + _cross_entropy_with_continuous_bernoulli(p.mean, q)
    return _infinite_where((p.high >= 1) | (p.low <= 0), result)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> ember.Tensor:
    scale_rate = p.scale * q.rate
    result = (p.alpha / scale_rate).log() - p.alpha.reciprocal() + p.alpha * scale_rate / (p.alpha - 1) - 1
    return _infinite_where(p.alpha <= 1, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> ember.Tensor:
    common_term = p.scale.log() + p.alpha.reciprocal()
    t1 = p.alpha.log() - common_term
    t2 = lgamma(q.concentration) - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * common_term
    t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
    return _infinite_where(p.alpha <= 1, t1 + t2 + t3 + t4 - 1)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> ember.Tensor:
    var_normal = 2 * q.scale.pow(2)
    common_term = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t2 = p.alpha.reciprocal()
    t3 = p.alpha * common_term.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common_term - q.loc).pow(2)
    return _infinite_where(p.alpha <= 2, t1 - t2 + (t3 + t4) / var_normal - 1)


def _x_log_x_or_zero(x: ember.Tensor) -> ember.Tensor:
    return ember.special.xlogy(x, x)  # 0 at x = 0, the limit


def _uniform_mean_log(p: Uniform) -> ember.Tensor:
    """``E[log x]`` for ``x ~ Uniform(low, high)`` with ``low >= 0``."""
    return (_x_log_x_or_zero(p.high) - _x_log_x_or_zero(p.low)) / (p.high - p.low) - 1


def _gumbel_cross_entropy(q: Gumbel, mean: ember.Tensor, mean_exp: ember.Tensor) -> ember.Tensor:
    """``-E_p[log q(x)]`` for Gumbel ``q`` from ``E[x]`` and ``E[exp(-x / scale)]`` under p."""
    return q.scale.log() + (mean - q.loc) / q.scale + (q.loc / q.scale).exp() * mean_exp


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> ember.Tensor:
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> ember.Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


def _beta_mean_log(p: Beta) -> ember.Tensor:
    return digamma(p.concentration1) - digamma(p.concentration1 + p.concentration0)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> ember.Tensor:
    cross_entropy = lgamma(q.concentration) - q.concentration * q.rate.log() + q.rate * p.mean
    return cross_entropy - (q.concentration - 1) * _beta_mean_log(p) - p.entropy()


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> ember.Tensor:
    return _kl_to_normal(q, p.mean, p.variance + p.mean.pow(2), p.entropy())


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> ember.Tensor:
    return _infinite_where((q.low > 0) | (q.high < 1), -p.entropy() + (q.high - q.low).log())


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Exponential, q: Gumbel) -> ember.Tensor:
    mean_exp = p.rate / (p.rate + q.scale.reciprocal())  # E[exp(-x / s)] for x ~ Exponential(rate)
    return _gumbel_cross_entropy(q, p.mean, mean_exp) - p.entropy()


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Gamma, q: Gumbel) -> ember.Tensor:
    mean_exp = (p.rate / (p.rate + q.scale.reciprocal())).pow(p.concentration)
    return _gumbel_cross_entropy(q, p.mean, mean_exp) - p.entropy()


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> ember.Tensor:
    a, b = q.concentration1, q.concentration0
    # E[log(1 - x)] for x ~ Uniform(low, high): log(1 - x) integrated by parts
    mean_log1m = -(_x_log_x_or_zero(1 - p.high) - _x_log_x_or_zero(1 - p.low)) / (p.high - p.low) - 1
    log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
    result = log_beta - (a - 1) * _uniform_mean_log(p) - (b - 1) * mean_log1m - p.entropy()
    return _infinite_where((p.low < 0) | (p.high > 1), result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> ember.Tensor:
    return _infinite_where(p.low < 0, q.rate * p.mean - q.rate.log() - p.entropy())


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> ember.Tensor:
    cross_entropy = lgamma(q.concentration) - q.concentration * q.rate.log() + q.rate * p.mean
    result = cross_entropy - (q.concentration - 1) * _uniform_mean_log(p) - p.entropy()
    return _infinite_where(p.low < 0, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Uniform, q: Gumbel) -> ember.Tensor:
    width = p.high - p.low
    mean_exp = q.scale * ((-p.low / q.scale).exp() - (-p.high / q.scale).exp()) / width
    return _gumbel_cross_entropy(q, p.mean, mean_exp) - p.entropy()


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> ember.Tensor:
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    return _infinite_where(p.low < q.scale, t2 * (q.alpha + 1) - t1)


for _p_type, _q_type in (
    (Beta, Pareto),
    (ContinuousBernoulli, Pareto),
    (Pareto, Beta),
    (Pareto, ContinuousBernoulli),
    (Pareto, Uniform),
    (Poisson, Bernoulli),
    (Poisson, Binomial),
    *((_p, _q) for _p in (Exponential, Gamma, Gumbel, Laplace, Normal) for _q in (ContinuousBernoulli, Pareto)),
):
    register_kl(_p_type, _q_type)(_infinity)
