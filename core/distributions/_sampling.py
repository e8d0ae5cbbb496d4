"""Samplers for the counting distributions, composed of ember's uniform draws (private).

ember has no ``poisson``/``binomial`` sampling op in this tree; these loops draw from
``ember.rand`` on the parameters' device (so ``manual_seed`` fixes them) until every element is
accepted. Each loop round checks on the host whether any element is still pending.
"""

from __future__ import annotations

import ember

from ..ops.dtype_support import not_implemented
from ..ops.special import digamma, lgamma
from ..random import native_generator
from ..tensor import Tensor, _new

# Below this rate Poisson draws count uniform products (Knuth); above it they use Hoermann's
# transformed rejection (PTRS), whose acceptance rate is above 90 %.
_SMALL_RATE = 10.0
# Binomial draws sum Bernoulli trials in chunks of this many, keeping memory bounded.
_TRIALS_PER_CHUNK = 256


def _uniform(like: Tensor, generator: ember.Generator | None = None) -> Tensor:
    return ember.rand(like.shape, dtype=like.dtype, device=like.device, generator=generator)


def _poisson_small(rate: Tensor, generator: ember.Generator | None) -> Tensor:
    """Knuth's method: the number of uniform draws whose running product stays above ``exp(-rate)``."""
    limit = (-rate).exp()
    product = ember.ones_like(rate)
    count = ember.zeros_like(rate)
    while True:
        product = product * _uniform(rate, generator)
        active = product > limit
        if not bool(active.any()):
            return count
        count = count + active.to(rate.dtype)


def _poisson_large(rate: Tensor, generator: ember.Generator | None) -> Tensor:
    """Hoermann's PTRS ("The transformed rejection method for generating Poisson random variables", 1993)."""
    slam = rate.sqrt()
    loglam = rate.log()
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_invalpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    vr = 0.9277 - 3.6224 / (b - 2)
    result = ember.zeros_like(rate)
    pending = ember.ones_like(rate, dtype=ember.bool)
    while bool(pending.any()):
        u = _uniform(rate, generator) - 0.5
        v = _uniform(rate, generator)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + rate + 0.43).floor()
        quick = (us >= 0.07) & (v <= vr)
        rejected = (k < 0) | ((us < 0.013) & (v > us))
        log_ratio = v.log() + log_invalpha - (a / (us * us) + b).log()
        exact = log_ratio <= -rate + k * loglam - lgamma(k.clamp(min=0) + 1)
        accept = pending & (quick | (~rejected & exact))
        result = ember.where(accept, k, result)
        pending = pending & ~accept
    return result


def poisson(rate: Tensor, generator: ember.Generator | None = None) -> Tensor:
    """Poisson draws of the shape of ``rate`` (already expanded to the sample shape): the backend
    generator's (PyTorch's samples on cpu), else Knuth's method below 10 and a transformed
    rejection above."""
    if not rate.dtype.is_floating_point:
        not_implemented("poisson_cpu", rate.dtype)
    backend, device = rate._backend, rate.device
    sampled = native_generator(generator, backend, device.index).poisson(rate.detach().contiguous()._data)
    if sampled is not None:
        return _new(sampled, backend, device)
    with ember.no_grad():
        small = rate < _SMALL_RATE
        low = _poisson_small(ember.where(small, rate, ember.zeros_like(rate)), generator)
        if not bool((~small).any()):
            return low
        high = _poisson_large(ember.where(small, ember.full_like(rate, _SMALL_RATE), rate), generator)
        return ember.where(small, low, high)


