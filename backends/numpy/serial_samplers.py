"""PyTorch's serial CPU samplers, element by element, for :class:`.cpu_generator.CpuGenerator`:
``sample_poisson``, ``sample_gamma`` and ``sample_binomial``, whose number of draws depends on the
values drawn (rejection and inversion), so that they take the stream's uniforms as PyTorch does:
in Python, where Numba does not serve (:mod:`.loops.rejection` compiles the same steps).

Each computes in the arithmetic of PyTorch's template: a float32 tensor's own parameters and their
products in float32 (with the C library's float ``log1pf`` where PyTorch calls it), the rest in
float64 with the C library's functions (Python's :mod:`math` calls them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

__all__ = ["UniformFeed", "binomial_sample", "gamma_sample", "poisson_count", "STIRLING_TAILS"]


class UniformFeed:
    """float64 uniforms of a :class:`.cpu_generator.CpuGenerator` one at a time, for a sampler whose number of draws
    depends on the values drawn: taken from blocks drawn ahead, the generator left after the ones used."""

    _BLOCK = 256

    def __init__(self, generator):
        self._generator = generator
        self._start = generator._engine.state
        self._values: list[float] = []
        self._used = 0

    def __call__(self):
        if self._used == len(self._values):
            self._values += self._generator._uniform53(self._BLOCK).tolist()
        self._used += 1
        return self._values[self._used - 1]

    def close(self):
        """Rewind the engine to the state after the uniforms used (two outputs each)."""
        self._generator._engine.state = self._start
        self._generator._words(2 * self._used)


def poisson_count(rate, uniform):
    """One Poisson count of ``rate`` as PyTorch's ``sample_poisson`` draws it from ``uniform()``."""
    if rate >= 10:  # transformed rejection with squeeze (Hoermann)
        root, log_rate = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * root
        a = -0.059 + 0.02483 * b
        inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            u_s = 0.5 - abs(u)
            if u_s == 0:  # u = -0.5: C's count is minus infinity, refused below
                continue
            x = (2 * a / u_s + b) * u + rate + 0.43
            k = math.floor(x) if -(2**63) <= x < 2**63 else -(2**63)  # C's int64 of it: x86's for those
            if u_s >= 0.07 and v <= v_r:
                return k
            if k < 0 or (u_s < 0.013 and v > u_s):
                continue
            if v > 0 and math.log(v) + math.log(inverse_alpha) - math.log(a / (u_s * u_s) + b) <= (
                -rate + k * log_rate - _LGAMMA(k + 1.0)
            ):
                return k
    if rate == 0:
        return 0
    limit, product, count = math.exp(-rate), 1.0, 0
    while True:
        product *= uniform()
        if product <= limit:
            return count
        count += 1


# Stirling's series' tail log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(2 pi) / 2 for k = 0 .. 9
STIRLING_TAILS = (
    0.0810614667953272,
    0.0413406959554092,
    0.0276779256849983,
    0.02079067210376509,
    0.0166446911898211,
    0.0138761288230707,
    0.0118967099458917,
    0.0104112652619720,
    0.00925546218271273,
    0.00833056343336287,
)


def _stirling_tail(k):
    if k <= 9:
        return STIRLING_TAILS[int(k)]
    square = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)


def _log1p_of(value, kind):
    """``log1p(value)`` as the C library computes it in ``kind`` (its float function for float32)."""
    if kind is np.float64:
        return math.log1p(value)
    return float(_LOG1PF(float(value))) if _LOG1PF is not None else float(np.float32(math.log1p(value)))


def _c_function(name, kind):
    """The C library's function ``name`` of one ``kind`` (a ctypes float type) to ``kind``, or None where
    it is not found."""
    path = ctypes.util.find_library("m")
    try:
        function = getattr(ctypes.CDLL(path), name) if path else None
    except (OSError, AttributeError):
        return None
    if function is not None:
        function.restype, function.argtypes = kind, [kind]
    return function


