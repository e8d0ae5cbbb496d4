"""The Bessel functions of the second kind of ``torch.special`` -- ``bessel_y0``, ``bessel_y1``, the
modified ``modified_bessel_k0``, ``modified_bessel_k1`` and their exponentially scaled forms -- and
Airy's ``airy_ai``, composed from the backend primitives so that every backend has them.

The methods: the power series (in ``log(x / 2)`` and the harmonic numbers) near 0; for ``Y``,
Neumann's sums over Miller's normalised ``J_k`` up to 25 and Hankel's expansion beyond; for ``K``,
the trapezoidal rule on ``e^x K_v(x) = int_0^inf exp(-x (cosh t - 1)) cosh(v t) dt`` (which
converges geometrically) up to 20 and the asymptotic expansion beyond; for ``Ai``, its Maclaurin
series near 0, ``Ai(x) = sqrt(x / 3) K_1/3(2/3 x^3/2) / pi`` on the right and the oscillating
asymptotic expansion on the far left. Values are computed in float64 where the backend has it and
rounded once to the input's type; PyTorch's values at the edges are kept (``Y(0) = -inf``, NaN for
negative ``x`` and, as PyTorch gives, for ``Y(inf)`` and ``Ai(inf)``; ``Ai`` is 0 beyond 103.892).
There are no gradients, as in PyTorch.
"""

from __future__ import annotations

import decimal
import math

from ..tensor import Tensor
from .arithmetic import _unary
from .out_argument import write_out
from .special import _in_float64
from .special_functions import _hankel, _miller, _no_graph

__all__ = [
    "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "airy_ai",
]  # fmt: skip

_EULER_GAMMA = 0.5772156649015329
_SERIES_TERMS = 40
_Y_SERIES_TO, _Y_MILLER_TO = 5.0, 25.0
_K_SERIES_TO, _K_QUADRATURE_TO = 2.0, 20.0
_AIRY_LEFT, _AIRY_NEAR_LEFT, _AIRY_SERIES_TO = -8.5, -1.5, 2.0
_AIRY_QUADRATURE_TO, _AIRY_ZERO_FROM = 12.0, 103.892
_AI_0 = "0.355028053887817239260063186004"  # Ai(0), to 30 digits
_AI_PRIME_0 = "0.258819403792806798405183560189"  # -Ai'(0)


def _airy_at(center: int) -> tuple[float, float]:
    """``(Ai(c), Ai'(c))`` at the integer ``c`` by the Maclaurin series in 60-digit decimals (whose terms
    cancel to about ``exp(2/3 |c|^3/2)`` times the result where ``c < 0``)."""
    with decimal.localcontext() as context:
        context.prec = 60
        x, cube = decimal.Decimal(center), decimal.Decimal(center) ** 3
        f_term, g_term = decimal.Decimal(1), x
        f, g, df, dg = f_term, g_term, decimal.Decimal(0), decimal.Decimal(1)
        for k in range(1, 80):
            f_term = f_term * cube / ((3 * k - 1) * (3 * k))
            g_term = g_term * cube / ((3 * k) * (3 * k + 1))
            f, g = f + f_term, g + g_term
            df, dg = df + 3 * k * f_term / x, dg + (3 * k + 1) * g_term / x
        c1, c2 = decimal.Decimal(_AI_0), decimal.Decimal(_AI_PRIME_0)
        return float(c1 * f - c2 * g), float(c1 * df - c2 * dg)


#: the centres of the Taylor expansions on the near left, with Ai and Ai' there
_AIRY_CENTRES = {c: _airy_at(c) for c in range(-8, -1)}

#: the trapezoidal rule's nodes t_j = j h on [0, 4.5] for e^x K_v(x), with the rule's weights
_STEP = 1 / 12
_NODES = [j * _STEP for j in range(55)]
_WEIGHTS = [_STEP / 2] + [_STEP] * 54


def _harmonic(k):
    return sum(1.0 / j for j in range(1, k + 1))