def standard_gamma(concentration: Tensor, generator: ember.Generator | None = None) -> Tensor:
    """Gamma(concentration, 1) draws: the backend generator's (PyTorch's samples on cpu), else
    Marsaglia and Tsang's (2000), boosted by ``U^(1/a)`` below 1."""
    if not concentration.dtype.is_floating_point:
        not_implemented("gamma_cpu", concentration.dtype)
    backend, device = concentration._backend, concentration.device
    native = native_generator(generator, backend, device.index)
    sampled = native.standard_gamma(concentration.detach().contiguous()._data)
    if sampled is not None:
        return _new(sampled, backend, device)
    with ember.no_grad():
        boost = concentration < 1
        a = ember.where(boost, concentration + 1, concentration)
        d = a - 1.0 / 3.0
        c = (9 * d).rsqrt()
        result = ember.zeros_like(a)
        pending = ember.ones_like(a, dtype=ember.bool)
        while bool(pending.any()):
            z = ember.randn(a.shape, dtype=a.dtype, device=a.device, generator=generator)
            v = (1 + c * z) ** 3
            positive = v > 0
            safe_v = ember.where(positive, v, ember.ones_like(v))
            log_u = _uniform(a, generator).log()
            accept = pending & positive & (log_u < 0.5 * z * z + d - d * safe_v + d * safe_v.log())
            result = ember.where(accept, d * safe_v, result)
            pending = pending & ~accept
        if bool(boost.any()):
            result = ember.where(boost, result * _uniform(a, generator).pow(1.0 / concentration), result)
        return result.clamp(min=ember.finfo(a.dtype).tiny)


# the incomplete-gamma series is summed until its terms fall below this fraction of the sum
_SERIES_TOLERANCE = 1e-15
_SERIES_CHECK_EVERY = 16
_SERIES_MAX_TERMS = 4096


def standard_gamma_grad(x: Tensor, concentration: Tensor) -> Tensor:
    """``dx/dconcentration`` of Gamma(concentration, 1) draws ``x`` by implicit differentiation of the CDF
    (Figurnov et al., 2018): ``-(dP/da) / p(x)``, with ``P(a, x) = x^a e^-x / Gamma(a+1) * S`` and
    ``S = sum_n prod_{k<=n} x / (a + k)``, which simplifies to ``-(x/a) (S (log x - psi(a+1)) + dS/da)``."""
    with ember.no_grad():
        dtype = x.dtype
        if x._backend.supports_float64:
            x, concentration = x.to(ember.float64), concentration.to(ember.float64)
        term = ember.ones_like(x)
        harmonic = ember.zeros_like(x)
        total = ember.ones_like(x)
        total_grad = ember.zeros_like(x)
        for k in range(1, _SERIES_MAX_TERMS + 1):
            term = term * x / (concentration + k)
            harmonic = harmonic + 1.0 / (concentration + k)
            total = total + term
            total_grad = total_grad - term * harmonic
            if k % _SERIES_CHECK_EVERY == 0 and not bool((term > _SERIES_TOLERANCE * total).any()):
                break
        grad = -(x / concentration) * (total * (x.log() - digamma(concentration + 1)) + total_grad)
        return grad.to(dtype)


def beta_marginal_grad(x: Tensor, concentration: Tensor, total: Tensor) -> Tensor:
    """``dx/dconcentration`` of Beta(concentration, total - concentration) draws ``x``, the second parameter
    held, by implicit differentiation of the CDF: ``-(dI_x(a, b)/da) / p(x)``, divided by ``1 - x`` (the
    scale PyTorch's ``_dirichlet_grad`` returns, which it approximates).

    The regularized incomplete beta is its hypergeometric series ``I_y(p, q) = y^p (1-y)^q / (p B(p, q)) S``,
    ``S = sum_n prod_{k<=n} y (p+q+k-1) / (p+k)``, taken at ``y = x`` (``p, q = a, b``) or at ``y = 1 - x``
    (``p, q = b, a``, ``I_x(a, b) = 1 - I_y(b, a)``), whichever converges sooner.
    Differentiating its logarithm in ``a`` leaves ``-(y (1-y) / p) (S dlog(prefactor)/da + dS/da)``, with the
    opposite sign when ``a`` is the series' second parameter."""
    with ember.no_grad():
        dtype = x.dtype
        if x._backend.supports_float64:
            x, concentration, total = x.to(ember.float64), concentration.to(ember.float64), total.to(ember.float64)
        a, b = concentration, total - concentration
        # each side's terms grow until about k = y (p+q) - p, then shrink by about y: take the side that
        # gets below the tolerance sooner (the other can need 1/y terms when a and b are far apart)
        direct_cost = ((x * total - a).clamp(min=0) + 1) / (1 - x)
        swapped_cost = (((1 - x) * total - b).clamp(min=0) + 1) / x
        swap = swapped_cost < direct_cost
        y = ember.where(swap, 1 - x, x)
        p, q = ember.where(swap, b, a), ember.where(swap, a, b)
        # d log(prefactor) / da: for a = p, log y - 1/p - psi(p) + psi(p+q); for a = q, log(1-y) - psi(q) + psi(p+q)
        log_prefactor_grad = ember.where(swap, (-y).log1p() - digamma(q), y.log() - 1 / p - digamma(p)) + digamma(total)
        own = (~swap).to(x.dtype)  # the terms' a-dependence through their denominators p + k when a = p
        term = ember.ones_like(x)
        term_log_grad = ember.zeros_like(x)
        series = ember.ones_like(x)
        series_grad = ember.zeros_like(x)
        for k in range(1, _SERIES_MAX_TERMS + 1):
            term = term * y * (total + k - 1) / (p + k)
            term_log_grad = term_log_grad + 1 / (total + k - 1) - own / (p + k)
            series = series + term
            series_grad = series_grad + term * term_log_grad
            if k % _SERIES_CHECK_EVERY == 0 and not bool((term > _SERIES_TOLERANCE * series).any()):
                break
        grad = (y * (1 - y) / p) * (series * log_prefactor_grad + series_grad)
        grad = ember.where(swap, grad, -grad) / (1 - x)
        return grad.to(dtype)


