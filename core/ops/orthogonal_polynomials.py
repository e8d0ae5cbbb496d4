"""The orthogonal polynomials of ``torch.special``: Chebyshev's of the four kinds (``T``, ``U``, ``V``,
``W``) and their shifted forms on [0, 1], Hermite's (the physicists' ``H`` and the probabilists'
``He``), Laguerre's ``L`` and Legendre's ``P``, composed from the backend primitives so that every
backend has them.

Each takes ``(input, n)``, either of them a tensor or a number, promoted as PyTorch promotes them
(integers to the default floating type; float16 and bfloat16 have no kernel, as in PyTorch) and
computed in that type. The degree ``n`` is truncated to an integer; PyTorch's definitions are kept at
the edges: a negative (or non-finite) degree gives 0, the Chebyshev polynomials take their exact
values at the ends of their interval and, inside it, the trigonometric form from a degree on
(``cos(n acos x)`` for ``T`` beyond degree 6), the Hermite polynomials are NaN beyond degree 128
(float32) or 512 (float64). Below those, the three-term recurrence runs to the largest degree asked
for, which a degree tensor on a device gives with one synchronisation. There are no gradients, as
in PyTorch (the result does not require grad).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import dtypes
from ..tensor import Tensor
from .arithmetic import where
from .composite_math import _floating_pair
from .dtype_support import not_implemented
from .movement import broadcast_tensors
from .operands import is_scalar
from .out_argument import OUT_ARG, write_out

if TYPE_CHECKING:
    from ..types import Number

__all__ = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
]  # fmt: skip

#: every this many steps the recurrence stops early if all the values still running are NaN
_NAN_CHECK_EVERY = 64
#: a degree given as a number up to this is run as it is; a larger one is first checked against the
#: elements that need the recurrence (the trigonometric form may cover them all)
_NUMBER_TRUSTED_TO = 64
_INT64_END = 2.0**63
#: the degree beyond which PyTorch's Hermite polynomials are NaN, per type
_HERMITE_LIMIT = {dtypes.float32: 128, dtypes.float64: 512}


def _operands(op: str, input: Tensor | Number, n: Tensor | Number) -> tuple[Tensor, Tensor, float | None]:
    """``(x, degree, number)``: both operands detached, promoted and broadcast, the degree truncated
    to an integer (-1 where it is not finite); ``number`` is the degree when it was given as a number."""
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"{op}(): expected a Tensor as input or n, got {type(input).__name__} and {type(n).__name__}")
    x, degree = _floating_pair(op, input, n)
    if x.dtype not in _HERMITE_LIMIT:
        not_implemented(f"{op}_cpu", x.dtype)
    x, degree = broadcast_tensors(x.detach(), degree.detach())
    # PyTorch casts the degree to int64: what that cannot hold comes out negative
    degree = where(degree.abs() < _INT64_END, degree.trunc(), -1.0)
    number = None
    if is_scalar(n):
        number = float(math.trunc(n)) if abs(n) < _INT64_END else -1.0
    return x, degree, number


def _largest(degree: Tensor, running: Tensor, number: float | None) -> int:
    """The largest degree among the ``running`` elements, read from the device unless it was a small number."""
    if number is not None and number <= _NUMBER_TRUSTED_TO:
        return int(number)
    if degree.is_meta:  # no degrees to read: no step taken, which gives the result's shape and dtype all the same
        return 1
    return int(where(running, degree, 0.0).max().item()) if degree.numel() else 0


def _recurrence(
    degree: Tensor, running: Tensor, number: float | None, first: Tensor, step: Callable[[int, Tensor, Tensor], Tensor]
) -> Tensor:
    """``P_degree`` from ``P_0 = 1``, ``P_1 = first`` and ``P_k = step(k, P_{k-2}, P_{k-1})``, each
    element taking the value of its own degree (the ``running`` ones; the others get ``P_0`` or ``P_1``)."""
    result = where(degree == 0, first.new_ones(()), first)
    previous, current = first.new_ones(first.shape), first
    last = _largest(degree, running, number)
    for k in range(2, last + 1):
        previous, current = current, step(k, previous, current)
        result = where(degree == k, current, result)
        if k % _NAN_CHECK_EVERY == 0 and k < last:
            unfinished = running & (degree > k)
            if not bool((unfinished & ~current.isnan()).any()):  # NaN stays NaN up the recurrence
                return where(unfinished, current, result)
    return result


def _sign(degree: Tensor) -> Tensor:
    """``(-1) ** degree``."""
    return 1 - 2 * (degree % 2)


# -- Chebyshev --------------------------------------------------------------------------------
def _chebyshev(kind: str, y: Tensor, degree: Tensor, number: float | None, trig_from: int, shifted: bool) -> Tensor:
    """The Chebyshev polynomial of ``kind`` at ``y`` (``2 x - 1`` for the shifted ones)."""
    one, minus_one = y == 1, y == -1
    n = degree
    # the values at y = 1 and, before the sign (-1)^n, at y = -1; P_1; the trigonometric form
    theta = y.clamp(-1, 1).acos()
    if kind == "t":
        at_one, at_minus_one, first = y.new_ones(()), y.new_ones(()), y
        trig = (n * theta).cos()
    elif kind == "u":
        at_one, at_minus_one, first = n + 1, n + 1, y + y
        s = theta.sin()
        trig = where(s != 0, ((n + 1) * theta).sin() / s, (n + 1) * ((n + 1) * theta).cos() / y)
    elif kind == "v":
        at_one, at_minus_one, first = y.new_ones(()), n + n + 1, y + y - 1
        trig = where((theta / 2).sin() != 1, ((n + 0.5) * theta).cos() / (theta / 2).cos(), _sign(n) * (n + n + 1))
    else:
        at_one, at_minus_one, first = n + n + 1, y.new_ones(()), y + y + 1
        # PyTorch's fallback where cos(theta / 2) rounds to 1 (y next to 1)
        fallback = _sign(n) if shifted else where(y > 0, n + n + 1, _sign(n))
        trig = where((theta / 2).cos() != 1, ((n + 0.5) * theta).sin() / (theta / 2).sin(), fallback)
    inside = (n > trig_from) & (y.abs() < 1)
    edge = one | minus_one
    running = (n >= 2) & ~edge & ~inside
    twice = y + y
    value = _recurrence(degree, running, number, first, lambda k, p, q: twice * q - p)
    value = where(inside, trig, value)
    value = where(one, at_one, where(minus_one, _sign(n) * at_minus_one, value))
    return where(n < 0, 0.0, value)


def _chebyshev_op(kind: str, trig_from: int, shifted: bool) -> Callable[..., Tensor]:
    name = f"{'shifted_' if shifted else ''}chebyshev_polynomial_{kind}"

    def op(input: Tensor | Number, n: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(f"special_{name}", op(input, n), out)
        x, degree, number = _operands(name, input, n)
        return _chebyshev(kind, x + x - 1 if shifted else x, degree, number, trig_from, shifted)

    op.__name__ = op.__qualname__ = name
    return op


_KIND_NAMES = {"t": "first", "u": "second", "v": "third", "w": "fourth"}
_CHEBYSHEV_EXAMPLES = {  # (kind, shifted) -> the printed f(tensor([0.25, 2.0]), 3)
    ("t", False): "tensor([-0.6875, 26.0000])",
    ("u", False): "tensor([-0.8750, 56.0000])",
    ("v", False): "tensor([-0.1250, 41.0000])",
    ("w", False): "tensor([-1.6250, 71.0000])",
    ("t", True): "tensor([ 1., 99.])",
    ("u", True): "tensor([  1., 204.])",
    ("v", True): "tensor([  1., 169.])",
    ("w", True): "tensor([  1., 239.])",
}


def _chebyshev_doc(kind: str, shifted: bool) -> str:
    name = f"{'shifted_' if shifted else ''}chebyshev_polynomial_{kind}"
    where_defined = "on [0, 1], :math:`{K}^*_n(x) = {K}_n(2x - 1)`" if shifted else "on [-1, 1]"
    return (
        f"The {'shifted ' if shifted else ''}Chebyshev polynomial of the {_KIND_NAMES[kind]} kind, "
        f"{where_defined.format(K=kind.upper())}, of degree ``n``.\n\n"
        "Args:\n"
        "    input (Tensor or Number): the points ``x``.\n"
        "    n (Tensor or Number): the degrees, truncated to integers; negative ones give 0.\n"
        f"    {OUT_ARG}\n\n"
        f"Example::\n\n    >>> ember.special.{name}(ember.tensor([0.25, 2.0]), 3)\n"
        f"    {_CHEBYSHEV_EXAMPLES[kind, shifted]}\n"
    )


chebyshev_polynomial_t = _chebyshev_op("t", 6, False)
chebyshev_polynomial_u = _chebyshev_op("u", 8, False)
chebyshev_polynomial_v = _chebyshev_op("v", 8, False)
chebyshev_polynomial_w = _chebyshev_op("w", 8, False)
shifted_chebyshev_polynomial_t = _chebyshev_op("t", 6, True)
shifted_chebyshev_polynomial_u = _chebyshev_op("u", 6, True)
shifted_chebyshev_polynomial_v = _chebyshev_op("v", 6, True)
shifted_chebyshev_polynomial_w = _chebyshev_op("w", 4, True)
for _fn, _kind, _shifted in (
    (chebyshev_polynomial_t, "t", False),
    (chebyshev_polynomial_u, "u", False),
    (chebyshev_polynomial_v, "v", False),
    (chebyshev_polynomial_w, "w", False),
    (shifted_chebyshev_polynomial_t, "t", True),
    (shifted_chebyshev_polynomial_u, "u", True),
    (shifted_chebyshev_polynomial_v, "v", True),
    (shifted_chebyshev_polynomial_w, "w", True),
):
    _fn.__doc__ = _chebyshev_doc(_kind, _shifted)


# -- Hermite, Laguerre, Legendre --------------------------------------------------------------
def _hermite(op: str, input: Tensor | Number, n: Tensor | Number, physicists: bool) -> Tensor:
    x, degree, number = _operands(op, input, n)
    limit = _HERMITE_LIMIT[x.dtype]
    beyond = degree > limit
    running = (degree >= 2) & ~beyond
    if number is not None and number > limit:
        number = 0.0  # every element is NaN: no recurrence
    if physicists:  # H_k = 2x H_{k-1} - 2(k-1) H_{k-2}
        twice = x + x
        value = _recurrence(degree, running, number, twice, lambda k, p, q: twice * q - (2 * k - 2) * p)
    else:  # He_k = x He_{k-1} - (k-1) He_{k-2}
        value = _recurrence(degree, running, number, x, lambda k, p, q: x * q - (k - 1) * p)
    value = where(beyond, math.nan, value)
    return where(degree < 0, 0.0, value)


def hermite_polynomial_h(input: Tensor | Number, n: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""The physicists' Hermite polynomial :math:`H_n(x)`, of degree ``n``
    (:math:`H_{k+1} = 2x H_k - 2k H_{k-1}`); NaN beyond degree 128 in float32, 512 in float64.

    Args:
        input (Tensor or Number): the points ``x``.
        n (Tensor or Number): the degrees, truncated to integers; negative ones give 0.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.hermite_polynomial_h(ember.tensor([0.5, 2.0]), 3)
        tensor([-5., 40.])
    """
    if out is not None:
        return write_out("special_hermite_polynomial_h", hermite_polynomial_h(input, n), out)
    return _hermite("hermite_polynomial_h", input, n, physicists=True)