def _bessel_series(b, x, order, modified):
    """``(Z, S)`` for ``x`` near 0: ``Z = J_order(x)`` (``I_order`` if ``modified``) by its power
    series and ``S`` the same series with each term weighted by ``H_k`` (order 0) or ``H_k + H_k+1``
    (order 1), ``H_k`` the harmonic numbers."""
    xp = b.xp
    t = x * x / 4 if modified else -(x * x) / 4
    term = xp.full(x.shape, 1.0, dtype=x.dtype) if order == 0 else x / 2
    total, weighted = term, term * (0.0 if order == 0 else 1.0)  # H_0 = 0, H_0 + H_1 = 1
    for k in range(1, _SERIES_TERMS):
        term = term * t / (k * (k + order))
        total = total + term
        weighted = weighted + (_harmonic(k) + (_harmonic(k + 1) if order else 0.0)) * term
    return total, weighted


def _bessel_y(b, x, order):
    """Y_order(x) (order 0 or 1)."""
    xp = b.xp
    small = xp.minimum(xp.maximum(x, 1e-300), _Y_SERIES_TO)
    j, weighted = _bessel_series(b, small, order, modified=False)
    log_term = xp.log(small / 2) + _EULER_GAMMA
    if order == 0:
        series = (2 / math.pi) * (log_term * j - weighted)
    else:
        series = -2 / (math.pi * small) + (2 / math.pi) * log_term * j - weighted / math.pi
    middle = xp.minimum(xp.maximum(x, _Y_SERIES_TO), _Y_MILLER_TO)
    j0, j1, n0, n1 = _miller(b, middle)
    log_middle = xp.log(middle / 2) + _EULER_GAMMA
    if order == 0:  # Neumann: Y_0 = 2/pi ((log(x/2) + gamma) J_0 - 2 sum_k (-1)^k J_2k / k)
        neumann = (2 / math.pi) * (log_middle * j0 - 2 * n0)
    else:  # its derivative: Y_1 = -Y_0'
        neumann = (2 / math.pi) * (log_middle * j1 - j0 / middle + n1)
    big = xp.maximum(x, _Y_MILLER_TO)
    p, q, chi = _hankel(b, big, order)
    hankel = xp.sqrt(2 / (math.pi * big)) * (p * xp.sin(chi) + q * xp.cos(chi))
    value = xp.where(x <= _Y_SERIES_TO, series, xp.where(x <= _Y_MILLER_TO, neumann, hankel))
    value = xp.where(x == 0, -math.inf, value)
    return xp.where((x < 0) | (x == math.inf), math.nan, value)


def _scaled_bessel_k(b, x, order):
    """``e^x K_order(x)`` for ``x > 0`` (any value elsewhere)."""
    xp = b.xp
    small = xp.minimum(xp.maximum(x, 1e-300), _K_SERIES_TO)
    i, weighted = _bessel_series(b, small, order, modified=True)
    log_term = xp.log(small / 2) + _EULER_GAMMA
    if order == 0:  # K_0 = -(log(x/2) + gamma) I_0 + sum_k H_k (x^2/4)^k / k!^2
        series = weighted - log_term * i
    else:  # K_1 = 1/x + (log(x/2) + gamma) I_1 - 1/2 sum_k (H_k + H_k+1) (x/2)^(2k+1) / (k! (k+1)!)
        series = 1 / small + log_term * i - weighted / 2
    series = series * xp.exp(small)
    middle = xp.minimum(xp.maximum(x, _K_SERIES_TO), _K_QUADRATURE_TO)
    quadrature = _scaled_k_integral(b, middle, order)
    big = xp.maximum(x, _K_QUADRATURE_TO)
    mu, term, asymptotic = 4.0 * order * order, 1.0, 1.0
    for k in range(1, 30):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8 * big)
        asymptotic = asymptotic + term
    asymptotic = xp.sqrt(math.pi / (2 * big)) * asymptotic
    return xp.where(x <= _K_SERIES_TO, series, xp.where(x <= _K_QUADRATURE_TO, quadrature, asymptotic))


def _scaled_k_integral(b, z, nu):
    """``e^z K_nu(z) = int_0^inf exp(-z (cosh t - 1)) cosh(nu t) dt`` by the trapezoidal rule (z >= 1.8)."""
    xp = b.xp
    total = xp.full(z.shape, 0.0, dtype=z.dtype)
    for t, w in zip(_NODES, _WEIGHTS, strict=True):
        total = total + (w * math.cosh(nu * t)) * xp.exp(-(math.cosh(t) - 1) * z)
    return total


