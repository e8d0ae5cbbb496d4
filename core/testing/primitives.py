"""Cases for the primitive checks: each runs one primitive of :data:`ember.backend.PRIMITIVES`
on the device under test and on NumPy, over tiny arrays of several dtypes, with
broadcasting, 0-d and empty operands.

A case is ``Case(primitive, id, fn, args)``: ``fn(xp, *arrays)`` calls the primitive through
the namespace ``xp``; NumPy arrays in ``args`` are copied to the device first, strings are
dtype names (turned into the backend's native dtype), anything else is passed as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Case", "CASES", "FLOAT_DTYPES"]

FLOAT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Case:
    primitive: str
    id: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    float64: bool = False  # needs float64 on the device

    @property
    def name(self) -> str:
        return f"{self.primitive}-{self.id}"


_rng = np.random.default_rng(7)


def _a(shape: tuple[int, ...], dtype: str = "float64", low: float = -2.0, high: float = 2.0) -> np.ndarray:
    if dtype == "bool":
        return _rng.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return _rng.integers(int(low) if low > -100 else -5, int(high) + 1 if high < 100 else 6, size=shape).astype(
            dtype
        )
    return _rng.uniform(low, high, size=shape).astype(dtype)


def _nonzero(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    a = _a(shape, dtype, 1, 4)
    return a * np.where(_a(shape, "bool"), 1, -1).astype(dtype)


CASES: list[Case] = []


def _add(primitive: str, id: str, fn: Callable[..., Any], *args: Any) -> None:
    uses64 = "float64" in id or any(
        (isinstance(a, np.ndarray) and a.dtype == np.float64) or (isinstance(a, str) and a == "float64") for a in args
    )
    CASES.append(Case(primitive, id, fn, args, uses64))


# -- element-wise ------------------------------------------------------------------------
_UNARY_DOMAIN = {
    "exp": (-2, 2), "expm1": (-2, 2), "log": (0.1, 3), "log1p": (-0.5, 3), "sqrt": (0, 4),
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1, 1), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-3, 3), "floor": (-3, 3),
    "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3), "abs": (-3, 3), "sign": (-3, 3),
    "negative": (-3, 3), "isnan": (-3, 3), "isinf": (-3, 3), "isfinite": (-3, 3),
}  # fmt: skip
for _name, (_lo, _hi) in _UNARY_DOMAIN.items():
    for _dt in FLOAT_DTYPES:
        for _shape, _sid in (((2, 3), "2d"), ((), "0d"), ((0, 3), "empty")):
            _add(_name, f"{_dt}-{_sid}", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a(_shape, _dt, _lo, _hi))
for _name in ("abs", "sign", "negative", "floor", "ceil", "round", "trunc"):
    _add(_name, "int64", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((2, 3), "int64"))
for _name in ("isnan", "isinf", "isfinite"):
    _add(_name, "special", lambda xp, x, _n=_name: getattr(xp, _n)(x), np.array([np.nan, np.inf, -np.inf, 0.0, 1.5]))
_add("round", "half-to-even", lambda xp, x: xp.round(x), np.array([0.5, 1.5, 2.5, -0.5, -1.5]))
_add("logical_not", "bool", lambda xp, x: xp.logical_not(x), _a((2, 3), "bool"))

_BINARY = ("add", "subtract", "multiply", "maximum", "minimum")
_COMPARE = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
for _name in _BINARY + _COMPARE:
    for _dt in (*FLOAT_DTYPES, "int64", "int32"):
        _add(
            _name, f"{_dt}-broadcast", lambda xp, x, y, _n=_name: getattr(xp, _n)(x, y), _a((2, 3), _dt), _a((3,), _dt)
        )
    _add(
        _name, "float32-0d", lambda xp, x, y, _n=_name: getattr(xp, _n)(x, y), _a((), "float32"), _a((2, 3), "float32")
    )
    _add(
        _name,
        "float32-empty",
        lambda xp, x, y, _n=_name: getattr(xp, _n)(x, y),
        _a((0, 3), "float32"),
        _a((3,), "float32"),
    )
for _dt in FLOAT_DTYPES:
    _add("divide", f"{_dt}-broadcast", lambda xp, x, y: xp.divide(x, y), _a((2, 3), _dt), _nonzero((3,), _dt))
    _add("atan2", f"{_dt}-broadcast", lambda xp, x, y: xp.atan2(x, y), _a((2, 3), _dt), _a((1, 3), _dt))
    _add("pow", f"{_dt}-broadcast", lambda xp, x, y: xp.pow(x, y), _a((2, 3), _dt, 0.1, 3), _a((3,), _dt))
    _add("pow", f"{_dt}-0d", lambda xp, x, y: xp.pow(x, y), _a((), _dt, 0.1, 3), _a((), _dt))
for _dt in (*FLOAT_DTYPES, "int64"):
    _add("floor_divide", _dt, lambda xp, x, y: xp.floor_divide(x, y), _a((2, 3), _dt, -6, 6), _nonzero((3,), _dt))
    _add("remainder", _dt, lambda xp, x, y: xp.remainder(x, y), _a((2, 3), _dt, -6, 6), _nonzero((3,), _dt))
_add("pow", "int64", lambda xp, x, y: xp.pow(x, y), _a((2, 3), "int64"), np.array([0, 1, 2], dtype="int64"))
for _name in ("logical_and", "logical_or", "logical_xor"):
    _add(
        _name, "bool-broadcast", lambda xp, x, y, _n=_name: getattr(xp, _n)(x, y), _a((2, 3), "bool"), _a((3,), "bool")
    )
for _dt in (*FLOAT_DTYPES, "int64"):
    _add(
        "where",
        f"{_dt}-broadcast",
        lambda xp, c, x, y: xp.where(c, x, y),
        _a((2, 3), "bool"),
        _a((2, 3), _dt),
        _a((), _dt),
    )
_add("where", "empty", lambda xp, c, x, y: xp.where(c, x, y), _a((0, 2), "bool"), _a((0, 2)), _a((0, 2)))
for _dt in FLOAT_DTYPES:
    _add("add", f"{_dt}-python-scalar", lambda xp, x: xp.add(x, 2.5) * 2 - 1 / (x * x + 1), _a((2, 3), _dt))

# -- reductions and scans ------------------------------------------------------------------
for _name in ("sum", "prod", "max", "min", "mean"):
    for _dt in FLOAT_DTYPES:
        _add(_name, f"{_dt}-all", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((2, 3, 2), _dt))
        _add(_name, f"{_dt}-axis", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=1), _a((2, 3, 2), _dt))
        _add(
            _name,
            f"{_dt}-axes-keepdims",
            lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=(0, 2), keepdims=True),
            _a((2, 3, 2), _dt),
        )
        _add(_name, f"{_dt}-0d", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((), _dt))
    if _name not in ("mean",):
        _add(_name, "int64-axis", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=0), _a((3, 2), "int64"))
for _name in ("sum", "prod"):
    _add(_name, "empty", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=0), _a((0, 3)))
_add("sum", "int64-to-float32", lambda xp, x, d: xp.sum(x, axis=0, dtype=d), _a((3, 2), "int64"), "float32")
for _name in ("argmax", "argmin"):
    for _dt in (*FLOAT_DTYPES, "int64"):
        _add(_name, f"{_dt}-axis", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=1), _a((3, 4), _dt))
        _add(_name, f"{_dt}-all", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((3, 4), _dt))
    _add(_name, "keepdims", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=0, keepdims=True), _a((3, 4)))
    _add(
        _name,
        "ties-first",
        lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=-1),
        np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]]),
    )
for _name in ("any", "all"):
    _add(_name, "bool-axis", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=1), _a((3, 4), "bool"))
    _add(_name, "bool-all", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((3, 4), "bool"))
    _add(_name, "empty", lambda xp, x, _n=_name: getattr(xp, _n)(x), _a((0,), "bool"))
for _dt in (*FLOAT_DTYPES, "int64"):
    _add("cumulative_sum", f"{_dt}-axis0", lambda xp, x: xp.cumulative_sum(x, axis=0), _a((3, 2), _dt))
    _add("cumulative_sum", f"{_dt}-axis1", lambda xp, x: xp.cumulative_sum(x, axis=1), _a((3, 2), _dt))
_TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.0, 0.0, -1.0, 5.0, 0.0]])
for _name in ("sort", "argsort"):
    for _dt in (*FLOAT_DTYPES, "int64"):
        _add(_name, f"{_dt}", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=-1), _a((3, 5), _dt))
        _add(
            _name,
            f"{_dt}-descending-axis0",
            lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=0, descending=True),
            _a((3, 5), _dt),
        )
    _add(_name, "stable-ties", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=-1, stable=True), _TIES)
    _add(
        _name,
        "stable-ties-descending",
        lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=-1, descending=True, stable=True),
        _TIES,
    )
    _add(_name, "empty", lambda xp, x, _n=_name: getattr(xp, _n)(x, axis=-1), _a((0, 3)))

# -- linear algebra ----------------------------------------------------------------------
for _dt in FLOAT_DTYPES:
    _add("matmul", f"{_dt}-2d", lambda xp, x, y: xp.matmul(x, y), _a((2, 3), _dt), _a((3, 4), _dt))
    _add(
        "matmul",
        f"{_dt}-batched-broadcast",
        lambda xp, x, y: xp.matmul(x, y),
        _a((2, 1, 2, 3), _dt),
        _a((3, 3, 2), _dt),
    )
    _add("matmul", f"{_dt}-vector", lambda xp, x, y: xp.matmul(x, y), _a((3,), _dt), _a((3, 2), _dt))
    _add("matmul", f"{_dt}-empty", lambda xp, x, y: xp.matmul(x, y), _a((0, 3), _dt), _a((3, 2), _dt))
    _add("matmul", f"{_dt}-operator", lambda xp, x, y: x @ y, _a((2, 3), _dt), _a((3, 2), _dt))

# -- creation ------------------------------------------------------------------------------
for _dt in (*FLOAT_DTYPES, "int64", "int32", "bool"):
    _add("asarray", f"{_dt}-list", lambda xp, dt: xp.asarray([[1, 0, 2], [3, 4, 0]], dtype=dt), _dt)
    _add("asarray", f"{_dt}-scalar", lambda xp, dt: xp.asarray(1, dtype=dt), _dt)
    _add("zeros", _dt, lambda xp, dt: xp.zeros((2, 3), dtype=dt), _dt)
    _add("ones", _dt, lambda xp, dt: xp.ones((3,), dtype=dt), _dt)
    _add("full", _dt, lambda xp, dt: xp.full((2, 2), 1, dtype=dt), _dt)
    _add("eye", _dt, lambda xp, dt: xp.eye(3, 4, dtype=dt), _dt)
    _add("empty", _dt, lambda xp, dt: xp.zeros((2, 0), dtype=dt) + xp.empty((2, 0), dtype=dt), _dt)
_add("zeros", "0d-empty", lambda xp, dt: (xp.zeros((), dtype=dt), xp.zeros((0, 2), dtype=dt)), "float32")
_add("full", "float32-fraction", lambda xp, dt: xp.full((2,), 0.25, dtype=dt), "float32")
_add("eye", "offset", lambda xp, dt: xp.eye(3, 3, k=1, dtype=dt), "float32")
_add("asarray", "array", lambda xp, x: xp.asarray(x, dtype=x.dtype), _a((2, 2)))
for _dt in ("int64", "float32", "float64"):
    _add("arange", _dt, lambda xp, dt: xp.arange(1, 7, 2, dtype=dt), _dt)
    _add("arange", f"{_dt}-stop", lambda xp, dt: xp.arange(4, dtype=dt), _dt)
_add("arange", "empty", lambda xp, dt: xp.arange(0, dtype=dt), "int64")

# -- manipulation --------------------------------------------------------------------------
for _src, _dst in (
    ("float64", "float32"),
    ("float32", "int64"),
    ("int64", "float32"),
    ("float32", "bool"),
    ("bool", "float32"),
    ("int64", "int32"),
):
    _add("astype", f"{_src}-to-{_dst}", lambda xp, x, d: xp.astype(x, d), _a((2, 3), _src), _dst)
for _dt in (*FLOAT_DTYPES, "int64"):
    _add("reshape", _dt, lambda xp, x: xp.reshape(x, (3, -1)), _a((2, 3, 2), _dt))
    _add("permute_dims", _dt, lambda xp, x: xp.permute_dims(x, (2, 0, 1)), _a((2, 3, 2), _dt))
    _add("broadcast_to", _dt, lambda xp, x: xp.broadcast_to(x, (2, 3, 4)), _a((3, 1), _dt))
    _add("expand_dims", _dt, lambda xp, x: xp.expand_dims(x, axis=1), _a((2, 3), _dt))
    _add("squeeze", _dt, lambda xp, x: xp.squeeze(x, axis=(0, 2)), _a((1, 3, 1), _dt))
    _add("concat", f"{_dt}-axis0", lambda xp, x, y: xp.concat([x, y], axis=0), _a((2, 3), _dt), _a((1, 3), _dt))
    _add("concat", f"{_dt}-axis1", lambda xp, x, y: xp.concat((x, y), axis=1), _a((2, 3), _dt), _a((2, 1), _dt))
    _add("stack", _dt, lambda xp, x, y: xp.stack([x, y], axis=1), _a((2, 3), _dt), _a((2, 3), _dt))
    _add("flip", f"{_dt}-axis", lambda xp, x: xp.flip(x, axis=1), _a((2, 3), _dt))
    _add("flip", f"{_dt}-all", lambda xp, x: xp.flip(x), _a((2, 3), _dt))
    _add("take", _dt, lambda xp, x, i: xp.take(x, i, axis=1), _a((2, 4), _dt), np.array([3, 0, 0, 2]))
    _add(
        "take_along_axis",
        _dt,
        lambda xp, x, i: xp.take_along_axis(x, i, axis=1),
        _a((2, 4), _dt),
        np.array([[3, 0], [1, 1]]),
    )
    _add("nonzero", _dt, lambda xp, x: xp.nonzero(x), np.array([[0, 1, 0], [2, 0, 3]], dtype=_dt))
_add("reshape", "0d", lambda xp, x: xp.reshape(x, (1, 1)), _a(()))
_add("reshape", "empty", lambda xp, x: xp.reshape(x, (3, 0)), _a((0, 3)))
_add("concat", "empty", lambda xp, x, y: xp.concat([x, y], axis=0), _a((0, 3)), _a((2, 3)))
_add("take", "empty-index", lambda xp, x, i: xp.take(x, i, axis=0), _a((3, 2)), np.zeros((0,), dtype="int64"))
_add("nonzero", "bool", lambda xp, x: xp.nonzero(x), _a((3, 4), "bool"))
_add("nonzero", "none", lambda xp, x: xp.nonzero(x), np.zeros((2, 2)))

# -- the array object ------------------------------------------------------------------------
_add("array", "getitem-basic", lambda xp, x: (x[1], x[:, 1:3], x[::-1], x[None, 0, ..., 2]), _a((3, 4)))
_add("array", "getitem-int-array", lambda xp, x, i: (x[i], x[:, i]), _a((3, 3)), np.array([2, 0, 2]))
_add("array", "getitem-bool-mask", lambda xp, x, m: x[m], _a((3, 4)), _a((3, 4), "bool"))
_add("array", "setitem", lambda xp, x, y, i: _setitem(x, y, i), _a((3, 4)), _a((4,)), np.array([2, 0]))
_add(
    "array",
    "operators",
    lambda xp, x, y: (x + y, x - y, x * y, x / y, -x, abs(x), x**2, 2 - x, x < y, x >= 0.5, x == y),
    _a((2, 3)),
    _nonzero((3,), "float64"),
)
_add(
    "array",
    "int-operators",
    lambda xp, x, y: (x // y, x % y, x & y, x | y, x ^ y),
    _a((2, 3), "int64", 0, 6),
    _a((3,), "int64", 1, 3),
)
_add("array", "bool-invert", lambda xp, x: ~x, _a((2, 3), "bool"))
_add("array", "shape-ndim-dtype", lambda xp, x: xp.asarray([x.ndim, *x.shape]), _a((2, 0, 3), "float32"))


def _setitem(x: Any, y: Any, i: Any) -> Any:
    x[0] = y
    x[i, 1] = 7.0
    x[:, 3] = x[:, 0]
    x[x < 0] = 0.0
    return x
