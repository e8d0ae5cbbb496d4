"""The special functions of ``torch.special`` that :mod:`ember.ops.special` does not have, composed
from the backend primitives so that every backend has them: the exponentially scaled Bessel
functions ``i0e``/``i1e`` (and ``i1``), ``erfcx``, the normal distribution's ``ndtr``, ``ndtri``
and ``log_ndtr``, ``entr``, ``xlog1py``, Hurwitz's ``zeta`` and the regularized incomplete gamma
functions ``gammainc``/``gammaincc`` (PyTorch's ``igamma``/``igammac``).

Values are computed in float64 where the backend has it and rounded once to the input's type, as
:mod:`ember.ops.special` does; gradients are PyTorch's formulas, themselves differentiable.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import dtypes
from ..tensor import Tensor
from ..type_names import type_name
from .arithmetic import _Binary, _unary, where
from .comparison import _TORCH_NAMES
from .composite_math import _erfc, _floating_pair, _tensor_pair, _XLogY, erfc, xlogy_nodes
from .dtype_support import FLOATING, FLOATING_AND_HALF, not_implemented
from .movement import broadcast_tensors
from .operands import named_node, require_tensors
from .out_argument import write_out
from .special import _bessel_i, _erfinv, _i1, _in_float64, _integer_order_zeta, _lgamma, _not_tiny, i0

if TYPE_CHECKING:
    from ..types import Number

__all__ = [
    "i0e", "i1", "i1e", "erfcx", "ndtr", "ndtri", "log_ndtr", "entr", "xlog1py", "zeta", "gammainc", "gammaincc",
    "modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0", "bessel_j0", "bessel_j1",
]  # fmt: skip

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_LOG_HALF = math.log(0.5)
_SERIES_SWITCH = 40.0  # _bessel_i's switch from the power series to Hankel's expansion
_FRACTION_FROM = 3.0  # Laplace's continued fraction for erfc is used from here on
_GAMMA_TERMS = 300  # series / continued-fraction terms of the incomplete gamma functions
_TEMME_FROM = 200.0  # the incomplete gamma functions take Temme's expansion from this a on, for x in [a/2, 2a]
_TEMME_ORDERS, _TEMME_TERMS = 10, 25  # its powers of 1/a, and the Taylor terms in eta of each coefficient


def _scaled_bessel_i(b, x, order):
    """``exp(-|x|) I_order(x)``: the power series times ``exp(-|x|)`` up to |x| = 40, beyond that
    Hankel's expansion without its ``exp(|x|)`` (which overflows past |x| = 709)."""
    xp = b.xp
    a = xp.abs(x)
    small = xp.minimum(a, _SERIES_SWITCH)
    series = _bessel_i(b, small, order) * xp.exp(-small)
    big = xp.maximum(a, _SERIES_SWITCH)
    mu, factor, hankel = 4.0 * order * order, xp.full(x.shape, 1.0, dtype=x.dtype), 1.0
    for k in range(1, 12):
        factor = -factor * (mu - (2 * k - 1) ** 2) / (k * 8 * big)
        hankel = hankel + factor
    value = xp.where(a <= _SERIES_SWITCH, series, hankel / xp.sqrt(2 * math.pi * big))
    return value if order == 0 else xp.where(x < 0, -value, value)


def _laplace_fraction(xp, z):
    """``f(z) = z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))``, with ``erfc(z) = exp(-z^2) / (sqrt(pi) f(z))``
    for ``z >= 3`` (30 terms, evaluated from the tail)."""
    f = z
    for k in range(30, 0, -1):
        f = z + (0.5 * k) / f
    return f


def _erfcx(b, x):
    xp = b.xp
    z = xp.maximum(x, _FRACTION_FROM)
    tail = 1 / (_SQRT_PI * _laplace_fraction(xp, z))
    near = xp.exp(xp.minimum(x, _FRACTION_FROM) ** 2) * _erfc(b, xp.minimum(x, _FRACTION_FROM))
    return xp.where(x >= _FRACTION_FROM, tail, near)


