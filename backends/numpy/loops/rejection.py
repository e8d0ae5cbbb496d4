"""PyTorch's serial CPU samplers whose number of draws depends on the values drawn (``sample_poisson``,
``sample_gamma``, ``sample_binomial``) as compiled loops over a block of float64 uniforms, for
:class:`..cpu_generator.CpuGenerator` (on the calling thread: each element takes the uniforms after
the previous one's).

The arithmetic is that of :mod:`..serial_samplers` and of PyTorch's templates: a float32 tensor's own
parameters and their products in float32 (the parameters ``one`` and ``third`` carry the dtype, and
Numba keeps float32 operations in float32, calling the C library's float functions for them), the
rest in float64 with the C library's functions, which Numba calls for :mod:`math`'s.

Each loop takes the uniforms ``uniforms[pos:]`` for the elements from ``done`` on and returns the
number of elements done and the position after their uniforms: an element that would need more
uniforms than the block holds is left undone (with the generator's cached normal as before it), for
the caller to call again with more.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..serial_samplers import STIRLING_TAILS

__all__ = ["binomial_samples", "gamma_samples", "poisson_counts"]

_OUT_OF_UNIFORMS = -1
_INT64_BOUND = 2.0**63


@njit(inline="always")
def _poisson(rate, uniforms, pos):
    """One count of ``rate`` from ``uniforms[pos:]``, and the position after its uniforms."""
    if rate >= 10:  # transformed rejection with squeeze (Hoermann, 1993)
        root, log_rate = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * root
        a = -0.059 + 0.02483 * b
        inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            if pos + 2 > uniforms.size:
                return 0.0, _OUT_OF_UNIFORMS
            u = uniforms[pos] - 0.5
            v = uniforms[pos + 1]
            pos += 2
            u_s = 0.5 - abs(u)
            if u_s == 0:  # u = -0.5: C's count is the most negative int64, refused below
                continue
            k = np.floor((2 * a / u_s + b) * u + rate + 0.43)
            if not -_INT64_BOUND <= k < _INT64_BOUND:  # C's int64 of it: x86 gives the most negative one
                k = -_INT64_BOUND
            if u_s >= 0.07 and v <= v_r:
                return k, pos
            if k < 0 or (u_s < 0.013 and v > u_s):
                continue
            if math.log(v) + math.log(inverse_alpha) - math.log(a / (u_s * u_s) + b) <= (
                -rate + k * log_rate - math.lgamma(k + 1)
            ):
                return k, pos
    if rate == 0:
        return 0.0, pos
    limit, product, count = math.exp(-rate), 1.0, 0.0
    while True:
        if pos == uniforms.size:
            return 0.0, _OUT_OF_UNIFORMS
        product *= uniforms[pos]
        pos += 1
        if product <= limit:
            return count, pos
        count += 1


@njit(nogil=True, cache=True)
def poisson_counts(rates, out, uniforms, done, pos):
    """``out[i]``: a Poisson count of float64 ``rates[i]`` (see the module's text for the other arguments)."""
    for i in range(done, rates.size):
        value, after = _poisson(rates[i], uniforms, pos)
        if after == _OUT_OF_UNIFORMS:
            return i, pos
        out[i] = value
        pos = after
    return rates.size, pos


@njit(inline="always")
def _gamma(alpha, one, third, uniforms, pos, cache):
    """One Gamma(alpha, 1) sample (float64) from ``uniforms[pos:]`` and the float64 normal cached in
    ``cache`` (``[valid, value]``), and the position after its uniforms."""
    scale = 1.0
    if alpha < one:  # boosted by a uniform's power
        if alpha == 0:
            return 0.0, pos
        if pos == uniforms.size:
            return 0.0, _OUT_OF_UNIFORMS
        scale *= (1 - uniforms[pos]) ** np.float64(one / alpha)
        pos += 1
        alpha = alpha + one
    d = np.float64(alpha - third)
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        y = 0.0
        x = 0.0
        while True:  # a normal that keeps 1 + c x positive (PyTorch's do-while: NaN leaves it)
            if cache[0] != 0:
                x = cache[1]
                cache[0] = 0.0
            else:  # a float64 Box-Muller pair, the second kept for the next normal
                if pos + 2 > uniforms.size:
                    return 0.0, _OUT_OF_UNIFORMS
                u1, u2 = uniforms[pos], uniforms[pos + 1]
                pos += 2
                radius = math.sqrt(-2.0 * math.log1p(-u2))
                cache[0], cache[1] = 1.0, radius * math.sin(2.0 * math.pi * u1)
                x = radius * math.cos(2.0 * math.pi * u1)
            y = 1.0 + c * x
            if not y <= 0:
                break
        v = y * y * y
        if pos == uniforms.size:
            return 0.0, _OUT_OF_UNIFORMS
        u = 1 - uniforms[pos]
        pos += 1
        xx = x * x
        if u < 1.0 - _SQUEEZE * xx * xx:
            return scale * d * v, pos
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v, pos


_SQUEEZE = float(np.float32(0.0331))  # PyTorch's 0.0331f


@njit(nogil=True, cache=True)
def gamma_samples(alphas, one, third, out, uniforms, done, pos, cache):
    """``out[i]`` (float64): a Gamma(alphas[i], 1) sample, ``one`` and ``third`` PyTorch's ``1`` and
    ``1.0f / 3.0f`` in ``alphas``' dtype, ``cache`` the generator's cached float64 normal as
    ``[valid, value]`` (see the module's text for the other arguments)."""
    for i in range(done, alphas.size):
        valid, cached = cache[0], cache[1]
        value, after = _gamma(alphas[i], one, third, uniforms, pos, cache)
        if after == _OUT_OF_UNIFORMS:
            cache[0], cache[1] = valid, cached
            return i, pos
        out[i] = value
        pos = after
    return alphas.size, pos


_STIRLING_TAILS = np.array(STIRLING_TAILS)  # the serial samplers' table, as an array Numba indexes


@njit(inline="always")
def _stirling_tail(k):
    """``log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(2 pi) / 2`` for float64 ``k``."""
    if k <= 9:
        return _STIRLING_TAILS[int(k)]
    square = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)