def hermite_polynomial_he(input: Tensor | Number, n: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""The probabilists' Hermite polynomial :math:`He_n(x)`, of degree ``n``
    (:math:`He_{k+1} = x He_k - k He_{k-1}`); NaN beyond degree 128 in float32, 512 in float64.

    Args:
        input (Tensor or Number): the points ``x``.
        n (Tensor or Number): the degrees, truncated to integers; negative ones give 0.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.hermite_polynomial_he(ember.tensor([0.5, 2.0]), 3)
        tensor([-1.3750,  2.0000])
    """
    if out is not None:
        return write_out("special_hermite_polynomial_he", hermite_polynomial_he(input, n), out)
    return _hermite("hermite_polynomial_he", input, n, physicists=False)


def laguerre_polynomial_l(input: Tensor | Number, n: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""The Laguerre polynomial :math:`L_n(x)`, of degree ``n``
    (:math:`(k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}`; 1 at ``x = 0``).

    Args:
        input (Tensor or Number): the points ``x``.
        n (Tensor or Number): the degrees, truncated to integers; negative ones give 0.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.laguerre_polynomial_l(ember.tensor([0.5, 2.0]), 3)
        tensor([-0.1458, -0.3333])
    """
    if out is not None:
        return write_out("special_laguerre_polynomial_l", laguerre_polynomial_l(input, n), out)
    x, degree, number = _operands("laguerre_polynomial_l", input, n)
    zero = x == 0
    running = (degree >= 2) & ~zero
    rest = 1 - x
    value = _recurrence(degree, running, number, rest, lambda k, p, q: ((2 * k - 2 + rest) * q - (k - 1) * p) / k)
    value = where(zero, 1.0, value)
    return where(degree < 0, 0.0, value)


def legendre_polynomial_p(input: Tensor | Number, n: Tensor | Number, *, out: Tensor | None = None) -> Tensor:
    r"""The Legendre polynomial :math:`P_n(x)`, of degree ``n``
    (:math:`(k+1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}`; :math:`(\pm 1)^n` at ``x = ±1``).

    Args:
        input (Tensor or Number): the points ``x``.
        n (Tensor or Number): the degrees, truncated to integers; negative ones give 0.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.special.legendre_polynomial_p(ember.tensor([0.5, 2.0]), 3)
        tensor([-0.4375, 17.0000])
    """
    if out is not None:
        return write_out("special_legendre_polynomial_p", legendre_polynomial_p(input, n), out)
    x, degree, number = _operands("legendre_polynomial_p", input, n)
    one, minus_one = x == 1, x == -1
    running = (degree >= 2) & ~one & ~minus_one
    value = _recurrence(degree, running, number, x, lambda k, p, q: ((2 * k - 1) * x * q - (k - 1) * p) / k)
    value = where(one, 1.0, where(minus_one, _sign(degree), value))
    return where(degree < 0, 0.0, value)