def _ndtri(b, p):
    """``-ndtri(1 - p)`` for ``p > 1/2`` (``1 - p`` is exact there); in the lower half
    ``sqrt(2) erfinv(2p - 1)`` (below ``p = 1e-6``: ``-sqrt(-2 ln p)``, where ``2p - 1`` has lost
    the digits), refined by Newton steps on ``log_ndtr``, which keeps its relative accuracy in the tail."""
    xp = b.xp
    inside = xp.logical_and(p > 0, p < 1)
    upper = p > 0.5
    q = xp.where(inside, xp.where(upper, 1 - p, p), 0.5)
    log_q = xp.log(q)
    y = xp.where(q < 1e-6, -xp.sqrt(-2 * log_q), math.sqrt(2) * _erfinv(b, 2 * q - 1))
    for _ in range(4):
        log_cdf = _log_ndtr(b, y)
        y = y - (log_cdf - log_q) * xp.exp(log_cdf + 0.5 * y * y + 0.5 * math.log(2 * math.pi))
    edge = xp.where(p == 0, -math.inf, xp.where(p == 1, math.inf, xp.full(p.shape, math.nan, dtype=p.dtype)))
    return xp.where(inside, xp.where(upper, -y, y), edge)


def _log_ndtr(b, x):
    xp = b.xp
    t = x * _SQRT_HALF
    upper = xp.log1p(-0.5 * _erfc(b, xp.maximum(t, 0.0)))  # ndtr = 1 - erfc(t) / 2 for x > 0
    middle = xp.log(0.5 * _erfc(b, -xp.minimum(t, 0.0)))
    z = xp.maximum(-t, _FRACTION_FROM)  # the far lower tail, where erfc underflows: its logarithm
    lower = _LOG_HALF - z * z - xp.log(_SQRT_PI * _laplace_fraction(xp, z))
    return xp.where(t > 0, upper, xp.where(-t < _FRACTION_FROM, middle, lower))


def _entr(b, x):
    xp = b.xp
    positive = x > 0
    value = -x * xp.log(xp.where(positive, x, 1.0))
    value = xp.where(positive, value, xp.where(x == 0, 0.0, xp.full(x.shape, -math.inf, dtype=x.dtype)))
    return xp.where(x != x, x, value)