def reparameterized_gamma(concentration: Tensor, generator: ember.Generator | None = None) -> Tensor:
    """Gamma(concentration, 1) draws whose gradient with respect to ``concentration`` is the implicit
    reparameterization gradient (the draw's value, with ``dx/da`` attached as a linear term)."""
    x = standard_gamma(concentration.detach(), generator)
    if not (ember.is_grad_enabled() and concentration.requires_grad):
        return x
    slope = standard_gamma_grad(x, concentration.detach())
    return x + slope * (concentration - concentration.detach())


def dirichlet(concentration: Tensor, generator: ember.Generator | None = None) -> Tensor:
    """Dirichlet draws along the last dimension of ``concentration``, as PyTorch's ``_sample_dirichlet``: Gamma
    draws in float64 (where the device has it), normalized to sum to 1, rounded to the dtype and kept in
    [the dtype's tiny, the largest number below 1] (a NaN quotient, of infinite draws, at tiny as PyTorch's)."""
    dtype = concentration.dtype
    wide = ember.float64 if concentration._backend.supports_float64 else dtype
    finfo = ember.finfo(dtype)
    with ember.no_grad():
        # row-major whatever the input's layout, as PyTorch's result (a backend's own Gamma draws keep it)
        gammas = standard_gamma(concentration.detach().contiguous().to(wide), generator)
        value = (gammas / gammas.sum(-1, keepdim=True)).to(dtype)
        return value.clamp(min=finfo.tiny, max=1 - finfo.eps / 2).nan_to_num(nan=finfo.tiny)


def binomial(total_count: Tensor, probs: Tensor, generator: ember.Generator | None = None) -> Tensor:
    """Binomial draws (``total_count`` and ``probs`` tensors of one shape): the backend generator's
    (PyTorch's samples on cpu), else Bernoulli trials summed over ``total_count``."""
    backend, device = probs._backend, probs.device
    counts = total_count.detach().to(probs.dtype).contiguous()._data
    sampled = native_generator(generator, backend, device.index).binomial(counts, probs.detach().contiguous()._data)
    if sampled is not None:
        return _new(sampled, backend, device)
    with ember.no_grad():
        trials = int(total_count.max()) if total_count.numel() else 0
        count = ember.zeros_like(probs)
        p = probs.unsqueeze(-1)
        for start in range(0, trials, _TRIALS_PER_CHUNK):
            size = min(_TRIALS_PER_CHUNK, trials - start)
            index = ember.arange(start, start + size, dtype=probs.dtype, device=probs.device)
            shape = tuple(probs.shape) + (size,)
            draws = (ember.rand(shape, dtype=probs.dtype, device=probs.device, generator=generator) < p).to(probs.dtype)
            count = count + (draws * (index < total_count.unsqueeze(-1)).to(probs.dtype)).sum(-1)
        return count
