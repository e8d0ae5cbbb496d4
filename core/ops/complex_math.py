"""Complex formulas where PyTorch's kernels differ from the array libraries' own functions, written
once against a backend's native arrays: ``log1p`` (NumPy's is ``log(1 + z)``, which loses every digit
of the real part for small ``z``), C's product (``cpow``'s, with infinities) and the log-add-exp of ``logaddexp`` and ``logcumsumexp``, with
PyTorch's infinities and NaNs."""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

__all__ = ["from_parts", "log1p", "log_add_exp", "multiply"]


def from_parts(backend: Any, real: Any, imag: Any) -> Any:
    """The complex native array ``real + i * imag`` of two real arrays of one shape, each part kept as
    it is (``real + 1j * imag`` would turn an infinite ``imag`` into a NaN real part, and ``-0.0`` into
    ``+0.0``)."""
    xp = backend.xp
    native = backend.native_dtype(backend.ember_dtype(real.dtype).to_complex())
    return backend.view_as_complex(xp.stack([real, imag], axis=-1), native)


def log1p(backend: Any, z: Any) -> Any:
    """``log(1 + z)`` for a complex array as PyTorch's CPU kernel computes it: with ``u = 1 + z``,
    ``z`` where ``u == 1``, ``log(u)`` where ``u - 1 == z`` exactly, else ``log(u) * z / (u - 1)``,
    which restores the digits that rounding ``1 + z`` lost."""
    xp = backend.xp
    u = from_parts(backend, xp.add(xp.real(z), 1), xp.imag(z))  # the imaginary part's sign kept, as -0.0 + 0 is not
    log_u = xp.log(u)
    shifted = xp.subtract(u, 1)
    at_one = u == 1
    corrected = xp.multiply(log_u, xp.divide(z, xp.where(at_one, 1, shifted)))
    return xp.where(at_one, z, xp.where(shifted == z, log_u, corrected))


def log_add_exp(backend: Any, x: Any, y: Any) -> Any:
    """``log(exp(x) + exp(y))`` for complex arrays as PyTorch computes it (``_log_add_exp_helper``):
    ``log1p(exp(low - high)) + high`` with ``low``/``high`` the operands ordered by real part; NaN
    (both parts) if either operand has a NaN part; ``low`` where both real parts are -inf; and
    ``log(exp(x) + exp(y))`` where both are +inf."""
    xp = backend.xp
    x_low = xp.real(x) < xp.real(y)
    low, high = xp.where(x_low, x, y), xp.where(x_low, y, x)
    low_real, high_real = xp.real(low), xp.real(high)
    equal_infinities = (low_real == high_real) & ((low_real == float("inf")) | (low_real == float("-inf")))
    finite_gap = xp.where(equal_infinities, 0, xp.subtract(low, high))  # inf - inf kept out of exp
    value = xp.add(log1p(backend, xp.exp(finite_gap)), high)
    both_infinite = xp.where(low_real < 0, low, xp.log(xp.add(xp.exp(low), xp.exp(high))))
    value = xp.where(equal_infinities, both_infinite, value)
    has_nan = (x != x) | (y != y)
    return xp.where(has_nan, complex("nan+nanj"), value)


def multiply(backend: Any, x: Any, y: Any) -> Any:
    """``x * y`` for complex arrays of one dtype as C99's Annex G computes it (``__muldc3``, which C's
    ``cpow``, so PyTorch's complex pow, uses): the plain product, except where both its parts are NaN
    although an operand or a partial product is infinite; there the infinite parts count as +-1, the
    NaN parts as 0, and the product is scaled by infinity (``(inf+infj) * (-inf+0j)`` is
    ``-inf-infj``, not NaN)."""
    xp = backend.xp
    product = xp.multiply(x, y)
    lost = xp.isnan(xp.real(product)) & xp.isnan(xp.imag(product))  # (no early exit: no host sync)
    a, b, c, d = xp.real(x), xp.imag(x), xp.real(y), xp.imag(y)
    x_infinite, y_infinite = xp.isinf(a) | xp.isinf(b), xp.isinf(c) | xp.isinf(d)
    partials = (xp.multiply(a, c), xp.multiply(b, d), xp.multiply(a, d), xp.multiply(b, c))
    overflowed = functools.reduce(operator.or_, map(xp.isinf, partials)) & ~(x_infinite | y_infinite)

    def boxed(part, infinite):  # the parts of an infinite operand as +-1 (infinite) and +-0 (finite, NaN)
        signed_zero = xp.where(xp.isnan(part), 0.0, xp.multiply(0.0, part))
        return xp.where(infinite, xp.where(xp.isinf(part), xp.sign(part), signed_zero), part)

    def without_nan(part, cleared):  # the NaN parts of the other operand (both, on overflow) as 0
        return xp.where(cleared & xp.isnan(part), 0.0, part)

    a, b = (without_nan(boxed(p, x_infinite), y_infinite | overflowed) for p in (a, b))
    c, d = (without_nan(boxed(p, y_infinite), x_infinite | overflowed) for p in (c, d))
    real = xp.multiply(math.inf, xp.subtract(xp.multiply(a, c), xp.multiply(b, d)))
    imag = xp.multiply(math.inf, xp.add(xp.multiply(a, d), xp.multiply(b, c)))
    recovered = lost & (x_infinite | y_infinite | overflowed)
    return xp.where(recovered, from_parts(backend, real, imag), product)
