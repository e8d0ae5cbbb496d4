"""The C library's float64 ``log``, ``log1p``, ``exp``, ``sin``, ``cos``, ``tan`` and ``erf`` over NumPy arrays.

PyTorch's scalar CPU samplers (the float64 Box-Muller, exponential, log-normal, Cauchy and geometric
samples) call the C library's functions; NumPy's own vectorized ones round a few inputs the other
way on AVX-512 machines (``log`` about one in 700, ``log1p`` about one in 13), so the ``cpu``
generator (:mod:`.cpu_generator`) takes them from here: a compiled loop where Numba serves
(:mod:`.loops.libm`), else Python's :mod:`math`, which calls the same functions element by element.
NumPy has no ``erf``: the backend's takes Python's (:func:`math.erf`) element by element, which the
compiled loop matches bit for bit at a fraction of the cost.
"""

from __future__ import annotations

import math

import numpy as np

from . import loops

__all__ = ["cos", "erf", "exp", "log", "log1p", "sin", "tan"]


def _as_in_c(scalar):
    """``scalar`` (a :mod:`math` function) returning what C returns where Python raises: an infinity
    for an overflow (``exp(1000.0)``), NumPy's answer for a pole or a domain error (``log(0.0)``)."""

    def call(value):
        try:
            return scalar(value)
        except OverflowError:
            return math.inf
        except ValueError:
            with np.errstate(all="ignore"):
                return float(getattr(np, scalar.__name__)(value))

    return call


def _apply(name, scalar, x):
    x = np.asarray(x, dtype=np.float64, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    compiled = loops.serial()  # at any size: NumPy's functions are no alternative
    if compiled is None:
        values = map(_as_in_c(scalar), x.ravel().tolist())
        return np.fromiter(values, np.float64, x.size).reshape(x.shape)
    out = np.empty_like(x)
    getattr(compiled, name)(x.reshape(-1), out.reshape(-1))
    return out


def log(x):
    """The C library's ``log`` of each element of ``x`` (float64)."""
    return _apply("c_log", math.log, x)


def log1p(x):
    """The C library's ``log1p`` of each element of ``x`` (float64)."""
    return _apply("c_log1p", math.log1p, x)


def exp(x):
    """The C library's ``exp`` of each element of ``x`` (float64)."""
    return _apply("c_exp", math.exp, x)


def sin(x):
    """The C library's ``sin`` of each element of ``x`` (float64)."""
    return _apply("c_sin", math.sin, x)


def cos(x):
    """The C library's ``cos`` of each element of ``x`` (float64)."""
    return _apply("c_cos", math.cos, x)


def tan(x):
    """The C library's ``tan`` of each element of ``x`` (float64)."""
    return _apply("c_tan", math.tan, x)


def erf(x):
    """The C library's ``erf`` of each element of ``x`` (float64)."""
    return _apply("c_erf", math.erf, x)