_LOG1PF = _c_function("log1pf", ctypes.c_float)
# Python's own lgamma rounds some arguments otherwise than the C library's, which PyTorch calls
_LGAMMA = _c_function("lgamma", ctypes.c_double) or math.lgamma


def binomial_sample(count, prob, kind, uniform):
    """One binomial sample as PyTorch's ``sample_binomial`` draws it: ``count`` and ``prob`` scalars of
    ``kind`` (float32 or float64), whose own arithmetic their products take, the rest in float64."""
    if count <= 0 or prob <= 0:
        return kind(0)
    if prob >= 1:
        return count
    if count != count:  # NaN: PyTorch's inversion would never end
        return kind(math.nan)
    if prob <= 0.5:
        if count * prob >= 10:
            return _btrs(count, prob, kind, uniform)
        return _binomial_inversion(count, prob, kind, uniform)
    if prob > 0.5:
        failure = kind(1.0 - float(prob))
        if count * failure >= 10:
            return count - _btrs(count, failure, kind, uniform)
        return count - _binomial_inversion(count, failure, kind, uniform)
    return kind(math.nan)


def _binomial_inversion(count, prob, kind, uniform):
    """The number of geometric waits (each ``ceil(log(u) / log1p(-prob))``) that fit in ``count``."""
    log_failure = _log1p_of(-prob, kind)
    waited, successes = 0.0, kind(0)
    while True:
        u = uniform()
        waited += math.ceil(math.log(u) / log_failure) if u > 0 else math.inf
        if waited > float(count):  # in float64, as C compares a double with a float
            return successes
        successes = successes + kind(1)


def _btrs(count, prob, kind, uniform):
    """Hoermann's transformed rejection with squeeze (BTRS) for ``count * prob >= 10``."""
    one = kind(1)
    spread = float(np.sqrt(count * prob * (one - prob)))
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * float(prob)
    c = float(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(prob / (one - prob))
    alpha = (2.83 + 5.1 / b) * spread
    m = float(np.floor((count + one) * prob))
    while True:
        u = uniform() - 0.5
        v = uniform()
        u_s = 0.5 - abs(u)
        if u_s == 0:  # u = -0.5: C's k is minus infinity, refused below
            continue
        k = kind(math.floor((2 * a / u_s + b) * u + c))
        if k < 0 or k > count:
            continue
        if u_s >= 0.07 and v <= v_r:
            return k
        ratio = v * alpha / (a / (u_s * u_s) + b)
        v = math.log(ratio) if ratio > 0 else -math.inf
        count_k = float(count - k + one)
        bound = (
            (m + 0.5) * math.log((m + 1) / (r * (float(count) - m + 1)))
            + float(count + one) * math.log((float(count) - m + 1) / count_k)
            + (float(k) + 0.5) * math.log(r * count_k / float(k + one))
            + _stirling_tail(m)
            + _stirling_tail(float(count) - m)
            - _stirling_tail(float(k))
            - _stirling_tail(float(count - k))
        )
        if v <= bound:
            return k


_THIRD = float(np.float32(1.0) / np.float32(3.0))  # PyTorch's 1.0f / 3.0f
_SQUEEZE = float(np.float32(0.0331))  # and its 0.0331f


def gamma_sample(alpha, kind, uniform, normal):
    """One Gamma(alpha, 1) sample as PyTorch's ``sample_gamma`` draws it: ``alpha`` a scalar of ``kind``
    (float32 or float64), whose own arithmetic the boost and ``d`` take, the rest in float64."""
    scale = 1.0
    if alpha < 1:
        if alpha == 0:
            return 0.0
        scale *= (1 - uniform()) ** float(kind(1) / alpha)
        alpha = alpha + kind(1)
    d = float(alpha - kind(_THIRD))
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = normal()
            y = 1.0 + c * x
            if not y <= 0:  # PyTorch's do-while: a NaN leaves it
                break
        v = y * y * y
        u = 1 - uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v
