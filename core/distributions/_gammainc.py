"""The regularized lower incomplete gamma function ``P(a, x)`` (private), for ``Gamma.cdf`` and
``Chi2.cdf``: its series below ``a + 1``, Legendre's continued fraction above, composed of ember ops."""

from __future__ import annotations

import ember

from ..ops.special import lgamma
from ..tensor import Tensor

# the regularized incomplete gamma: its series (below a + 1) and continued fraction (above) are
# iterated until every element's last step is below this relative size; the host checks every few steps
_GAMMAINC_TOLERANCE = 1e-15
_GAMMAINC_CHECK_EVERY = 8
_GAMMAINC_MAX_STEPS = 4096


def _gammainc_series(a: Tensor, x: Tensor) -> Tensor:
    """``P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n prod_{k<=n} x / (a + k)``."""
    term = ember.ones_like(x)
    total = ember.ones_like(x)
    for k in range(1, _GAMMAINC_MAX_STEPS + 1):
        term = term * x / (a + k)
        total = total + term
        if k % _GAMMAINC_CHECK_EVERY == 0 and not bool((term > _GAMMAINC_TOLERANCE * total).any()):
            break
    return (a * x.log() - x - lgamma(a + 1)).exp() * total


def _gammaincc_fraction(a: Tensor, x: Tensor) -> Tensor:
    """``Q(a, x)`` by Legendre's continued fraction, evaluated with the modified Lentz method."""
    tiny = 1e-300 if x.dtype == ember.float64 else 1e-30
    b = x + 1 - a
    c = ember.full_like(x, 1 / tiny)
    d = 1 / b
    h = d
    for i in range(1, _GAMMAINC_MAX_STEPS + 1):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = ember.where(d.abs() < tiny, ember.full_like(d, tiny), d)
        c = b + an / c
        c = ember.where(c.abs() < tiny, ember.full_like(c, tiny), c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if i % _GAMMAINC_CHECK_EVERY == 0 and not bool(((delta - 1).abs() > _GAMMAINC_TOLERANCE).any()):
            break
    return (a * x.log() - x - lgamma(a)).exp() * h


def gammainc(a: Tensor, x: Tensor) -> Tensor:
    """The regularized lower incomplete gamma ``P(a, x)`` for ``a > 0``, ``x >= 0`` (no gradient)."""
    with ember.no_grad():
        dtype = x.dtype
        if x._backend.supports_float64:
            a, x = a.to(ember.float64), x.to(ember.float64)
        a, x = ember.broadcast_tensors(a, x)
        series = x < a + 1
        low = _gammainc_series(a, ember.where(series, x, ember.zeros_like(x)))
        high = 1 - _gammaincc_fraction(a, ember.where(series, a + 1, x))
        return ember.where(x <= 0, ember.zeros_like(x), ember.where(series, low, high)).to(dtype)
