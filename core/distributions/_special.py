"""Special functions composed of ember ops (private): ``lgamma`` and ``erfinv``.

ember has no ``lgamma``/``erfinv`` in this tree yet; the distributions need them for the log-pmf of
the counting families and for ``Normal.icdf``. Both are differentiable through autograd.
"""

from __future__ import annotations

import math

import ember

# Lanczos approximation, g = 7, nine coefficients: relative error below 1e-15 for x >= 0.5.
_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)


def _lgamma_lanczos(x):
    z = x - 1.0
    series = _LANCZOS[0] + sum(c / (z + i) for i, c in enumerate(_LANCZOS[1:], 1))
    t = z + (_LANCZOS_G + 0.5)
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * t.log() - t + series.log()


def lgamma(x):
    """``log|Gamma(x)|`` elementwise, computed in float64 (where the device has it) and cast back."""
    dtype = x.dtype
    if x._backend.supports_float64:
        x = x.to(ember.float64)
    reflect = x < 0.5
    direct = _lgamma_lanczos(ember.where(reflect, 1.0 - x, x))
    safe = ember.where(reflect, x, ember.full_like(x, 0.25))
    reflected = math.log(math.pi) - (math.pi * safe).sin().abs().log() - direct
    return ember.where(reflect, reflected, direct).to(dtype)


def _erfinv_guess(y):
    """Giles' single-precision polynomial approximation of ``erfinv``."""
    w = -((1.0 - y) * (1.0 + y)).log()
    central = w - 2.5
    p = ember.full_like(y, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164):
        p = c + p * central
    p = 1.50140941 + (0.246640727 + p * central) * central
    tail = w.clamp(min=5.0).sqrt() - 3.0
    q = ember.full_like(y, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047):
        q = c + q * tail
    q = 2.83297682 + (1.00167406 + q * tail) * tail
    return ember.where(w < 5.0, p, q) * y


def erfinv(y):
    """Inverse error function elementwise: Giles' guess refined by Newton steps on ``erf``."""
    scale = math.sqrt(math.pi) / 2
    with ember.no_grad():
        x = _erfinv_guess(y.detach())
        for _ in range(2):
            x = x - (ember.erf(x) - y) * scale * (x * x).exp()
    # one last step with ``y`` attached: its derivative is erfinv's, sqrt(pi)/2 * exp(x^2)
    return x + (y - ember.erf(x)) * scale * (x * x).exp()


# digamma: psi(x) = psi(x + 10) - sum_{i<10} 1/(x+i), then the asymptotic series at x + 10 >= 10.
_DIGAMMA_SHIFT = 10
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132)


def digamma(x):
    """``d/dx log Gamma(x)`` for ``x > 0`` elementwise (float64 where the device has it, cast back)."""
    dtype = x.dtype
    if x._backend.supports_float64:
        x = x.to(ember.float64)
    shift = sum(1.0 / (x + i) for i in range(_DIGAMMA_SHIFT))
    z = x + _DIGAMMA_SHIFT
    inv2 = 1.0 / (z * z)
    series = 0.0
    for c in reversed(_DIGAMMA_SERIES):
        series = (series + c) * inv2
    return (z.log() - 0.5 / z - series - shift).to(dtype)


# the regularized incomplete gamma: its series (below a + 1) and continued fraction (above) are
# iterated until every element's last step is below this relative size; the host checks every few steps
_GAMMAINC_TOLERANCE = 1e-15
_GAMMAINC_CHECK_EVERY = 8
_GAMMAINC_MAX_STEPS = 4096


def _gammainc_series(a, x):
    """``P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n prod_{k<=n} x / (a + k)``."""
    term = ember.ones_like(x)
    total = ember.ones_like(x)
    for k in range(1, _GAMMAINC_MAX_STEPS + 1):
        term = term * x / (a + k)
        total = total + term
        if k % _GAMMAINC_CHECK_EVERY == 0 and not bool((term > _GAMMAINC_TOLERANCE * total).any()):
            break
    return (a * x.log() - x - lgamma(a + 1)).exp() * total


def _gammaincc_fraction(a, x):
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


def gammainc(a, x):
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