i0e: Callable[[Tensor], Tensor] = _unary(
    "i0e",
    _in_float64(lambda b, x: _scaled_bessel_i(b, x, 0)),
    lambda x, y: i1e(x) - x.sign() * y,
    saves="xy",
    kernel_dtypes=FLOATING_AND_HALF,
    node="SpecialI0EBackward0",
)
i1e: Callable[[Tensor], Tensor] = _unary(
    "i1e",
    _in_float64(lambda b, x: _scaled_bessel_i(b, x, 1)),
    lambda x, y: where(_not_tiny(x), i0e(x) - y * (x.sign() + 1 / x), 0.5),
    saves="xy",
    kernel_dtypes=FLOATING_AND_HALF,
    node="SpecialI1EBackward0",
)
i1: Callable[[Tensor], Tensor] = _i1
erfcx: Callable[[Tensor], Tensor] = _unary(
    "erfcx",
    _in_float64(_erfcx),
    lambda x, y: 2 * x * y - 2 / _SQRT_PI,
    saves="xy",
    kernel_dtypes=FLOATING,
    node="SpecialErfcxBackward0",
)
ndtri: Callable[[Tensor], Tensor] = _unary(
    "ndtri",
    _in_float64(_ndtri),
    lambda x, y: (0.5 * y * y).exp() * _SQRT_2PI,
    saves="y",
    kernel_dtypes=FLOATING,
    node="SpecialNdtriBackward0",
)
log_ndtr: Callable[[Tensor], Tensor] = _unary(
    "log_ndtr",
    _in_float64(_log_ndtr),
    lambda x, y: (-0.5 * x * x - y).exp() / _SQRT_2PI,
    saves="xy",
    kernel_dtypes=FLOATING,
    node="SpecialLogNdtrBackward0",
)
entr: Callable[[Tensor], Tensor] = _unary(
    "entr", _entr, lambda x, y: -(x.log() + 1), kernel_dtypes=FLOATING_AND_HALF, node="SpecialEntrBackward0"
)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The standard normal cumulative distribution function, element-wise.

    .. math::
        \text{ndtr}(x) = \frac{1}{\sqrt{2 \pi}} \int_{-\infty}^{x} e^{-t^2 / 2} dt

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.ndtr(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([0.1587, 0.5000, 0.8413])
    """
    if out is not None:
        return write_out("special_ndtr", ndtr(input), out)
    if not isinstance(input, Tensor):
        raise TypeError(f"special_ndtr(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if input.dtype.is_complex:
        not_implemented("erf_vml_cpu", input.dtype)
    x = input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())
    return erfc(x * -_SQRT_HALF) * 0.5


def xlog1py(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""``input * log1p(other)``, taken as 0 where ``input == 0`` (NaN where ``other`` is NaN).

    Args:
        input (Tensor or Number): the multiplier.
        other (Tensor or Number): the argument of ``log1p``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.xlog1py(ember.tensor([0.0, 2.0]), ember.tensor([-1.0, 1.0]))
        tensor([0.0000, 1.3863])
    """
    if out is not None:
        return write_out("special_xlog1py", xlog1py(input, other), out)
    return xlogy_nodes(_XLOG1PY_NODES, input, other).apply(*_floating_pair("xlog1py", input, other))


class _XLog1PY(_XLogY):
    _backward_name = "SpecialXlog1PyBackward0"
    log, edge = "log1p", -1


class _XLog1PYScalarSelf(_XLog1PY):
    _backward_name = "SpecialXlog1PyBackward1"


class _XLog1PYScalarOther(_XLog1PY):
    _backward_name = "SpecialXlog1PyBackward2"


_XLOG1PY_NODES = (_XLog1PY, _XLog1PYScalarSelf, _XLog1PYScalarOther)


class _InFloat64Binary(_Binary):
    """A binary op on operands of one shape whose values ``function(b, a, c)`` are computed in
    float64 where the backend has it, rounded once to the operands' type."""

    function: Any = None

    @classmethod
    def values(cls, backend, a, b):
        if a.dtype.itemsize >= 8 or not backend.supports_float64:
            return cls.function(backend, a, b)
        xp, wide = backend.xp, backend.native_dtype(dtypes.float64)
        return xp.astype(cls.function(backend, xp.astype(a, wide), xp.astype(b, wide)), a.dtype)


def _zeta(b, x, q):
    """Hurwitz's zeta, infinite at ``x = 1`` and NaN below (where its series diverges); PyTorch's (Cephes')
    values elsewhere: for ``q <= 0`` infinite at the integers and NaN unless ``x`` is an integer, and at
    ``x = inf`` the limit of ``q^-x`` (1 at ``q = 1``, ``inf`` below, NaN above)."""
    xp = b.xp
    nan = xp.full(x.shape, math.nan, dtype=x.dtype)
    order = xp.where(xp.logical_or(x == 1, x == math.inf), 2.0, x)  # x = 1 and inf are set below
    value = _integer_order_zeta(b, order, q)  # exact for an integer x, q of either sign
    # q^-x is not real (at a q that is not itself a pole, as Cephes checks the pole first)
    non_integer = xp.logical_and(xp.logical_and(q < 0, q != xp.floor(q)), order != xp.floor(order))
    value = xp.where(non_integer, nan, value)
    value = xp.where(x == math.inf, xp.where(q == 1, 1.0, xp.where(q < 1, math.inf, nan)), value)
    return xp.where(x == 1, math.inf, xp.where(x < 1, nan, value))


def _no_derivative(name: str) -> None:
    raise NotImplementedError(f"the derivative for '{name}' is not implemented.")


class _Zeta(_InFloat64Binary):
    _backward_name = "SpecialZetaBackward0"
    saves = 2
    function = staticmethod(lambda b, x, q: _zeta(b, x, q))

    @staticmethod
    def gradients(ctx, g):
        x, q, _ = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            _no_derivative("zeta")
        return None, g * -x * zeta(x + 1, q)


@functools.cache
def _temme_coefficients() -> tuple[tuple[float, ...], ...]:
    """The Taylor coefficients in eta of Temme's ``c_k(eta)`` (DLMF 8.12.8-9), derived exactly, once: with
    ``lambda - 1 = eta u(eta)`` the inverse of ``eta^2 / 2 = lambda - 1 - ln(lambda)``, ``c_0 = (1/u - 1) / eta``
    and ``c_k = (c_{k-1}' + g_k / u) / eta``, where ``g_k`` (Stirling's) is the constant that keeps ``c_k``
    regular at 0. Row k holds ``c_k``'s first ``_TEMME_TERMS`` coefficients."""
    m = _TEMME_TERMS + 2 * _TEMME_ORDERS + 1
    # the coefficients of lambda - 1 in eta, from eta (1 + mu) = mu mu' (the derivative of the definition)
    mu = [Fraction(0), Fraction(1)]
    for n in range(2, m + 1):
        mu.append((mu[n - 1] - sum((n + 1 - i) * mu[i] * mu[n + 1 - i] for i in range(2, n))) / (n + 1))
    u = mu[1:]
    inverse = [Fraction(1)]  # 1 / u
    for n in range(1, m):
        inverse.append(-sum(u[i] * inverse[n - i] for i in range(1, n + 1)))
    c = inverse[1:]
    rows = [c]
    for _ in range(1, _TEMME_ORDERS):
        derivative = [n * c[n] for n in range(1, len(c))]
        g = -derivative[0]
        c = [derivative[n] + g * inverse[n] for n in range(1, len(derivative))]
        rows.append(c)
    return tuple(tuple(float(v) for v in row[:_TEMME_TERMS]) for row in rows)


def _temme(b, a, x, upper):
    """Q(a, x) (``upper``) or P(a, x) by Temme's uniform expansion (DLMF 8.12.3-4), for large ``a`` and ``x``
    near it, where the series and the continued fraction would need thousands of terms:
    ``Q = erfc(eta sqrt(a/2)) / 2 + exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta) a^-k``."""
    xp = b.xp
    mu = (x - a) / a  # lambda - 1
    # lambda - 1 - ln(lambda) = eta^2 / 2: its series near 1, where the difference would lose the digits
    near = xp.where(xp.abs(mu) < 0.3, mu, 0.0)
    series = xp.full(x.shape, 0.0, dtype=x.dtype)
    for j in range(32, 1, -1):
        series = series * near + (-1) ** j / j
    half_square = xp.where(xp.abs(mu) < 0.3, series * near * near, mu - xp.log1p(mu))
    eta = xp.sign(mu) * xp.sqrt(2 * half_square)
    total = xp.full(x.shape, 0.0, dtype=x.dtype)
    for row in reversed(_temme_coefficients()):
        c = xp.full(x.shape, row[-1], dtype=x.dtype)
        for d in reversed(row[:-1]):
            c = c * eta + d
        total = total / a + c
    remainder = xp.exp(-a * half_square) / xp.sqrt(2 * math.pi * a) * total
    if upper:
        return 0.5 * _erfc(b, eta * xp.sqrt(a / 2)) + remainder
    return 0.5 * _erfc(b, -eta * xp.sqrt(a / 2)) - remainder


def _incomplete_gamma(b, a, x, upper):
    """P(a, x) (``upper`` False) or Q(a, x): the series of P where ``x < a + 1``, the continued
    fraction of Q (modified Lentz) elsewhere, each ``_GAMMA_TERMS`` terms long, and Temme's expansion
    for ``a >= _TEMME_FROM`` and x within a factor 2 of a (where those would need more terms); PyTorch's
    values at the edges (NaN for negative or NaN operands and for ``a = x = 0``)."""
    xp = b.xp
    both = xp.logical_and
    finite = both(both(a > 0, x > 0), both(a < math.inf, x < math.inf))
    aa, xx = xp.where(finite, a, 1.0), xp.where(finite, x, 1.0)
    series = xx < aa + 1
    xs, xc = xp.minimum(xx, aa + 1), xp.maximum(xx, aa + 1)  # each branch only sees its own range
    log_gamma = _lgamma(b, aa)
    term = 1 / aa
    total = term
    for n in range(1, _GAMMA_TERMS):
        term = term * xs / (aa + n)
        total = total + term
    lower = xp.exp(aa * xp.log(xs) - xs - log_gamma) * total
    tiny = 1e-300
    bn = xc + 1 - aa
    c = xp.full(x.shape, 1 / tiny, dtype=x.dtype)
    d = 1 / bn
    h = d
    for i in range(1, _GAMMA_TERMS):
        an = -i * (i - aa)
        bn = bn + 2
        d = 1 / xp.where(xp.abs(an * d + bn) < tiny, tiny, an * d + bn)
        c = bn + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        step = d * c
        h = h * step
    # where the terms have not converged (a in the thousands, x near a): NaN rather than a wrong value
    converged = xp.where(series, term <= 1e-15 * total, xp.abs(step - 1) <= 1e-15)
    upper_value = xp.exp(aa * xp.log(xc) - xc - log_gamma) * h
    if upper:
        value = xp.where(series, 1 - lower, upper_value)
    else:
        value = xp.where(series, lower, 1 - upper_value)
    # the edges of P in the order PyTorch's kernel checks them (the first that holds decides, even where the
    # other operand is NaN: P(inf, nan) = 0, P(nan, inf) = 1, P(nan, 0) = 0)
    nan = xp.full(x.shape, math.nan, dtype=x.dtype)
    edge = xp.where(x == math.inf, 1.0, nan)
    edge = xp.where(a == math.inf, xp.where(x == math.inf, nan, 0.0), edge)
    edge = xp.where(x == 0, 0.0, edge)
    edge = xp.where(a == 0, xp.where(x > 0, 1.0, nan), edge)
    edge = xp.where(xp.logical_or(x < 0, a < 0), nan, edge)
    value = xp.where(converged, value, xp.full(x.shape, math.nan, dtype=x.dtype))
    temme = both(aa >= _TEMME_FROM, both(xx >= 0.5 * aa, xx <= 2 * aa))
    value = xp.where(temme, _temme(b, aa, xp.where(temme, xx, aa), upper), value)
    return xp.where(finite, value, 1 - edge if upper else edge)


class _GammaInc(_InFloat64Binary):
    _backward_name = "IgammaBackward0"
    saves = 2
    upper = False
    function = staticmethod(lambda b, a, x: _incomplete_gamma(b, a, x, False))

    @classmethod
    def gradients(cls, ctx, g):
        a, x, _ = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            _no_derivative("igammac: input" if cls.upper else "igamma: input")
        density = (-x + (a - 1) * x.log() - a.lgamma()).exp()
        return None, -g * density if cls.upper else g * density


class _GammaIncC(_GammaInc):
    _backward_name = "IgammacBackward0"
    upper = True
    function = staticmethod(lambda b, a, x: _incomplete_gamma(b, a, x, True))


def _floating_binary(op: str, fn_cls: type[_Binary], input: Tensor | Number, other: Tensor | Number) -> Tensor:
    a, b = _tensor_pair(op, input, other)
    if not a.dtype.is_floating_point:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{_TORCH_NAMES[a.dtype.name]}'")
    return fn_cls.apply(*broadcast_tensors(a, b))


def zeta(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""The Hurwitz zeta function, element-wise (Riemann's for ``other = 1``).

    .. math::
        \zeta(x, q) = \sum_{k=0}^{\infty} \frac{1}{(k + q)^x}

    Infinite at ``x = 1``, NaN for ``x < 1``; the gradient flows to ``other`` only (PyTorch has
    none for ``input``).

    Args:
        input (Tensor or Number): the exponent ``x``.
        other (Tensor or Number): the offset ``q``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.zeta(ember.tensor([2.0, 4.0]), 1.0)
        tensor([1.6449, 1.0823])
    """
    if out is not None:
        return write_out("special_zeta", zeta(input, other), out)
    x, q = _floating_pair("zeta", input, other)
    if x.dtype in dtypes.narrow_float or x.dtype.is_complex:  # PyTorch's CPU kernel: float32 and float64
        not_implemented("zeta_cpu", x.dtype)
    result = _Zeta.apply(*broadcast_tensors(x, q))
    return result if isinstance(input, Tensor) else named_node(result, "SpecialZetaBackward1")  # a number input


def gammainc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The regularized lower incomplete gamma function, element-wise.

    .. math::
        P(a, x) = \frac{1}{\Gamma(a)} \int_0^x t^{a - 1} e^{-t} dt

    Computed by its power series where ``x < a + 1`` and by the continued fraction of ``1 - P``
    elsewhere, 300 terms each, with no host synchronisation: exact to rounding for ``a`` up to
    about 1000; NaN where those terms do not converge (``a`` in the thousands with ``x`` within a
    few percent of ``a``, where PyTorch switches to Temme's asymptotic expansion). The gradient
    flows to ``other`` only (PyTorch has none for ``input``).

    Args:
        input (Tensor): the non-negative parameter ``a``.
        other (Tensor): the non-negative argument ``x``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.gammainc(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
        tensor([0.6321, 0.2642])
    """
    if out is not None:
        return write_out("special_gammainc", gammainc(input, other), out)
    return _floating_binary("igamma", _GammaInc, input, other)


def gammaincc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The regularized upper incomplete gamma function, ``1 - gammainc(input, other)``, element-wise.

    .. math::
        Q(a, x) = \frac{1}{\Gamma(a)} \int_x^\infty t^{a - 1} e^{-t} dt

    Computed as :func:`gammainc` is (exact to rounding for ``a`` up to about 1000, NaN where its
    300 terms do not converge).

    Args:
        input (Tensor): the non-negative parameter ``a``.
        other (Tensor): the non-negative argument ``x``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.gammaincc(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
        tensor([0.3679, 0.7358])
    """
    if out is not None:
        return write_out("special_gammaincc", gammaincc(input, other), out)
    return _floating_binary("igammac", _GammaIncC, input, other)


_UNARY_DOCS = {
    i0e: ("The exponentially scaled modified Bessel function of the first kind of order 0, ``exp(-|x|) I0(x)``.",
          "[0.0, 1.0, 2.0]", "tensor([1.0000, 0.4658, 0.3085])"),
    i1: ("The modified Bessel function of the first kind of order 1.", "[0.0, 1.0, 2.0]", "tensor([0.0000, 0.5652, 1.5906])"),
    i1e: ("The exponentially scaled modified Bessel function of the first kind of order 1, ``exp(-|x|) I1(x)``.",
          "[0.0, 1.0, 2.0]", "tensor([0.0000, 0.2079, 0.2153])"),
    erfcx: ("The scaled complementary error function, ``exp(x^2) erfc(x)``, accurate where ``erfc`` underflows.",
            "[0.0, 1.0, 30.0]", "tensor([1.0000, 0.4276, 0.0188])"),
    ndtri: ("The inverse of :func:`ndtr`: the ``x`` with ``ndtr(x) = p``, for ``p`` in [0, 1].",
            "[0.1, 0.5, 0.9]", "tensor([-1.2816,  0.0000,  1.2816])"),
    log_ndtr: ("The logarithm of :func:`ndtr`, accurate far in the lower tail where ``ndtr`` underflows.",
               "[-40.0, 0.0, 1.0]", "tensor([-804.6084,   -0.6931,   -0.1728])"),
    entr: ("The entropy term ``-x ln(x)`` element-wise: 0 at ``x = 0``, ``-inf`` for ``x < 0``.",
           "[0.0, 0.5, 2.0]", "tensor([ 0.0000,  0.3466, -1.3863])"),
}  # fmt: skip
for _fn, (_summary, _values, _output) in _UNARY_DOCS.items():
    _fn.__doc__ = (
        f"{_summary}\n\nArgs:\n    input (Tensor): the input tensor.\n\nExample::\n\n"
        f"    >>> ember.special.{_fn.__name__}(ember.tensor({_values}))\n    {_output}\n"
    )


def igamma(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""PyTorch's top-level name of :func:`ember.special.gammainc`.

    Args:
        input (Tensor): the non-negative parameter ``a``.
        other (Tensor): the non-negative argument ``x``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.igamma(ember.tensor([1.0]), ember.tensor([1.0]))
        tensor([0.6321])
    """
    require_tensors("igamma", ("input", "other"), input, other)
    if out is not None:
        return write_out("igamma", igamma(input, other), out)
    return gammainc(input, other)


def igammac(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""PyTorch's top-level name of :func:`ember.special.gammaincc`.

    Args:
        input (Tensor): the non-negative parameter ``a``.
        other (Tensor): the non-negative argument ``x``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.igammac(ember.tensor([1.0]), ember.tensor([1.0]))
        tensor([0.3679])
    """
    require_tensors("igammac", ("input", "other"), input, other)
    if out is not None:
        return write_out("igammac", igammac(input, other), out)
    return gammaincc(input, other)


def _no_graph(op: str, input: Tensor) -> Tensor:
    """``input`` as PyTorch's non-differentiable special functions take it: detached, integers in the
    default floating type; their ``{op}_cpu`` kernels have float32 and float64 only."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type_name(input)}")
    x = input.detach()
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(dtypes.get_default_dtype())
    if x.dtype not in FLOATING:
        not_implemented(f"{op}_cpu", x.dtype)
    return x


def modified_bessel_i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The modified Bessel function of the first kind of order 0, :math:`I_0` (as
    :func:`ember.i0`, without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.modified_bessel_i0(ember.tensor([0.0, 1.0]))
        tensor([1.0000, 1.2661])
    """
    if out is not None:
        return write_out("special_modified_bessel_i0", modified_bessel_i0(input), out)
    return i0(_no_graph("modified_bessel_i0", input))


def modified_bessel_i1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The modified Bessel function of the first kind of order 1, :math:`I_1` (as
    :func:`ember.special.i1`, without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.modified_bessel_i1(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.5652])
    """
    if out is not None:
        return write_out("special_modified_bessel_i1", modified_bessel_i1(input), out)
    return i1(_no_graph("modified_bessel_i1", input))


def spherical_bessel_j0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The spherical Bessel function of the first kind of order 0, :math:`\sin(x) / x` (1 at 0, 0 at
    infinity as in PyTorch; without a gradient, as in PyTorch).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.spherical_bessel_j0(ember.tensor([0.0, 1.0]))
        tensor([1.0000, 0.8415])
    """
    if out is not None:
        return write_out("special_spherical_bessel_j0", spherical_bessel_j0(input), out)
    x = _no_graph("spherical_bessel_j0", input)
    zero = x == 0
    value = where(zero, x * 0 + 1, x.sin() / where(zero, x * 0 + 1, x))
    return where(x.isinf(), value.new_zeros(()), value)  # sin(inf) is NaN; the limit is 0


_J_SERIES_TO, _J_MILLER_TO, _J_MILLER_START = 8.0, 25.0, 80


def _bessel_j(b, x, order):
    """J_order(x) (order 0 or 1): the power series up to |x| = 8, Miller's backward recurrence
    (normalised by J_0 + 2 (J_2 + J_4 + ...) = 1) up to 25, Hankel's expansion beyond."""
    xp = b.xp
    a = xp.abs(x)
    s = xp.minimum(a, _J_SERIES_TO)
    q = -(s * s) / 4
    term = xp.full(x.shape, 1.0, dtype=x.dtype) if order == 0 else s / 2
    series = term
    for k in range(1, 40):
        term = term * q / (k * (k + order))
        series = series + term
    miller = _miller(b, xp.minimum(xp.maximum(a, _J_SERIES_TO), _J_MILLER_TO))[order]
    big = xp.maximum(a, _J_MILLER_TO)
    p, q_sum, chi = _hankel(b, big, order)
    hankel = xp.sqrt(2 / (math.pi * big)) * (p * xp.cos(chi) - q_sum * xp.sin(chi))
    value = xp.where(a <= _J_SERIES_TO, series, xp.where(a <= _J_MILLER_TO, miller, hankel))
    value = value if order == 0 else xp.where(x < 0, -value, value)
    return xp.where(a == math.inf, 0.0, value)


def _miller(b, m):
    """``(J_0, J_1, N_0, N_1)`` at ``m`` (from about 5 to 25) by Miller's backward recurrence from
    degree 80, normalised by ``J_0 + 2 (J_2 + J_4 + ...) = 1``, with Neumann's sums for the second
    kind: ``N_0 = sum_k (-1)^k J_2k / k`` and ``N_1 = sum_k (-1)^k (J_2k-1 - J_2k+1) / k``."""
    xp = b.xp
    zero = xp.full(m.shape, 0.0, dtype=m.dtype)
    above, here = zero, xp.full(m.shape, 1e-30, dtype=m.dtype)
    norm, j1, n0, n1 = zero, here, zero, zero
    for k in range(_J_MILLER_START, 0, -1):  # J_{k-1} = (2k / m) J_k - J_{k+1}
        above, here = here, (2 * k / m) * here - above
        i = k - 1
        if i == 1:
            j1 = here
        if i > 0 and i % 2 == 0:
            norm = norm + 2 * here
            n0 = n0 + ((-1) ** (i // 2) / (i // 2)) * here
        if i % 2 == 1:  # J_i enters N_1 from the terms k = (i + 1) / 2 and, past J_1, k = (i - 1) / 2
            half = (i - 1) // 2
            n1 = n1 + ((-1) ** (half + 1) * (1 / (half + 1) + (1 / half if half else 0.0))) * here
        if i % 16 == 0:  # the values grow by up to 1e88 on the way down: rescaled, float32 holds them
            scale = 1 / xp.maximum(xp.abs(here), 1e-30)
            above, here, norm, j1, n0, n1 = (
                above * scale,
                here * scale,
                norm * scale,
                j1 * scale,
                n0 * scale,
                n1 * scale,
            )
    norm = norm + here
    return here / norm, j1 / norm, n0 / norm, n1 / norm


def _hankel(b, big, order):
    """``(P, Q, chi)`` of Hankel's expansion at ``big`` (25 and beyond): ``J = sqrt(2 / (pi x))
    (P cos(chi) - Q sin(chi))`` and ``Y = sqrt(2 / (pi x)) (P sin(chi) + Q cos(chi))``."""
    xp = b.xp
    mu = 4.0 * order * order
    p, q_sum, t = xp.full(big.shape, 1.0, dtype=big.dtype), xp.full(big.shape, 0.0, dtype=big.dtype), 1.0
    for k in range(1, 30):
        t = t * (mu - (2 * k - 1) ** 2) / (k * 8 * big)
        signed = t if (k // 2) % 2 == 0 else -t
        if k % 2:
            q_sum = q_sum + signed
        else:
            p = p + signed
    return p, q_sum, big - (order / 2 + 0.25) * math.pi


_bessel_j0 = _unary("bessel_j0", _in_float64(lambda b, x: _bessel_j(b, x, 0)), None)
_bessel_j1 = _unary("bessel_j1", _in_float64(lambda b, x: _bessel_j(b, x, 1)), None)


def bessel_j0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The Bessel function of the first kind of order 0, :math:`J_0` (without a gradient, as in
    PyTorch; 0 at infinity, its limit, where PyTorch gives NaN).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.bessel_j0(ember.tensor([0.0, 1.0, 10.0]))
        tensor([ 1.0000,  0.7652, -0.2459])
    """
    if out is not None:
        return write_out("special_bessel_j0", bessel_j0(input), out)
    return _bessel_j0(_no_graph("bessel_j0", input))


def bessel_j1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The Bessel function of the first kind of order 1, :math:`J_1` (without a gradient, as in
    PyTorch; 0 at infinity, its limit, where PyTorch gives NaN).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.bessel_j1(ember.tensor([0.0, 1.0, 10.0]))
        tensor([0.0000, 0.4401, 0.0435])
    """
    if out is not None:
        return write_out("special_bessel_j1", bessel_j1(input), out)
    return _bessel_j1(_no_graph("bessel_j1", input))