@njit(inline="always")
def _binomial_inversion(count, prob, uniforms, pos):
    """The number of geometric waits (each ``ceil(log(u) / log1p(-prob))``) that fit in ``count``."""
    log_failure = math.log1p(-prob)  # in prob's dtype, then float64
    waited, successes = 0.0, 0.0
    while True:
        if pos == uniforms.size:
            return 0.0, _OUT_OF_UNIFORMS
        waited += np.ceil(math.log(uniforms[pos]) / log_failure)  # infinite for a uniform of 0
        pos += 1
        if waited > count:
            return successes, pos
        successes += 1


@njit(inline="always")
def _btrs(count, prob, one, box, uniforms, pos):
    """Hoermann's transformed rejection with squeeze (BTRS) for ``count * prob >= 10``; ``box`` a
    one-element array of the parameters' dtype, which rounds ``k`` to it."""
    spread = np.float64(np.sqrt(count * prob * (one - prob)))
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * np.float64(prob)
    c = np.float64(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = np.float64(prob / (one - prob))
    alpha = (2.83 + 5.1 / b) * spread
    m = np.float64(np.floor((count + one) * prob))
    while True:
        if pos + 2 > uniforms.size:
            return 0.0, _OUT_OF_UNIFORMS
        u = uniforms[pos] - 0.5
        v = uniforms[pos + 1]
        pos += 2
        u_s = 0.5 - abs(u)
        if u_s == 0:  # u = -0.5: C's k is minus infinity, refused below
            continue
        box[0] = np.floor((2 * a / u_s + b) * u + c)
        k = box[0]
        if k < 0 or k > count:
            continue
        if u_s >= 0.07 and v <= v_r:
            return np.float64(k), pos
        v = math.log(v * alpha / (a / (u_s * u_s) + b))
        count_k = np.float64(count - k + one)
        bound = (
            (m + 0.5) * math.log((m + 1) / (r * (np.float64(count) - m + 1)))
            + np.float64(count + one) * math.log((np.float64(count) - m + 1) / count_k)
            + (np.float64(k) + 0.5) * math.log(r * count_k / np.float64(k + one))
            + _stirling_tail(m)
            + _stirling_tail(np.float64(count) - m)
            - _stirling_tail(np.float64(k))
            - _stirling_tail(np.float64(count - k))
        )
        if v <= bound:
            return np.float64(k), pos


@njit(inline="always")
def _binomial(count, prob, one, box, uniforms, pos):
    """One binomial sample (float64) of ``count`` trials of ``prob``, and the position after its uniforms."""
    if count <= 0 or prob <= 0:
        return 0.0, pos
    if prob >= 1:
        return np.float64(count), pos
    if count != count:  # NaN: PyTorch's inversion would never end
        return math.nan, pos
    if prob <= 0.5:
        if count * prob >= 10:
            return _btrs(count, prob, one, box, uniforms, pos)
        return _binomial_inversion(count, prob, uniforms, pos)
    if prob > 0.5:
        failure = one - prob  # exact (Sterbenz)
        if count * failure >= 10:
            value, pos = _btrs(count, failure, one, box, uniforms, pos)
        else:
            value, pos = _binomial_inversion(count, failure, uniforms, pos)
        box[0] = count - value  # count - k is exact in float64: rounded once, as in the dtype
        return np.float64(box[0]), pos
    return math.nan, pos


@njit(nogil=True, cache=True)
def binomial_samples(counts, probs, one, out, uniforms, done, pos):
    """``out[i]`` (float64): a binomial sample of ``counts[i]`` trials of ``probs[i]`` (one dtype, which
    ``one`` carries; see the module's text for the other arguments)."""
    box = np.empty(1, counts.dtype)
    for i in range(done, counts.size):
        value, after = _binomial(counts[i], probs[i], one, box, uniforms, pos)
        if after == _OUT_OF_UNIFORMS:
            return i, pos
        out[i] = value
        pos = after
    return counts.size, pos
