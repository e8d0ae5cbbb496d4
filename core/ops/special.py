"""Special functions composed from the backend primitives, so that every backend has them:
``lgamma``, ``digamma``, ``polygamma``, ``erfinv``, ``i0``.

Each value is computed in the input's floating dtype (integers in the default float type) by
a classical method: the backend's ``lgamma`` kernel (Lanczos' series with reflection by default), recurrence plus the asymptotic
series (digamma and trigamma as PyTorch's kernels compute them, and the Hurwitz zeta behind
polygamma), Giles' approximation refined by two Newton steps on ``erf`` (erfinv), the power
series and Hankel's expansion (i0). Gradients are
PyTorch's: ``digamma``, ``polygamma(n + 1)``, ``sqrt(pi)/2 * exp(erfinv(x)^2)``, ``i1``, each
itself differentiable.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import dtypes
from ..tensor import Tensor
from ..typeinfo import finfo
from .arithmetic import _unary, where
from .dtype_support import FLOATING_AND_HALF, not_implemented
from .out_argument import write_out

__all__ = ["lgamma", "digamma", "polygamma", "erfinv", "i0", "mvlgamma"]

# the Bernoulli numbers B_2k of the Euler-Maclaurin tail of the Hurwitz zeta
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
_SHIFT = 10  # terms of the zeta summed before its tail (whose error at x >= 10 is below 1e-16)
# Cephes' psi: its value at 10 and its asymptotic series in 1/x^2, highest power first
_PSI_10 = 2.25175258906672110764
_PSI_SERIES = (
    8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3, -4.16666666666666666667e-3,
    3.96825396825396825397e-3, -8.33333333333333333333e-3, 8.33333333333333333333e-2,
)  # fmt: skip


def _in_float64(compute):
    """``compute(b, x)`` carried out in float64 where the backend has it, rounded to ``x``'s type
    once: the series and recurrences lose several float32 ulps on the way, PyTorch's float32
    kernels do not (``lgamma(1)`` came out 4.8e-7 instead of 0)."""

    def run(b, x):
        if x.dtype.itemsize >= 8 or not b.supports_float64:
            return compute(b, x)
        xp = b.xp
        return xp.astype(compute(b, xp.astype(x, b.native_dtype(dtypes.float64))), x.dtype)

    return run


def _erfc(b, x):
    """``1 - erf(|x|)`` near zero; Laplace's continued fraction (30 terms, evaluated from the
    tail) where that difference would lose the digits; ``2 - erfc(-x)`` for negative x."""
    xp = b.xp
    a = xp.abs(x)
    threshold = 3.0 if x.dtype.itemsize >= 8 else 1.0
    z = xp.maximum(a, threshold)  # keeps the fraction finite where it is not used
    f = z
    for k in range(30, 0, -1):
        f = z + (0.5 * k) / f
    tail = xp.exp(-z * z) / (math.sqrt(math.pi) * f)
    positive = xp.where(a >= threshold, tail, 1 - b.erf(a))
    return xp.where(x < 0, 2 - positive, positive)


def _lgamma(b, x):
    """``log|gamma(x)|`` in ``x``'s type, by the backend's kernel (:meth:`~ember.kernels.Kernels.lgamma`)."""
    return b.kernels.lgamma(x)


def _digamma(b, x):
    """PyTorch's ``calc_digamma`` (Cephes' ``psi``) in ``x``'s type (16-bit types in float32, as its
    kernel computes them): no reflection above zero, the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to
    10, ``psi(10)`` as a constant there, else the asymptotic series; below zero ``psi(1 - x)`` less
    ``pi / tan(pi * r)`` (``r`` the fractional part, taken in float64 as PyTorch takes it). Its float32
    ``logf`` is correctly rounded, which float64's ``log`` rounded to float32 gives; NumPy's float32
    ``log`` is a unit off in one input of twenty."""
    xp = b.xp
    narrow = x.dtype
    if narrow.itemsize < 4:
        x = xp.astype(x, b.native_dtype(dtypes.float32))
    wide = b.native_dtype(dtypes.float64) if b.supports_float64 else x.dtype
    negative = x < 0
    y = xp.where(negative, 1 - x, x)
    total = xp.full(x.shape, 0.0, dtype=x.dtype)
    for _ in range(10):  # every y > 0 is at least 10 after ten steps
        small = y < 10
        total = xp.where(small, xp.subtract(total, xp.divide(1, y)), total)
        y = xp.where(small, y + 1, y)
    z = xp.divide(1, xp.multiply(y, y))
    series = xp.full(x.shape, _PSI_SERIES[0], dtype=x.dtype)
    for c in _PSI_SERIES[1:]:
        series = xp.add(xp.multiply(series, z), c)
    tail = xp.where(y < 1e17, xp.multiply(z, series), 0.0)
    log = xp.astype(xp.log(xp.astype(y, wide)), x.dtype)
    value = xp.subtract(xp.subtract(xp.add(total, log), xp.divide(0.5, y)), tail)
    value = xp.where(y == 10, xp.add(total, _PSI_10), value)
    w = xp.astype(x, wide)
    cot = xp.astype(xp.divide(math.pi, xp.tan(xp.multiply(math.pi, xp.subtract(w, xp.trunc(w))))), x.dtype)
    out = xp.where(negative, xp.subtract(value, cot), value)
    pole = xp.logical_and(negative, x == xp.trunc(x))  # the negative integers (and -inf)
    # at zero the pole's side is the zero's sign: +inf at -0.0, -inf at +0.0 (as PyTorch)
    out = xp.where(x == 0, xp.divide(-1.0, x), xp.where(pole, math.nan, out))
    return out if out.dtype == narrow else xp.astype(out, narrow)


def _hurwitz_zeta(b, s, x):
    """zeta(s, x) = sum_k (x + k)^-s for s > 1 and x > 0: the first terms, then Euler-Maclaurin. The
    arithmetic on the arrays goes through the namespace's functions, quiet where a huge ``x`` or order
    overflows (as PyTorch's zeta, which warns of nothing); an order given as a number (polygamma's) keeps
    its factors numbers."""
    xp = b.xp
    add, multiply, divide, pow = xp.add, xp.multiply, xp.divide, xp.pow
    total = xp.full(x.shape, 0.0, dtype=x.dtype)
    for k in range(_SHIFT):
        total = add(total, pow(x + k, -s))
    w = x + _SHIFT
    total = add(total, add(divide(pow(w, 1 - s), s - 1), multiply(0.5, pow(w, -s))))
    power, w2 = pow(w, -s - 1), multiply(w, w)
    number = isinstance(s, (int, float))
    factor = s / 2
    for j in range(1, len(_B2K) + 1):
        if j > 1:
            ratio = (s + 2 * j - 3) * (s + 2 * j - 2) if number else multiply(s + 2 * j - 3, s + 2 * j - 2)
            factor = (
                factor * ratio / ((2 * j - 1) * (2 * j))
                if number
                else multiply(factor, ratio / ((2 * j - 1) * (2 * j)))
            )
        total = add(total, multiply(_B2K[j - 1] * factor if number else multiply(_B2K[j - 1], factor), power))
        power = divide(power, w2)
    return total


_LOG_MAX_DOUBLE = math.log(1.7976931348623157e308)
_CEPHES_EPSILON = 2.0**-53  # Cephes' MACHEP: the relative size of a term its sums stop at


def _integer_order_zeta(b, s, x):
    """zeta(s, x) for an integer order ``s`` (a number or an array: ``n + 1`` of ``polygamma(n, x)``,
    or ``special.zeta``'s), any real ``x``: below zero the terms ``(x + k)^-s`` with ``x + k < 0`` are
    summed as ``(-1)^s (zeta(s, 1 - f) - zeta(s, 1 - x))`` with ``f = x - floor(x)``, so that every zeta
    evaluated has a positive argument; ``+inf`` at zero and the negative integers (as Cephes' zeta
    behind PyTorch's)."""
    xp = b.xp
    if isinstance(s, (int, float)):
        sign = (-1) ** int(s)
    else:
        sign = xp.where(xp.remainder(s, 2) == 0, 1.0, -1.0)
    negative = x < 0
    below = xp.floor(x)
    f = xp.subtract(x, below)  # the namespace's own calls: quiet at -inf - -inf, as PyTorch
    positive = xp.where(negative, f, x)
    one_minus_f = xp.subtract(below + 1, x)  # exact near the integer above x, where 1 - f would round
    near = _hurwitz_zeta(b, s, xp.where(negative, one_minus_f, 1.0))
    inner = xp.subtract(near, _hurwitz_zeta(b, s, xp.where(negative, 1 - x, 1.0)))
    value = xp.add(_hurwitz_zeta(b, s, positive), xp.where(negative, xp.multiply(sign, inner), 0.0))
    # Cephes' own edges: its sum starts at x^-s and stops at the first term below its precision, so that
    # for x > 0 it is x^-s itself where (x + 1)^-s is that small beside it (a huge order: inf for x < 1); and
    # where x^-s underflows every term does: it returns 0, or NaN where the factors s (s + 1)^2 ... (s + 11)^2
    # of its Euler-Maclaurin terms overflow (inf * 0); at x = inf the remainder term is 0 * inf, NaN
    order = s if not isinstance(s, (int, float)) else xp.full(x.shape, float(s), dtype=x.dtype)
    first = xp.pow(xp.where(x > 0, x, 1.0), -order)
    second = xp.pow(xp.where(x > 0, x + 1, 1.0), -order)
    value = xp.where(xp.logical_and(x > 0, xp.divide(second, first) < _CEPHES_EPSILON), first, value)
    gone = xp.logical_and(x > 0, first == 0)
    factors = xp.log(order)
    for k in range(1, 12):
        factors = factors + 2 * xp.log(order + k)
    value = xp.where(gone, xp.where(factors > _LOG_MAX_DOUBLE, math.nan, 0.0), value)
    value = xp.where(x == math.inf, math.nan, value)
    pole = xp.logical_and(x <= 0, x == xp.floor(x))
    return xp.where(pole, math.inf, value)


def _trigamma(b, x):
    """polygamma(1, x) as PyTorch's ``calc_trigamma``, in ``x``'s type (16-bit types in float32): below 1/2
    the reflection ``(pi / sin(pi x))^2 - trigamma(1 - x)`` (so the negative integers give ``sin``'s
    rounding, a large finite value, and 0 gives inf), six terms of the series, then its asymptotic
    expansion. The sine is float64's rounded to ``x``'s type, which is the C library's float32 ``sinf``
    but for one large argument in a hundred (NumPy's own float32 ``sin`` is off in one of six)."""
    xp = b.xp
    narrow = x.dtype
    if narrow.itemsize < 4:
        x = xp.astype(x, b.native_dtype(dtypes.float32))
    wide = b.native_dtype(dtypes.float64) if b.supports_float64 else x.dtype
    reflect = x < 0.5
    pi = xp.astype(xp.full((), math.pi, dtype=wide), x.dtype)  # PyTorch's pi in x's type
    sine = xp.astype(xp.sin(xp.astype(xp.multiply(pi, x), wide)), x.dtype)
    total = xp.where(reflect, xp.negative(xp.divide(xp.multiply(pi, pi), xp.multiply(sine, sine))), 0.0)
    y = xp.where(reflect, 1 - x, x)
    for _ in range(6):
        total = xp.add(total, xp.divide(1, xp.multiply(y, y)))
        y = y + 1
    ixx = xp.divide(1, xp.multiply(y, y))
    series = xp.multiply(ixx, xp.subtract(1 / 6, xp.multiply(ixx, xp.subtract(1 / 30, xp.multiply(ixx, 1 / 42)))))
    total = xp.add(total, xp.divide(xp.add(xp.add(1, xp.divide(1, xp.multiply(2, y))), series), y))
    out = xp.where(reflect, xp.negative(total), total)
    return out if out.dtype == narrow else xp.astype(out, narrow)


def _erfinv(b, x):
    xp = b.xp
    w = -xp.log((1 - x) * (1 + x))
    small, large = w - 2.5, xp.sqrt(xp.maximum(w, 5.0)) - 3
    p = xp.where(w < 5, 2.81022636e-08, xp.full(x.shape, -0.000200214257, dtype=x.dtype))
    for c_small, c_large in (
        (3.43273939e-07, 0.000100950558), (-3.5233877e-06, 0.00134934322), (-4.39150654e-06, -0.00367342844),
        (0.00021858087, 0.00573950773), (-0.00125372503, -0.0076224613), (-0.00417768164, 0.00943887047),
        (0.246640727, 1.00167406), (1.50140941, 2.83297682),
    ):  # fmt: skip
        p = xp.where(w < 5, c_small + p * small, c_large + p * large)
    inside = xp.abs(x) < 1
    y = xp.where(inside, p * x, xp.full(x.shape, 0.0, dtype=x.dtype))
    for _ in range(2):  # Newton on erf(y) = x
        y = xp.subtract(y, xp.divide(xp.subtract(b.erf(y), x), (2 / math.sqrt(math.pi)) * xp.exp(-y * y)))
    edge = xp.where(x == 1, math.inf, xp.where(x == -1, -math.inf, xp.full(x.shape, math.nan, dtype=x.dtype)))
    return xp.where(inside, y, edge)


_ERFINV_TAIL = 2e-5  # 1 - |x| below which erf's residual leaves erfinv's Newton steps short in float64


def _erfinv_float64(b, x):
    """erfinv of a float64 ``x``: :func:`_erfinv`, then, where ``1 - |x|`` is below ``_ERFINV_TAIL``,
    Newton's steps on ``log(erfc(|y|)) = log(1 - |x|)``, which keep the digits that erf's residual, near
    1, loses (``erfinv(1 - 2**-53)`` was 5.3644, PyTorch's 5.8636; ``erfinv(1 - 1e-8)`` 7e-11 off): the
    first guess is 1% off at ``1 - 1e-12``, where the logarithm's steps still converge in four."""
    xp = b.xp
    y = _erfinv(b, x)
    remainder = 1 - xp.abs(x)
    in_tail = xp.logical_and(remainder < _ERFINV_TAIL, remainder > 0)
    if b.on_host and not bool(b.to_host(xp.any(in_tail))):  # most inputs have no element there; an
        return y  # accelerator runs the steps rather than wait for the device to say so
    target = xp.log(xp.maximum(remainder, 1e-300))
    tail = xp.abs(y)
    for _ in range(4):
        t = xp.maximum(xp.where(in_tail, tail, 4.0), 3.0)  # erfc's continued fraction holds from 3
        value = _erfc(b, t)
        tail = t + (xp.log(value) - target) * value / ((2 / math.sqrt(math.pi)) * xp.exp(-t * t))
    return xp.where(in_tail, xp.where(x < 0, -tail, tail), y)


def _erfinv_any(b, x):
    """erfinv of ``x``: of float64 :func:`_erfinv_float64`; of a narrower type :func:`_erfinv` computed in
    float64 and rounded once."""
    if x.dtype.itemsize >= 8:
        return _erfinv_float64(b, x)
    return _in_float64(_erfinv)(b, x)


_I0_TERMS = 100  # the power series converges to double precision for |x| <= 40
_I0_SWITCH = 40.0


def _bessel_i(b, x, order):
    """I_order(x) (order 0 or 1): the power series for small |x|, Hankel's expansion beyond."""
    xp = b.xp
    a = xp.abs(x)
    s = xp.minimum(a, _I0_SWITCH)
    q = s * s / 4
    term = xp.full(x.shape, 1.0, dtype=x.dtype) if order == 0 else s / 2
    total = term
    for k in range(1, _I0_TERMS):
        term = term * q / (k * (k + order))
        total = total + term
    big = xp.maximum(a, _I0_SWITCH)
    mu, factor, hankel = 4.0 * order * order, xp.full(x.shape, 1.0, dtype=x.dtype), 1.0
    for k in range(1, 12):
        factor = -factor * (mu - (2 * k - 1) ** 2) / (k * 8 * big)
        hankel = hankel + factor
    asymptotic = xp.exp(big) / xp.sqrt(2 * math.pi * big) * hankel
    value = xp.where(a <= _I0_SWITCH, total, asymptotic)
    return value if order == 0 else xp.where(x < 0, -value, value)


def _not_tiny(x):
    """``|x| > eps`` (False for NaN): where PyTorch's i1/i1e gradients use their value 0.5 at 0."""
    return x.abs() > finfo(x.dtype).eps


def _polygamma_derivative(n):
    return lambda x, y: polygamma(n + 1, x)


_NO_COMPLEX = "\"{kernel}\" not implemented for '{{}}'"
lgamma: Callable[[Tensor], Tensor] = _unary(
    "lgamma", _in_float64(_lgamma), lambda x, y: digamma(x), complex_error=_NO_COMPLEX.format(kernel="lgamma_vml_cpu")
)
digamma: Callable[[Tensor], Tensor] = _unary(
    "digamma", _digamma, lambda x, y: polygamma(1, x), complex_error=_NO_COMPLEX.format(kernel="digamma")
)
erfinv: Callable[[Tensor], Tensor] = _unary(
    "erfinv",
    _erfinv_any,
    lambda x, y: (y * y).exp() * (math.sqrt(math.pi) / 2),
    saves="y",
    complex_error=_NO_COMPLEX.format(kernel="erfinv_vml_cpu"),
)
_i1: Callable[[Tensor], Tensor] = _unary(
    "i1",
    _in_float64(lambda b, x: _bessel_i(b, x, 1)),
    lambda x, y: where(_not_tiny(x), i0(x) - y / x, 0.5),
    saves="xy",
    kernel_dtypes=FLOATING_AND_HALF,
    node="SpecialI1Backward0",
)
i0: Callable[[Tensor], Tensor] = _unary(
    "i0",
    _in_float64(lambda b, x: _bessel_i(b, x, 0)),
    lambda x, y: _i1(x),
    complex_error=_NO_COMPLEX.format(kernel="i0_vml_cpu"),
)
_POLYGAMMA = {0: digamma}


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The ``n``-th derivative of the digamma function.

    .. math::
        \\psi^{(n)}(x) = (-1)^{n+1} n! \\sum_{k \\ge 0} (x + k)^{-(n+1)}, \\quad n \\ge 1

    Args:
        n (int): the order of the derivative, ``n >= 0`` (0 is :func:`digamma`).
        input (Tensor): the input tensor (positive values for ``n >= 1``).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.polygamma(1, ember.tensor([1.0, 2.0]))
        tensor([1.6449, 0.6449])
    """
    if out is not None:
        return write_out("polygamma", polygamma(n, input), out)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    op = _POLYGAMMA.get(n)
    if op is None:
        sign_factorial = (-1) ** (n + 1) * math.factorial(n)
        if n == 1:
            compute, kernel = _trigamma, "trigamma"
        else:
            compute = _in_float64(lambda b, x: sign_factorial * _integer_order_zeta(b, n + 1.0, x))
            kernel = "polygamma"
        op = _unary("polygamma", compute, _polygamma_derivative(n), complex_error=_NO_COMPLEX.format(kernel=kernel))
        _POLYGAMMA[n] = op
    return op(input)


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The logarithm of the multivariate gamma function of dimension ``p``, element-wise.

    .. math::
        out_i = \\frac{p (p - 1)}{4} \\ln \\pi + \\sum_{j=0}^{p-1} \\ln \\Gamma(input_i - j / 2)

    Args:
        input (Tensor): the input tensor (values above ``(p - 1) / 2``).
        p (int): the dimension, ``>= 1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.mvlgamma(ember.tensor([2.5, 3.0]), 2)
        tensor([0.8570, 1.5502])
    """
    if out is not None:
        return write_out("mvlgamma", mvlgamma(input, p), out)
    if input.dtype is dtypes.bool:
        raise RuntimeError("mvlgamma: The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input.dtype.is_complex:  # PyTorch's arange of the offsets in the input's type refuses it first
        not_implemented("arange_cpu", input.dtype)
    total = lgamma(input)
    for j in range(1, p):
        total = total + lgamma(input - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """``ember.polygamma(n, self)``.

    Example::

        >>> ember.tensor([1.0]).polygamma(2)
        tensor([-2.4041])
    """
    return polygamma(n, self)


lgamma.__doc__ = """Natural logarithm of the absolute value of the gamma function, element-wise.

.. math::
    out_i = \\ln |\\Gamma(input_i)|

Args:
    input (Tensor): the input tensor.

Example::

    >>> ember.lgamma(ember.tensor([0.5, 1.0, 4.0]))
    tensor([0.5724, 0.0000, 1.7918])
"""
digamma.__doc__ = """The logarithmic derivative of the gamma function, element-wise (``-inf`` at 0, NaN at the negative integers).

.. math::
    out_i = \\frac{d}{dx} \\ln \\Gamma(x) \\Big|_{x = input_i}

Args:
    input (Tensor): the input tensor.

Example::

    >>> ember.digamma(ember.tensor([1.0, 0.5]))
    tensor([-0.5772, -1.9635])
"""
erfinv.__doc__ = """The inverse of the error function, element-wise (``±inf`` at ``±1``, NaN beyond).

.. math::
    erf(out_i) = input_i

Args:
    input (Tensor): the input tensor, in [-1, 1].

Example::

    >>> ember.erfinv(ember.tensor([0.0, 0.5, -1.0]))
    tensor([0.0000, 0.4769,   -inf])
"""
i0.__doc__ = """The modified Bessel function of the first kind of order zero, element-wise.

.. math::
    out_i = \\sum_{k \\ge 0} \\frac{(input_i^2 / 4)^k}{(k!)^2}

Args:
    input (Tensor): the input tensor.

Example::

    >>> ember.i0(ember.tensor([0.0, 1.0, 2.0]))
    tensor([1.0000, 1.2661, 2.2796])
"""