def _bessel_k(b, x, order, scaled):
    xp = b.xp
    value = _scaled_bessel_k(b, x, order)
    if not scaled:
        value = value * xp.exp(-xp.minimum(x, 800.0))  # K itself underflows to 0 past x = 745
    value = xp.where(x == math.inf, 0.0, xp.where(x == 0, math.inf, value))
    return xp.where(x < 0, math.nan, value)


def _airy_ai(b, x):
    xp = b.xp
    s = xp.minimum(xp.maximum(x, _AIRY_NEAR_LEFT), _AIRY_SERIES_TO)  # Maclaurin: Ai = Ai(0) f - (-Ai'(0)) g
    cube = s * s * s
    f_term, g_term = xp.full(x.shape, 1.0, dtype=x.dtype), s
    f, g = f_term, g_term
    for k in range(1, 30):
        f_term = f_term * cube / ((3 * k - 1) * (3 * k))
        g_term = g_term * cube / ((3 * k) * (3 * k + 1))
        f, g = f + f_term, g + g_term
    series = float(_AI_0) * f - float(_AI_PRIME_0) * g
    # the near left, where the series' terms cancel: Taylor's series of y'' = x y about the nearest
    # integer c, from Ai(c) and Ai'(c): a_n+2 = (c a_n + a_n-1) / ((n + 2)(n + 1))
    near = xp.minimum(xp.maximum(x, _AIRY_LEFT), _AIRY_NEAR_LEFT)
    centre = xp.round(near)
    h = near - centre
    a_prev, a_here = xp.full(x.shape, 0.0, dtype=x.dtype), xp.full(x.shape, 0.0, dtype=x.dtype)
    for c, (value, slope) in _AIRY_CENTRES.items():
        a_prev = xp.where(centre == c, value, a_prev)
        a_here = xp.where(centre == c, slope, a_here)
    taylor, power = a_prev + a_here * h, h
    a_before = xp.full(x.shape, 0.0, dtype=x.dtype)  # a_n-1, a_n, a_n+1 run as a_before, a_prev, a_here
    for n in range(0, 24):
        a_next = (centre * a_prev + a_before) / ((n + 2) * (n + 1))
        a_before, a_prev, a_here = a_prev, a_here, a_next
        power = power * h
        taylor = taylor + a_next * power
    # the right: sqrt(x / 3) K_1/3(zeta) / pi with zeta = 2/3 x^3/2
    right = xp.minimum(xp.maximum(x, _AIRY_SERIES_TO), _AIRY_QUADRATURE_TO)
    zeta = (2 / 3) * right * xp.sqrt(right)
    quadrature = xp.sqrt(right / 3) / math.pi * xp.exp(-zeta) * _scaled_k_integral(b, zeta, 1 / 3)
    # the far right and the far left: the asymptotic expansions in 1 / zeta
    far = xp.where(x < 0, xp.maximum(-x, -_AIRY_LEFT), xp.maximum(x, _AIRY_QUADRATURE_TO))
    zeta = (2 / 3) * far * xp.sqrt(far)
    u, decaying = 1.0, xp.full(x.shape, 1.0, dtype=x.dtype)
    even, odd, power = xp.full(x.shape, 1.0, dtype=x.dtype), xp.full(x.shape, 0.0, dtype=x.dtype), decaying
    for k in range(1, 25):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k)
        power = power / zeta
        decaying = decaying + ((-1) ** k * u) * power
        if k % 2 == 0:
            even = even + ((-1) ** (k // 2) * u) * power
        else:
            odd = odd + ((-1) ** (k // 2) * u) * power
    root = xp.sqrt(xp.sqrt(far))
    right_tail = xp.exp(-zeta) / (2 * math.sqrt(math.pi) * root) * decaying
    phase = zeta + math.pi / 4
    left_tail = (xp.sin(phase) * even - xp.cos(phase) * odd) / (math.sqrt(math.pi) * root)
    value = xp.where(x <= _AIRY_SERIES_TO, series, xp.where(x <= _AIRY_QUADRATURE_TO, quadrature, right_tail))
    value = xp.where(x < _AIRY_LEFT, left_tail, xp.where(x < _AIRY_NEAR_LEFT, taylor, value))
    value = xp.where(x > _AIRY_ZERO_FROM, 0.0, value)
    return xp.where(xp.abs(x) == math.inf, math.nan, value)


_y0 = _unary("bessel_y0", _in_float64(lambda b, x: _bessel_y(b, x, 0)), None)
_y1 = _unary("bessel_y1", _in_float64(lambda b, x: _bessel_y(b, x, 1)), None)
_k0 = _unary("modified_bessel_k0", _in_float64(lambda b, x: _bessel_k(b, x, 0, False)), None)
_k1 = _unary("modified_bessel_k1", _in_float64(lambda b, x: _bessel_k(b, x, 1, False)), None)
_k0e = _unary("scaled_modified_bessel_k0", _in_float64(lambda b, x: _bessel_k(b, x, 0, True)), None)
_k1e = _unary("scaled_modified_bessel_k1", _in_float64(lambda b, x: _bessel_k(b, x, 1, True)), None)
_ai = _unary("airy_ai", _in_float64(_airy_ai), None)


def bessel_y0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The Bessel function of the second kind of order 0, :math:`Y_0` (``-inf`` at 0, NaN for
    negative ``x`` and, as in PyTorch, at infinity; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.bessel_y0(ember.tensor([0.5, 1.0, 10.0]))
        tensor([-0.4445,  0.0883,  0.0557])
    """
    if out is not None:
        return write_out("special_bessel_y0", bessel_y0(input), out)
    return _y0(_no_graph("bessel_y0", input))


def bessel_y1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The Bessel function of the second kind of order 1, :math:`Y_1` (``-inf`` at 0, NaN for
    negative ``x`` and, as in PyTorch, at infinity; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.bessel_y1(ember.tensor([0.5, 1.0, 10.0]))
        tensor([-1.4715, -0.7812,  0.2490])
    """
    if out is not None:
        return write_out("special_bessel_y1", bessel_y1(input), out)
    return _y1(_no_graph("bessel_y1", input))


def modified_bessel_k0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The modified Bessel function of the second kind of order 0, :math:`K_0` (``inf`` at 0, NaN
    for negative ``x``; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.modified_bessel_k0(ember.tensor([0.5, 1.0, 10.0]))
        tensor([9.2442e-01, 4.2102e-01, 1.7780e-05])
    """
    if out is not None:
        return write_out("special_modified_bessel_k0", modified_bessel_k0(input), out)
    return _k0(_no_graph("modified_bessel_k0", input))


def modified_bessel_k1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The modified Bessel function of the second kind of order 1, :math:`K_1` (``inf`` at 0, NaN
    for negative ``x``; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.modified_bessel_k1(ember.tensor([0.5, 1.0, 10.0]))
        tensor([1.6564e+00, 6.0191e-01, 1.8649e-05])
    """
    if out is not None:
        return write_out("special_modified_bessel_k1", modified_bessel_k1(input), out)
    return _k1(_no_graph("modified_bessel_k1", input))


def scaled_modified_bessel_k0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The exponentially scaled modified Bessel function of the second kind of order 0,
    :math:`e^x K_0(x)` (without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.scaled_modified_bessel_k0(ember.tensor([0.5, 1.0, 10.0]))
        tensor([1.5241, 1.1445, 0.3916])
    """
    if out is not None:
        return write_out("special_scaled_modified_bessel_k0", scaled_modified_bessel_k0(input), out)
    return _k0e(_no_graph("scaled_modified_bessel_k0", input))


def scaled_modified_bessel_k1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The exponentially scaled modified Bessel function of the second kind of order 1,
    :math:`e^x K_1(x)` (without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.scaled_modified_bessel_k1(ember.tensor([0.5, 1.0, 10.0]))
        tensor([2.7310, 1.6362, 0.4108])
    """
    if out is not None:
        return write_out("special_scaled_modified_bessel_k1", scaled_modified_bessel_k1(input), out)
    return _k1e(_no_graph("scaled_modified_bessel_k1", input))


def airy_ai(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""Airy's function :math:`\mathrm{Ai}(x)`, the solution of :math:`y'' = x y` that decays to the right
    (0 beyond 103.892 and NaN at the infinities, as in PyTorch; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.airy_ai(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([0.2274, 0.3550, 0.0349])
    """
    if out is not None:
        return write_out("special_airy_ai", airy_ai(input), out)
    return _ai(_no_graph("airy_ai", input))
