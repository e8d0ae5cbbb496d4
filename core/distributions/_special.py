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
